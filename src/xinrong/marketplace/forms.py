"""Forms of the marketplace pages (typing only; ``inputs`` and the services validate values)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.models import Organisation
from xinrong.common.forms import DateInput
from xinrong.common.templatetags.money import money_range
from xinrong.credit.choices import Scope
from xinrong.credit.scorecard import DEFAULT_BANDS
from xinrong.datahub.categories import CATEGORY_CHOICES
from xinrong.enterprises.choices import EntityType
from xinrong.marketplace.choices import (
    TAX_GRADES,
    CollateralMode,
    DemandPurpose,
    DemandUrgency,
    FinancingCaseType,
    ProductType,
    RejectReason,
    RepaymentMethod,
    ReserveStatus,
)
from xinrong.marketplace.inputs import DemandIn, ProductTermsIn
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

    def terms(self) -> ProductTermsIn:
        """Return the typed terms for the services; raise ValidationError naming every bad field."""
        return ProductTermsIn.parse(self.cleaned_data)

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
    """A financing demand (typing only; ``inputs.DemandIn.parse`` validates the values)."""

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

    def demand(self) -> DemandIn:
        """Return the typed demand for the services; raise ValidationError naming each bad field."""
        return DemandIn.parse(self.cleaned_data)


# ---------------------------------------------------------------- loan applications

CONSENT_DAYS_CHOICES = [(90, _("90 天")), (180, _("180 天")), (365, _("365 天"))]


class ApplicationForm(forms.Form):
    """Apply to a product; the consent to the institution is part of the same form."""

    amount = forms.DecimalField(label=_("申请金额（元）"), max_digits=16, decimal_places=2)
    term_months = forms.IntegerField(label=_("申请期限（月）"))
    repayment_method = forms.ChoiceField(label=_("还款方式"), choices=RepaymentMethod.choices)
    purpose = forms.CharField(label=_("资金用途"), max_length=500, required=False)
    consent_scope = forms.ChoiceField(
        label=_("授权该机构查询的信息范围"),
        choices=Scope.choices,
        initial=Scope.FULL,
        help_text=_("提交申请即授权受理机构为贷款审批查询本企业信用信息；可随时在“查询授权”中撤销"),
    )
    consent_categories = forms.MultipleChoiceField(
        label=_("指定类别（授权范围为“指定类别”时填写）"),
        choices=CATEGORY_CHOICES,
        required=False,
        widget=CHECKS,
    )
    consent_days = forms.TypedChoiceField(
        label=_("授权有效期"), choices=CONSENT_DAYS_CHOICES, coerce=int, initial=180
    )
    without_principal_repayment = forms.BooleanField(
        label=_("申请无还本续贷（到期贷款不还本金直接续期）"), required=False
    )
    consent = forms.BooleanField(
        label=_("我已阅读并同意上述信息查询授权"),
        error_messages={"required": _("须同意信息查询授权才能提交申请")},
    )

    def __init__(
        self, *args: Any, version: ProductVersion, renewal: bool = False, **kw: Any
    ) -> None:
        super().__init__(*args, **kw)
        methods = version.repayment_methods or list(RepaymentMethod.values)
        method = self.fields["repayment_method"]
        assert isinstance(method, forms.ChoiceField)
        method.choices = [(m, RepaymentMethod(m).label) for m in methods]
        self.fields["amount"].help_text = _("产品额度 %(r)s") % {
            "r": money_range(version.amount_min, version.amount_max)
        }
        self.fields["term_months"].help_text = _("产品期限 %(lo)s–%(hi)s 个月") % {
            "lo": version.term_min_months,
            "hi": version.term_max_months,
        }
        if not renewal or "无还本续贷" not in version.tags:
            del self.fields["without_principal_repayment"]


class ReferForm(forms.Form):
    """拒贷转介: the institutions to pass the application to, the scope each is authorised to
    read (the credit authorisation scopes), and the enterprise's confirmation."""

    products = forms.TypedMultipleChoiceField(
        label=_("转介给哪些机构的产品"),
        coerce=int,
        widget=CHECKS,
        error_messages={"required": _("请至少选择一个转介的产品")},
    )
    consent_scope = forms.ChoiceField(
        label=_("授权所选机构查询的信息范围"),
        choices=Scope.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择授权所选机构查询的信息范围")},
    )
    consent_categories = forms.MultipleChoiceField(
        label=_("指定类别（授权范围为“指定类别”时填写）"),
        choices=CATEGORY_CHOICES,
        required=False,
        widget=CHECKS,
    )
    consent_days = forms.TypedChoiceField(
        label=_("授权有效期"), choices=CONSENT_DAYS_CHOICES, coerce=int, initial=180
    )
    confirm = forms.BooleanField(
        label=_("我确认向所选机构提交申请，并按上述范围授权其查询本企业信息（可随时撤销）"),
        error_messages={"required": _("请勾选确认后再转介")},
    )

    def __init__(self, *args: Any, products: list[Any], **kw: Any) -> None:
        super().__init__(*args, **kw)
        field = self.fields["products"]
        assert isinstance(field, forms.TypedMultipleChoiceField)
        field.choices = [(p.pk, f"{p.name} · {p.institution.name}") for p in products]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("consent_scope") == Scope.CHOSEN and not cleaned.get("consent_categories"):
            self.add_error("consent_categories", _("授权范围为“指定类别”时请至少选择一个类别"))
        return cleaned


