"""Forms of guarantors' 代偿, its reversal and the guarantor's recoveries.

Every field is read as text and checked by the service, so that every wrong field is named at
once (a form-level date parse would hide the amount's error behind the date's).
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from xinrong.common.forms import DateInput


class PayoutForm(forms.Form):
    amount = forms.CharField(
        label=_("代偿金额（元）"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    paid_on = forms.CharField(label=_("代偿日期"), required=False, widget=DateInput())
    note = forms.CharField(
        label=_("说明"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("如代偿凭证号、资金划付方式"),
    )


class PayoutReverseForm(forms.Form):
    note = forms.CharField(
        label=_("冲销原因"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("如金额登记错误、重复登记；原记录保留，标为已冲销"),
    )


class RecoveryForm(forms.Form):
    amount = forms.CharField(
        label=_("追回金额（元）"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    recovered_on = forms.CharField(label=_("追回日期"), required=False, widget=DateInput())
    note = forms.CharField(
        label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
