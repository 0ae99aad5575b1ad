"""Forms of the risk fund: claims and recoveries (the services check everything again)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from xinrong.common.forms import DateInput
from xinrong.credit.forms import EVIDENCE_HELP, MultipleFileField


class ClaimForm(forms.Form):
    loss_principal = forms.CharField(
        label=_("本金损失（元）"),
        required=False,
        help_text=_("不超过贷款余额；最多两位小数"),
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    loss_interest = forms.CharField(
        label=_("利息损失（元）"),
        required=False,
        help_text=_("规则补偿利息时填写，否则留空"),
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    note = forms.CharField(
        label=_("申请说明"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("违约经过、催收与诉讼情况"),
    )
    evidence = MultipleFileField(label=_("证明材料"), required=False, help_text=EVIDENCE_HELP)


class DecideForm(forms.Form):
    note = forms.CharField(
        label=_("审批意见"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("不同意时必须写明理由"),
    )


class NoteForm(forms.Form):
    note = forms.CharField(label=_("说明"), max_length=300, required=False)


class RecoveryForm(forms.Form):
    amount = forms.CharField(
        label=_("追回金额（元）"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    recovered_on = forms.CharField(label=_("追回日期"), required=False, widget=DateInput())
    note = forms.CharField(
        label=_("追偿说明"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("如：法院执行款、抵押物处置、借款人还款"),
    )