class ApproveForm(forms.Form):
    """The reviewer's approval terms."""

    amount = forms.DecimalField(label=_("批准金额（元）"), max_digits=16, decimal_places=2)
    rate = forms.DecimalField(label=_("年利率（%）"), max_digits=5, decimal_places=2)
    term_months = forms.IntegerField(label=_("期限（月）"), min_value=1, max_value=360)
    note = forms.CharField(label=_("审批意见"), max_length=2000, required=False)


class RejectForm(forms.Form):
    """Why the application is declined."""

    reason = forms.ChoiceField(label=_("拒绝原因"), choices=RejectReason.choices)
    note = forms.CharField(label=_("拒绝说明（企业可见）"), max_length=2000)


class SignForm(forms.Form):
    """The signed contract."""

    contract_no = forms.CharField(label=_("合同编号"), max_length=64)
    signed_on = forms.DateField(label=_("签约日期"), widget=DateInput())


class DisburseForm(forms.Form):
    """The disbursement."""

    amount = forms.DecimalField(label=_("放款金额（元）"), max_digits=16, decimal_places=2)
    disbursed_on = forms.DateField(label=_("放款日期"), widget=DateInput())
    loan_no = forms.CharField(
        label=_("机构借据号"),
        max_length=64,
        required=False,
        help_text=_("本机构的借据号（选填）；平台另编贷款编号"),
    )


class RepayForm(forms.Form):
    """A repayment received."""

    amount = forms.DecimalField(label=_("还款金额（元）"), max_digits=16, decimal_places=2)
    paid_on = forms.DateField(label=_("还款日期"), widget=DateInput())


class NoteForm(forms.Form):
    """A note for transitions that need only one (accept, review, withdraw, default)."""

    note = forms.CharField(label=_("说明"), max_length=2000, required=False)


class DefaultForm(forms.Form):
    """Why the loan is declared in default."""

    note = forms.CharField(label=_("违约认定说明"), max_length=2000)


# ---------------------------------------------------------------- capital-market reserve (issue 5)


class ReserveCriteriaForm(forms.Form):
    """The operator's screening criteria (rendering; selectors.reserve_criteria_parse checks)."""

    min_grade = forms.ChoiceField(
        label=_("信用等级不低于"),
        choices=[("", _("不限"))] + [(g, g) for g, _f in DEFAULT_BANDS],
        required=False,
        initial="A",
    )
    honour = forms.CharField(
        label=_("荣誉/资质"),
        max_length=40,
        required=False,
        help_text=_("如 专精特新、高新技术企业；匹配荣誉资质信息或企业标签"),
    )
    min_tax_paid_wan = forms.DecimalField(
        label=_("近12个月纳税额不低于（万元）"), required=False, min_value=0
    )
    min_years = forms.DecimalField(label=_("经营年限不低于（年）"), required=False, min_value=0)
    region = forms.CharField(label=_("地区（区划代码）"), max_length=12, required=False)
    include_reserved = forms.BooleanField(label=_("包含已入库企业"), required=False)


class ReserveIntroForm(forms.Form):
    """What the enterprise shows investors."""

    intro = forms.CharField(
        label=_("向投资机构展示的介绍"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("主营业务、融资计划等；投资机构只能看到公开登记信息和这里的内容"),
    )


class ReserveCloseForm(forms.Form):
    """The operator records a listing or a removal."""

    status = forms.ChoiceField(
        label=_("变更为"),
        choices=[(ReserveStatus.LISTED, _("已上市挂牌")), (ReserveStatus.REMOVED, _("已移出"))],
    )
    note = forms.CharField(
        label=_("说明"),
        max_length=2000,
        help_text=_("如挂牌市场与日期，或移出原因"),
    )


class InterestForm(forms.Form):
    """An investor's expression of interest."""

    note = forms.CharField(
        label=_("意向说明"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class FinancingCaseForm(forms.Form):
    """A direct-financing case the operator records."""

    title = forms.CharField(label=_("案例标题"), max_length=120)
    case_type = forms.ChoiceField(label=_("融资方式"), choices=FinancingCaseType.choices)
    amount = forms.DecimalField(label=_("融资金额（元）"), max_digits=16, decimal_places=2)
    occurred_on = forms.DateField(label=_("融资日期"), widget=DateInput())
    entity_uscc = forms.CharField(
        label=_("融资企业统一社会信用代码"), max_length=24, required=False
    )
    investor = forms.ModelChoiceField(
        label=_("平台投资机构"), queryset=Organisation.objects.none(), required=False
    )
    counterparty = forms.CharField(label=_("投资方/承销机构"), max_length=200, required=False)
    description = forms.CharField(
        label=_("案例介绍"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, investors: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if investors is not None:
            self.fields["investor"].queryset = investors  # type: ignore[attr-defined]
