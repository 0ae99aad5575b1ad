"""Financial products offered on the supermarket, their versioned terms and their timeline."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.models import Organisation
from xinrong.common.models import TimeStampedModel
from xinrong.credit.models import Authorisation
from xinrong.enterprises.models import MarketEntity
from xinrong.marketplace.choices import (
    ApplicationEventKind,
    ApplicationStatus,
    DemandEventKind,
    DemandPurpose,
    DemandStatus,
    DemandUrgency,
    EventKind,
    FinancingCaseType,
    InterestStatus,
    LoanStatus,
    ProductStatus,
    ProductType,
    RejectReason,
    RepaymentMethod,
    ReserveEventKind,
    ReserveStatus,
    VersionStatus,
)
from xinrong.workflows.timeline import TimelineEvent


class Product(TimeStampedModel):
    """A financial product of one institution; its terms live in versions."""

    institution = models.ForeignKey(
        Organisation,
        verbose_name=_("发布机构"),
        on_delete=models.PROTECT,
        related_name="products",
    )
    code = models.CharField(_("产品代码"), max_length=32, unique=True)
    name = models.CharField(_("产品名称"), max_length=100, db_index=True)
    status = models.CharField(
        _("状态"),
        max_length=16,
        choices=ProductStatus.choices,
        default=ProductStatus.DRAFT,
        db_index=True,
    )
    current_version = models.ForeignKey(
        "ProductVersion",
        verbose_name=_("生效版本"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("审核通过、对企业展示的条款"),
    )
    draft_version = models.ForeignKey(
        "ProductVersion",
        verbose_name=_("待发布版本"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("正在编辑或审核中的新条款；审核通过后成为生效版本"),
    )
    published_at = models.DateTimeField(_("上架时间"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("金融产品")
        verbose_name_plural = _("金融产品")
        ordering = ["-published_at", "-id"]
        indexes = [
            models.Index(fields=["institution", "status"], name="mkt_product_inst_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class ProductVersion(TimeStampedModel):
    """One immutable set of a product's terms; edits after submission make a new version."""

    product = models.ForeignKey(
        Product, verbose_name=_("产品"), on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField(_("版本号"))
    status = models.CharField(
        _("版本状态"),
        max_length=16,
        choices=VersionStatus.choices,
        default=VersionStatus.DRAFT,
        db_index=True,
    )
    product_type = models.CharField(_("产品类型"), max_length=16, choices=ProductType.choices)
    amount_min = models.DecimalField(_("最低额度（元）"), max_digits=16, decimal_places=2)
    amount_max = models.DecimalField(_("最高额度（元）"), max_digits=16, decimal_places=2)
    term_min_months = models.PositiveSmallIntegerField(_("最短期限（月）"))
    term_max_months = models.PositiveSmallIntegerField(_("最长期限（月）"))
    rate_min = models.DecimalField(_("最低年利率（%）"), max_digits=5, decimal_places=2)
    rate_max = models.DecimalField(_("最高年利率（%）"), max_digits=5, decimal_places=2)
    repayment_methods = models.JSONField(_("还款方式"), default=list, blank=True)
    entity_types = models.JSONField(
        _("适用主体类型"), default=list, blank=True, help_text=_("为空表示不限")
    )
    industries = models.JSONField(
        _("适用行业"),
        default=list,
        blank=True,
        help_text=_("GB/T 4754 门类字母或两位大类代码；为空表示不限"),
    )
    regions = models.JSONField(
        _("适用地区"), default=list, blank=True, help_text=_("行政区划代码；为空表示不限")
    )
    region_index = models.CharField(
        _("地区检索键"), max_length=500, blank=True, default="", editable=False
    )
    min_years_in_business = models.DecimalField(
        _("最低经营年限（年）"), max_digits=4, decimal_places=1, default=Decimal("0")
    )
    min_credit_grade = models.CharField(
        _("最低信用等级"), max_length=4, blank=True, default="", help_text=_("为空表示不限")
    )
    tax_grades = models.JSONField(
        _("要求纳税信用等级"), default=list, blank=True, help_text=_("为空表示不限")
    )
    collateral_modes = models.JSONField(_("担保方式"), default=list, blank=True)
    tags = models.JSONField(_("标签"), default=list, blank=True)
    tag_index = models.CharField(
        _("标签检索键"), max_length=500, blank=True, default="", editable=False
    )
    supports_relending = models.BooleanField(_("支持再贷款"), default=False)
    supports_rediscount = models.BooleanField(_("支持再贴现"), default=False)
    days_to_accept = models.PositiveSmallIntegerField(_("受理时限（天）"), default=3)
    days_to_decide = models.PositiveSmallIntegerField(_("审批时限（天）"), default=7)
    description = models.TextField(_("产品介绍"), blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    published_at = models.DateTimeField(_("生效时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("产品版本")
        verbose_name_plural = _("产品版本")
        ordering = ["product_id", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "number"], name="marketplace_productversion_unique_number"
            ),
            models.CheckConstraint(
                condition=Q(amount_min__gt=0) & Q(amount_min__lte=models.F("amount_max")),
                name="marketplace_productversion_amount_range",
            ),
            models.CheckConstraint(
                condition=Q(term_min_months__gte=1)
                & Q(term_max_months__lte=360)
                & Q(term_min_months__lte=models.F("term_max_months")),
                name="marketplace_productversion_term_range",
            ),
            models.CheckConstraint(
                condition=Q(rate_min__gte=0)
                & Q(rate_max__lte=36)
                & Q(rate_min__lte=models.F("rate_max")),
                name="marketplace_productversion_rate_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product.code} v{self.number}"


class ProductEvent(TimelineEvent):
    """One step of a product's timeline: who did what, when, from which status to which."""

    product = models.ForeignKey(
        Product, verbose_name=_("产品"), on_delete=models.CASCADE, related_name="events"
    )
    version = models.ForeignKey(
        ProductVersion,
        verbose_name=_("版本"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
    )
    kind = models.CharField(_("事件"), max_length=32, choices=EventKind.choices)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta(TimelineEvent.Meta):
        verbose_name = _("产品事件")
        verbose_name_plural = _("产品事件")
        ordering = ["product_id", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.product_id} · {self.get_kind_display()}"


class Demand(TimeStampedModel):
    """A financing demand an enterprise publishes so that products and institutions find it."""

    entity = models.ForeignKey(
        MarketEntity, verbose_name=_("融资主体"), on_delete=models.PROTECT, related_name="demands"
    )
    amount = models.DecimalField(_("融资金额（元）"), max_digits=16, decimal_places=2)
    term_months = models.PositiveSmallIntegerField(_("期限（月）"))
    purpose_category = models.CharField(_("用途类别"), max_length=20, choices=DemandPurpose.choices)
    purpose = models.TextField(_("资金用途"), blank=True, default="")
    collateral_modes = models.JSONField(
        _("可接受的担保方式"), default=list, blank=True, help_text=_("为空表示不限")
    )
    max_rate = models.DecimalField(_("可接受最高年利率（%）"), max_digits=5, decimal_places=2)
    urgency = models.CharField(
        _("紧急程度"), max_length=12, choices=DemandUrgency.choices, default=DemandUrgency.NORMAL
    )
    status = models.CharField(
        _("状态"),
        max_length=12,
        choices=DemandStatus.choices,
        default=DemandStatus.OPEN,
        db_index=True,
    )
    division_code = models.CharField(
        _("所在地区"), max_length=12, blank=True, default="", db_index=True, editable=False
    )
    held_by = models.ForeignKey(
        Organisation,
        verbose_name=_("承接机构"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="held_demands",
    )
    held_until = models.DateTimeField(_("承接截止"), null=True, blank=True, db_index=True)
    escalated_at = models.DateTimeField(
        _("提请运营方时间"),
        null=True,
        blank=True,
        help_text=_("长期无人承接、已提请平台运营方跟进的时间"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发布人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("融资需求")
        verbose_name_plural = _("融资需求")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "division_code"], name="mkt_demand_status_div_idx"),
            # the demand hall's cache stamp reads Max(updated_at)
            models.Index(fields=["updated_at"], name="mkt_demand_updated_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0) & Q(amount__lte=100_000_000),
                name="marketplace_demand_amount_range",
            ),
            models.CheckConstraint(
                condition=Q(term_months__gte=1) & Q(term_months__lte=360),
                name="marketplace_demand_term_range",
            ),
            models.CheckConstraint(
                condition=Q(max_rate__gte=0) & Q(max_rate__lte=36),
                name="marketplace_demand_rate_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entity_id} · {self.amount} 元 · {self.term_months} 月"


class DemandEvent(TimelineEvent):
    """One step of a demand's timeline: published, taken, released, expired, escalated…"""

    demand = models.ForeignKey(
        Demand, verbose_name=_("融资需求"), on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(_("事件"), max_length=32, choices=DemandEventKind.choices)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("相关机构"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("承接、放弃或超时所涉及的机构"),
    )
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta(TimelineEvent.Meta):
        verbose_name = _("融资需求事件")
        verbose_name_plural = _("融资需求事件")
        ordering = ["demand_id", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.demand_id} · {self.get_kind_display()}"


class LoanApplication(TimeStampedModel):
    """An enterprise's application for one product, tracked from submission to the loan's end."""

    number = models.CharField(_("申请编号"), max_length=24, unique=True)
    entity = models.ForeignKey(
        MarketEntity,
        verbose_name=_("申请主体"),
        on_delete=models.PROTECT,
        related_name="loan_applications",
    )
    product = models.ForeignKey(
        Product, verbose_name=_("产品"), on_delete=models.PROTECT, related_name="applications"
    )
    product_version = models.ForeignKey(
        ProductVersion,
        verbose_name=_("申请时的产品版本"),
        on_delete=models.PROTECT,
        related_name="applications",
    )
    institution = models.ForeignKey(
        Organisation,
        verbose_name=_("受理机构"),
        on_delete=models.PROTECT,
        related_name="applications",
    )
    demand = models.ForeignKey(
        Demand,
        verbose_name=_("来源需求"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="applications",
    )
    referred_from = models.ForeignKey(
        "self",
        verbose_name=_("转介自"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="referrals",
    )
    renewal_of = models.ForeignKey(
        "Loan",
        verbose_name=_("续贷的原贷款"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="renewal_applications",
    )
    without_principal_repayment = models.BooleanField(_("无还本续贷"), default=False)
    authorisation = models.ForeignKey(
        Authorisation,
        verbose_name=_("信息查询授权"),
        on_delete=models.PROTECT,
        related_name="loan_applications",
    )
    amount = models.DecimalField(_("申请金额（元）"), max_digits=16, decimal_places=2)
    term_months = models.PositiveSmallIntegerField(_("申请期限（月）"))
    repayment_method = models.CharField(
        _("还款方式"), max_length=20, choices=RepaymentMethod.choices
    )
    purpose = models.TextField(_("资金用途"), blank=True, default="")
    status = models.CharField(
        _("状态"),
        max_length=16,
        choices=ApplicationStatus.choices,
        default=ApplicationStatus.SUBMITTED,
        db_index=True,
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("受理客户经理"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("提交时间"), db_index=True)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    sla_due_at = models.DateTimeField(
        _("当前环节时限"),
        null=True,
        blank=True,
        db_index=True,
        help_text=_("受理或审批须在此时间前完成；为空表示当前环节无时限"),
    )
    sla_breached_at = models.DateTimeField(_("超时时间"), null=True, blank=True)
    approved_amount = models.DecimalField(
        _("批准金额（元）"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    approved_rate = models.DecimalField(
        _("批准年利率（%）"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    approved_term_months = models.PositiveSmallIntegerField(
        _("批准期限（月）"), null=True, blank=True
    )
    reject_reason = models.CharField(
        _("拒绝原因"), max_length=16, choices=RejectReason.choices, blank=True, default=""
    )
    reject_note = models.TextField(_("拒绝说明"), blank=True, default="")
    contract_no = models.CharField(_("合同编号"), max_length=64, blank=True, default="")
    contract_signed_on = models.DateField(_("签约日期"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("贷款申请")
        verbose_name_plural = _("贷款申请")
        ordering = ["-submitted_at", "-id"]
        indexes = [
            models.Index(fields=["institution", "status"], name="mkt_app_inst_status_idx"),
            models.Index(fields=["entity", "status"], name="mkt_app_entity_status_idx"),
            # the bank API's change feed: (updated_at, id) after a cursor, per institution
            models.Index(fields=["institution", "updated_at", "id"], name="mkt_app_inst_feed_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="marketplace_loanapplication_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(term_months__gte=1) & Q(term_months__lte=360),
                name="marketplace_loanapplication_term_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number}（{self.get_status_display()}）"


class ApplicationEvent(TimelineEvent):
    """One step of an application's timeline: who did what, when, from which status to which."""

    application = models.ForeignKey(
        LoanApplication, verbose_name=_("申请"), on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(_("事件"), max_length=32, choices=ApplicationEventKind.choices)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("操作机构"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    via_api = models.BooleanField(_("经机构系统接口"), default=False)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta(TimelineEvent.Meta):
        verbose_name = _("申请事件")
        verbose_name_plural = _("申请事件")
        ordering = ["application_id", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.application_id} · {self.get_kind_display()}"


class Loan(TimeStampedModel):
    """A disbursed loan: terms, schedule, repayments and its outcome (fed back to credit)."""

    application = models.OneToOneField(
        LoanApplication, verbose_name=_("申请"), on_delete=models.PROTECT, related_name="loan"
    )
    entity = models.ForeignKey(
        MarketEntity, verbose_name=_("借款主体"), on_delete=models.PROTECT, related_name="loans"
    )
    institution = models.ForeignKey(
        Organisation, verbose_name=_("放款机构"), on_delete=models.PROTECT, related_name="loans"
    )
    number = models.CharField(
        _("贷款编号"), max_length=64, unique=True, help_text=_("平台编号，全平台唯一")
    )
    bank_loan_no = models.CharField(
        _("机构借据号"),
        max_length=64,
        blank=True,
        default="",
        help_text=_("放款机构自己的借据号；同一机构内唯一"),
    )
    principal = models.DecimalField(_("放款金额（元）"), max_digits=16, decimal_places=2)
    annual_rate = models.DecimalField(_("年利率（%）"), max_digits=5, decimal_places=2)
    term_months = models.PositiveSmallIntegerField(_("期限（月）"))
    repayment_method = models.CharField(
        _("还款方式"), max_length=20, choices=RepaymentMethod.choices
    )
    disbursed_on = models.DateField(_("放款日期"), db_index=True)
    maturity_on = models.DateField(_("到期日期"), db_index=True)
    first_loan = models.BooleanField(
        _("首贷"), default=False, help_text=_("放款时该主体在平台上没有更早的贷款")
    )
    renewal = models.BooleanField(_("续贷"), default=False)
    outstanding = models.DecimalField(_("贷款余额（元）"), max_digits=16, decimal_places=2)
    overdue_days = models.PositiveIntegerField(_("逾期天数"), default=0)
    max_overdue_days = models.PositiveIntegerField(_("最长逾期天数"), default=0)
    status = models.CharField(
        _("贷款状态"),
        max_length=12,
        choices=LoanStatus.choices,
        default=LoanStatus.CURRENT,
        db_index=True,
    )
    settled_on = models.DateField(_("结清日期"), null=True, blank=True)
    defaulted_on = models.DateField(_("违约认定日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("贷款")
        verbose_name_plural = _("贷款")
        ordering = ["-disbursed_on", "-id"]
        indexes = [
            models.Index(fields=["entity", "disbursed_on"], name="mkt_loan_entity_disb_idx"),
            models.Index(fields=["status", "maturity_on"], name="mkt_loan_status_maturity_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(principal__gt=0) & Q(outstanding__gte=0),
                name="marketplace_loan_amounts",
            ),
            models.UniqueConstraint(
                fields=["institution", "bank_loan_no"],
                condition=~Q(bank_loan_no=""),
                name="marketplace_loan_bank_no_per_institution",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} · {self.principal} 元"


class LoanInstalment(models.Model):
    """One scheduled repayment of a loan and how much of it has been paid."""

    loan = models.ForeignKey(
        Loan, verbose_name=_("贷款"), on_delete=models.CASCADE, related_name="instalments"
    )
    seq = models.PositiveSmallIntegerField(_("期次"))
    due_on = models.DateField(_("应还日期"), db_index=True)
    principal_due = models.DecimalField(_("应还本金（元）"), max_digits=16, decimal_places=2)
    interest_due = models.DecimalField(_("应还利息（元）"), max_digits=16, decimal_places=2)
    principal_paid = models.DecimalField(
        _("已还本金（元）"), max_digits=16, decimal_places=2, default=Decimal("0")
    )
    interest_paid = models.DecimalField(
        _("已还利息（元）"), max_digits=16, decimal_places=2, default=Decimal("0")
    )
    paid_on = models.DateField(_("还清日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("还款计划")
        verbose_name_plural = _("还款计划")
        ordering = ["loan_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["loan", "seq"], name="marketplace_loaninstalment_seq"),
        ]

    def __str__(self) -> str:
        return f"{self.loan_id} #{self.seq} {self.due_on}"

    @property
    def due_left(self) -> Decimal:
        """Return what is still owed on this instalment."""
        return self.principal_due + self.interest_due - self.principal_paid - self.interest_paid


class Repayment(models.Model):
    """Money the borrower paid back, split into interest and principal (append-only)."""

    loan = models.ForeignKey(
        Loan, verbose_name=_("贷款"), on_delete=models.CASCADE, related_name="repayments"
    )
    paid_on = models.DateField(_("还款日期"), db_index=True)
    amount = models.DecimalField(_("还款金额（元）"), max_digits=16, decimal_places=2)
    principal = models.DecimalField(_("其中本金（元）"), max_digits=16, decimal_places=2)
    interest = models.DecimalField(_("其中利息（元）"), max_digits=16, decimal_places=2)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now)

    class Meta:
        verbose_name = _("还款记录")
        verbose_name_plural = _("还款记录")
        ordering = ["loan_id", "paid_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="marketplace_repayment_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.loan_id} · {self.paid_on} · {self.amount} 元"


# ---------------------------------------------------------------- capital-market reserve database


class ReserveCandidate(TimeStampedModel):
    """An enterprise in the capital-market reserve database (上市挂牌后备库)."""

    entity = models.OneToOneField(
        MarketEntity,
        verbose_name=_("市场主体"),
        on_delete=models.PROTECT,
        related_name="reserve_entry",
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("入库人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    criteria = models.JSONField(
        _("入库条件快照"),
        default=dict,
        blank=True,
        help_text=_("入库时使用的筛选条件和该企业当时的指标（含非公开信息，仅运营方可见）"),
    )
    status = models.CharField(
        _("状态"),
        max_length=12,
        choices=ReserveStatus.choices,
        default=ReserveStatus.ACTIVE,
        db_index=True,
    )
    note = models.TextField(_("运营方备注"), blank=True, default="")
    intro = models.TextField(
        _("企业展示信息"),
        blank=True,
        default="",
        help_text=_("企业自愿向投资机构展示的介绍（融资计划、主营业务等）"),
    )

    class Meta:
        verbose_name = _("后备库企业")
        verbose_name_plural = _("后备库企业")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.entity_id} · {self.get_status_display()}"


class ReserveEvent(TimelineEvent):
    """One step of a reserve entry's timeline (who, when, what): the audit trail."""

    candidate = models.ForeignKey(
        ReserveCandidate,
        verbose_name=_("后备库企业"),
        on_delete=models.CASCADE,
        related_name="events",
    )
    kind = models.CharField(_("事件"), max_length=32, choices=ReserveEventKind.choices)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("操作机构"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta(TimelineEvent.Meta):
        verbose_name = _("后备库事件")
        verbose_name_plural = _("后备库事件")
        ordering = ["candidate_id", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.candidate_id} · {self.get_kind_display()}"


class InvestorInterest(TimeStampedModel):
    """An investor's expression of interest in a reserve enterprise, answered by the enterprise."""

    investor = models.ForeignKey(
        Organisation,
        verbose_name=_("投资机构"),
        on_delete=models.PROTECT,
        related_name="reserve_interests",
    )
    candidate = models.ForeignKey(
        ReserveCandidate,
        verbose_name=_("后备库企业"),
        on_delete=models.CASCADE,
        related_name="interests",
    )
    note = models.TextField(_("意向说明"), blank=True, default="")
    status = models.CharField(
        _("状态"),
        max_length=12,
        choices=InterestStatus.choices,
        default=InterestStatus.PENDING,
        db_index=True,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提交人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("回复人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    responded_at = models.DateTimeField(_("回复时间"), null=True, blank=True)
    response_note = models.TextField(_("回复说明"), blank=True, default="")

    class Meta:
        verbose_name = _("投资意向")
        verbose_name_plural = _("投资意向")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["investor", "candidate"],
                condition=Q(status="pending"),
                name="marketplace_investorinterest_one_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.investor_id} → {self.candidate_id} · {self.get_status_display()}"


class DirectFinancingCase(TimeStampedModel):
    """A direct-financing case (股权、债券、上市挂牌) recorded by the operator as an example."""

    entity = models.ForeignKey(
        MarketEntity,
        verbose_name=_("融资企业"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="financing_cases",
    )
    title = models.CharField(_("案例标题"), max_length=120)
    case_type = models.CharField(_("融资方式"), max_length=20, choices=FinancingCaseType.choices)
    amount = models.DecimalField(_("融资金额（元）"), max_digits=16, decimal_places=2)
    occurred_on = models.DateField(_("融资日期"), db_index=True)
    investor = models.ForeignKey(
        Organisation,
        verbose_name=_("平台投资机构"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="financing_cases",
    )
    counterparty = models.CharField(_("投资方/承销机构"), max_length=200, blank=True, default="")
    description = models.TextField(_("案例介绍"), blank=True, default="")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("直接融资案例")
        verbose_name_plural = _("直接融资案例")
        ordering = ["-occurred_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="marketplace_directfinancingcase_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.title
