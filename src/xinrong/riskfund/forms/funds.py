"""Forms of the fund pages: they parse input; the services (``services.funds``) decide."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.choices import OrgKind
from xinrong.accounts.models import Organisation
from xinrong.accounts.permissions import FINANCE_MARK
from xinrong.common.forms import DateInput
from xinrong.riskfund.choices import FundLevel
from xinrong.riskfund.services.funds import ADJUST_IN, ADJUST_OUT, MEMO_MAX, VOUCHER_MAX

DATE_INVALID = _("请输入有效日期，如 2026-01-31")


def _region_choices() -> list[tuple[str, str]]:
    from xinrong.reference.divisions import region_choices

    return [("", str(_("请选择"))), *region_choices()]


class FundForm(forms.Form):
    """An operator administrator sets up a fund."""

    code = forms.CharField(
        label=_("基金代码"),
        max_length=40,
        help_text=_("小写字母、数字和短横线（如地名的拼音）；用于网址，设立后不能修改"),
    )
    name = forms.CharField(label=_("基金名称"), max_length=100)
    level = forms.ChoiceField(label=_("级别"), choices=[("", _("请选择")), *FundLevel.choices])
    division_code = forms.ChoiceField(
        label=_("覆盖区域"),
        choices=_region_choices,
        help_text=_("借款企业住所在此区域内的平台贷款由本基金补偿；省级基金选择青海省"),
    )
    manager = forms.ModelChoiceField(
        label=_("管理部门（财政）"),
        queryset=Organisation.objects.none(),
        empty_label=_("请选择"),
        help_text=_("负责注资和补偿审批的财政部门"),
    )
    office = forms.ModelChoiceField(
        label=_("受理机构（平台运营方）"),
        queryset=Organisation.objects.none(),
        empty_label=_("请选择"),
        help_text=_("受理补偿申请、确认追偿的平台运营方或子站"),
    )
    yearly_injection = forms.DecimalField(
        label=_("年度计划注资（元）"), min_value=0, required=False, max_digits=16, decimal_places=2
    )
    opened_on = forms.DateField(
        label=_("设立日期"), widget=DateInput(), error_messages={"invalid": DATE_INVALID}
    )
    description = forms.CharField(
        label=_("说明"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.fields["manager"]
        office = self.fields["office"]
        assert isinstance(manager, forms.ModelChoiceField)
        assert isinstance(office, forms.ModelChoiceField)
        manager.queryset = Organisation.objects.filter(
            kind=OrgKind.GOVERNMENT, name__contains=FINANCE_MARK
        ).order_by("region_code", "name")
        office.queryset = Organisation.objects.filter(
            kind__in=(OrgKind.OPERATOR, OrgKind.SUBSTATION)
        ).order_by("kind", "region_code", "name")


class InjectionForm(forms.Form):
    """The finance department records money put into the fund."""

    amount = forms.DecimalField(
        label=_("注资金额（元）"),
        min_value=Decimal("0.01"),
        max_digits=16,
        decimal_places=2,
        error_messages={"min_value": _("注资金额须大于 0 元")},
    )
    value_date = forms.DateField(
        label=_("到账日期"),
        required=False,
        widget=DateInput(),
        error_messages={"invalid": DATE_INVALID},
        help_text=_("不填为今天"),
    )
    voucher_no = forms.CharField(
        label=_("拨款凭证号"),
        max_length=VOUCHER_MAX,
        required=False,
        help_text=_("国库或财政拨款的凭证号，同一凭证号不能登记两次"),
    )
    memo = forms.CharField(label=_("摘要"), max_length=MEMO_MAX, required=False)


class AdjustmentForm(forms.Form):
    """The finance department records an adjustment (interest in, fees out…)."""

    direction = forms.ChoiceField(
        label=_("调整方向"),
        choices=[
            (ADJUST_IN, _("转入基金（如专户利息）")),
            (ADJUST_OUT, _("从基金转出（如手续费）")),
        ],
        widget=forms.RadioSelect,
    )
    amount = forms.DecimalField(
        label=_("调整金额（元）"),
        min_value=Decimal("0.01"),
        max_digits=16,
        decimal_places=2,
        error_messages={"min_value": _("调整金额须大于 0 元")},
    )
    memo = forms.CharField(label=_("调整原因"), max_length=MEMO_MAX)
    value_date = forms.DateField(
        label=_("记账日期"),
        required=False,
        widget=DateInput(),
        error_messages={"invalid": DATE_INVALID},
        help_text=_("不填为今天"),
    )
    voucher_no = forms.CharField(label=_("外部凭证号"), max_length=VOUCHER_MAX, required=False)


class ReverseForm(forms.Form):
    """The finance department reverses a wrong entry, with the reason."""

    memo = forms.CharField(label=_("冲销原因"), max_length=150)
