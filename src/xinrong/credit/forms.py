"""Forms of the enterprise's authorisation page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.choices import INSTITUTION_KINDS
from xinrong.accounts.models import Organisation
from xinrong.credit.choices import Purpose, Scope
from xinrong.datahub.categories import CATEGORY_CHOICES


class AuthorisationForm(forms.Form):
    """Grant an institution access to the archive."""

    institution = forms.ModelChoiceField(
        label=_("被授权机构"),
        queryset=Organisation.objects.filter(kind__in=INSTITUTION_KINDS, is_active=True),
    )
    scope = forms.ChoiceField(label=_("授权范围"), choices=Scope.choices)
    categories = forms.MultipleChoiceField(
        label=_("指定类别（授权范围为“指定类别”时填写）"),
        choices=CATEGORY_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    purpose = forms.ChoiceField(label=_("查询用途"), choices=Purpose.choices)
    purpose_note = forms.CharField(label=_("用途说明"), max_length=200, required=False)
    expires_on = forms.DateField(
        label=_("有效期至"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("最长一年，可随时撤销"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["expires_on"].initial = timezone.localdate() + dt.timedelta(days=90)
