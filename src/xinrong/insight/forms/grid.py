"""Forms of the 甘霖 grid programme: the phone form of a visit, the area picker, the file."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.models import User
from xinrong.accounts.permissions import region_prefix_for
from xinrong.common.forms import DateInput
from xinrong.insight.models import GridVisit, RefusalReason, VisitResult
from xinrong.insight.services.grid import VisitIn, visit_errors
from xinrong.reference import divisions

YES, NO = "yes", "no"
COUNTY_LEVEL = 3


def area_choices(user: User) -> list[tuple[str, str]]:
    """The counties (区/县) the officer may work in: its region's, or the whole province's."""
    prefix = region_prefix_for(user) or ""
    return [
        (code, name)
        for code, name in divisions.region_choices()
        if divisions.level_of(code) == COUNTY_LEVEL and code.startswith(prefix)
    ]


def default_area(user: User) -> str:
    """The county of the officer's last visit, else its organisation's region, else the first."""
    last = (
        GridVisit.objects.filter(officer=user)
        .order_by("-visited_on", "-id")
        .values_list("division_code", flat=True)
        .first()
    )
    if last:
        return str(last)[:6]
    region = user.organisation.region_code if user.organisation else ""
    if region and (divisions.level_of(region) or 0) >= COUNTY_LEVEL:
        return region[:6]
    choices = area_choices(user)
    return choices[0][0] if choices else ""


def community_choices(area: str) -> list[tuple[str, Any]]:
    """The communities and villages of a county, grouped by township (街道/乡镇)."""
    groups: list[tuple[str, Any]] = [("", _("请选择社区/村"))]
    for township in divisions.children(area):
        villages = [(v.code, v.name) for v in divisions.children(township.code)]
        if villages:
            groups.append((township.name, villages))
    return groups


class AreaForm(forms.Form):
    """Switch the county whose communities the visit form offers."""

    area = forms.ChoiceField(label=_("所在区县"), choices=())

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].choices = area_choices(user)  # type: ignore[attr-defined]


class VisitForm(forms.Form):
    """One door-to-door visit, as the officer records it on the doorstep."""

    visited_on = forms.DateField(label=_("走访日期"), widget=DateInput())
    merchant_name = forms.CharField(label=_("商户名称"), max_length=200, required=False)
    uscc = forms.CharField(
        label=_("统一社会信用代码"),
        max_length=20,
        required=False,
        help_text=_("知道就填（见营业执照），不知道可以空着"),
    )
    division_code = forms.ChoiceField(label=_("社区/村"), choices=(), required=False)
    address = forms.CharField(
        label=_("详细地址"),
        max_length=255,
        required=False,
        help_text=_("街道门牌、市场摊位号等"),
    )
    result = forms.ChoiceField(
        label=_("走访结果"),
        choices=VisitResult.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    consent = forms.ChoiceField(
        label=_("同意建立信用档案"),
        choices=[(YES, _("同意")), (NO, _("不同意"))],
        widget=forms.RadioSelect,
        required=False,
        initial=NO,
    )
    refusal_reason = forms.ChoiceField(
        label=_("未建档原因"),
        help_text=_("拒绝或未遇到时必选"),
        choices=RefusalReason.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    refusal_note = forms.CharField(
        label=_("原因说明"), help_text=_("选“其他”时必填"), max_length=200, required=False
    )

    def __init__(self, *args: Any, area: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["division_code"].choices = community_choices(area)  # type: ignore[attr-defined]
        self.fields["visited_on"].initial = timezone.localdate()
        self.fields["visited_on"].error_messages["required"] = _("走访日期：必填")

    def visit_in(self) -> VisitIn:
        """The cleaned data as the service's input."""
        d = self.cleaned_data
        return VisitIn(
            visited_on=d.get("visited_on") or timezone.localdate(),
            merchant_name=d.get("merchant_name", ""),
            uscc=d.get("uscc", ""),
            division_code=d.get("division_code", ""),
            address=d.get("address", ""),
            result=d.get("result", ""),
            consent=d.get("consent") == YES,
            refusal_reason=d.get("refusal_reason", ""),
            refusal_note=d.get("refusal_note", ""),
        )

    def clean(self) -> dict[str, Any]:
        """Report every broken rule of the visit at once, with the date's own error."""
        data = super().clean() or {}
        if isinstance(data.get("visited_on"), dt.date):
            errors, _code = visit_errors(self.visit_in(), timezone.localdate())
        else:
            errors, _code = visit_errors(
                self.visit_in(), dt.date.max
            )  # the date has its own error already
        for name, messages in errors.items():
            for message in messages:
                self.add_error(name, message)
        return data


class FileBuildForm(forms.Form):
    """Build the merchant's credit file: the USCC from the business licence."""

    uscc = forms.CharField(
        label=_("统一社会信用代码"),
        max_length=20,
        required=False,
        help_text=_("见营业执照；已在平台登记的主体直接关联，未登记的登记为个体工商户"),
    )
