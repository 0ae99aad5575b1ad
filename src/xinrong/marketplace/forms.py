"""Forms of the institution's product pages (typing only; the services validate the terms)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xinrong.credit.scorecard import DEFAULT_BANDS
from xinrong.enterprises.choices import EntityType
from xinrong.marketplace.choices import (
    TAX_GRADES,
    CollateralMode,
    DemandPurpose,
    DemandUrgency,
    ProductType,
    RepaymentMethod,
)
from xinrong.marketplace.models import ProductVersion

CHECKS = forms.CheckboxSelectMultiple


class ProductForm(forms.Form):
    """A product's name and the terms of its draft version."""

    code = forms.CharField(
        label=_("产品代码"),
        max_length=32,
        help_text=_("3–32 位大写字母、数字或“-”，创建后不可修改"),
    )
    name = forms.CharField(label=_("产品名称"), max_length=100)
    product_type = forms.ChoiceField(label=_("产品类型"), choices=ProductType.choices)
    amount_min = forms.DecimalField(label=_("最低额度（元）"), max_digits=16, decimal_places=2)
    amount_max = forms.DecimalField(label=_("最高额度（元）"), max_digits=16, decimal_places=2)
    term_min_months = forms.IntegerField(label=_("最短期限（月）"))
    term_max_months = forms.IntegerField(label=_("最长期限（月）"))
    rate_min = forms.DecimalField(label=_("最低年利率（%）"), max_digits=5, decimal_places=2)
    rate_max = forms.DecimalField(label=_("最高年利率（%）"), max_digits=5, decimal_places=2)
    repayment_methods = forms.MultipleChoiceField(
        label=_("还款方式"), choices=RepaymentMethod.choices, widget=CHECKS
    )
    entity_types = forms.MultipleChoiceField(
        label=_("适用主体类型（不选表示不限）"),
        choices=EntityType.choices,
        required=False,
        widget=CHECKS,
    )
    industries = forms.CharField(
        label=_("适用行业"),
        required=False,
        max_length=400,
        help_text=_("GB/T 4754 门类字母或大类代码，以逗号分隔，如 C,F51；为空表示不限"),
    )
    regions = forms.CharField(
        label=_("适用地区"),
        required=False,
        max_length=400,
        help_text=_("行政区划代码，以逗号分隔，如 630100,632800；为空表示不限"),
    )
    min_years_in_business = forms.DecimalField(
        label=_("最低经营年限（年）"), max_digits=4, decimal_places=1, initial=0
    )
    min_credit_grade = forms.ChoiceField(
        label=_("最低信用等级"),
        required=False,
        choices=[("", _("不限"))] + [(g, g) for g, _f in DEFAULT_BANDS],
    )
    tax_grades = forms.MultipleChoiceField(
        label=_("要求纳税信用等级（不选表示不限）"),
        choices=[(g, g) for g in TAX_GRADES],
        required=False,
        widget=CHECKS,
    )
    collateral_modes = forms.MultipleChoiceField(
        label=_("担保方式"), choices=CollateralMode.choices, required=False, widget=CHECKS
    )
    tags = forms.CharField(
        label=_("标签"),
        required=False,
        max_length=300,
        help_text=_("以逗号分隔，如 首贷,银税贷"),
    )
    supports_relending = forms.BooleanField(label=_("支持再贷款"), required=False)
    supports_rediscount = forms.BooleanField(label=_("支持再贴现"), required=False)
    days_to_accept = forms.IntegerField(label=_("受理时限（天）"), initial=3)
    days_to_decide = forms.IntegerField(label=_("审批时限（天）"), initial=7)
    description = forms.CharField(
        label=_("产品介绍"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["code"].disabled = True
            self.fields["code"].required = False
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxSelectMultiple):
                continue
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs["class"] = "form-check-input"
            elif isinstance(widget, forms.Select):
                widget.attrs["class"] = "form-select"
            else:
                widget.attrs["class"] = "form-control"

    def terms(self) -> dict[str, Any]:
        """Return the cleaned terms for the services."""
        data = dict(self.cleaned_data)
        data.pop("code", None)
        data.pop("name", None)
        return data

    @staticmethod
    def initial_from(version: ProductVersion) -> dict[str, Any]:
        """Return initial data showing a version's terms."""
        return {
            "code": version.product.code,
            "name": version.product.name,
            "product_type": version.product_type,
            "amount_min": version.amount_min,
            "amount_max": version.amount_max,
            "term_min_months": version.term_min_months,
            "term_max_months": version.term_max_months,
            "rate_min": version.rate_min,
            "rate_max": version.rate_max,
            "repayment_methods": version.repayment_methods,
            "entity_types": version.entity_types,
            "industries": ",".join(version.industries),
            "regions": ",".join(version.regions),
            "min_years_in_business": version.min_years_in_business,
            "min_credit_grade": version.min_credit_grade,
            "tax_grades": version.tax_grades,
            "collateral_modes": version.collateral_modes,
            "tags": ",".join(version.tags),
            "supports_relending": version.supports_relending,
            "supports_rediscount": version.supports_rediscount,
            "days_to_accept": version.days_to_accept,
            "days_to_decide": version.days_to_decide,
            "description": version.description,
        }


class DemandForm(forms.Form):
    """A financing demand (typing only; ``services.demand_clean`` validates the values)."""

    amount = forms.DecimalField(
        label=_("融资金额（元）"), max_digits=16, decimal_places=2, help_text=_("不超过 1 亿元")
    )
    term_months = forms.IntegerField(label=_("期限（月）"), help_text=_("1–360 个月"))
    purpose_category = forms.ChoiceField(label=_("用途类别"), choices=DemandPurpose.choices)
    purpose = forms.CharField(
        label=_("资金用途说明"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    collateral_modes = forms.MultipleChoiceField(
        label=_("可接受的担保方式（不选表示不限）"),
        choices=CollateralMode.choices,
        required=False,
        widget=CHECKS,
    )
    max_rate = forms.DecimalField(
        label=_("可接受的最高年利率（%）"), max_digits=5, decimal_places=2
    )
    urgency = forms.ChoiceField(
        label=_("紧急程度"), choices=DemandUrgency.choices, initial=DemandUrgency.NORMAL
    )
