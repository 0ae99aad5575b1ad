"""Money of the measures: applications, grants against the budget, 免申即享 lists, 贴息 batches.

Every yuan granted is a ``Grant`` row against one measure; a measure's budget is never
exceeded: the service that commits a grant locks the measure row (``select_for_update``) and
sums the live grants before adding one.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from xinrong.common.access import RestrictedQuerySet
from xinrong.common.models import TimeStampedModel
from xinrong.policies.choices import (
    AutoListStatus,
    FundApplicationStatus,
    GrantSource,
    GrantStatus,
    SubsidyBatchStatus,
    SubsidyLineStatus,
)

_USER = settings.AUTH_USER_MODEL


class FundApplication(TimeStampedModel):
    """An enterprise's application for a special fund (专项资金) under one measure."""

    reference_no = models.CharField(_("申请编号"), max_length=32, unique=True)
    measure = models.ForeignKey(
        "policies.Measure",
        verbose_name=_("支持措施"),
        on_delete=models.PROTECT,
        related_name="applications",
    )
    measure_version = models.PositiveIntegerField(_("申请时的措施版本"))
    entity = models.ForeignKey(
        "enterprises.MarketEntity",
        verbose_name=_("市场主体"),
        on_delete=models.PROTECT,
        related_name="fund_applications",
    )
    applicant = models.ForeignKey(
        _USER, verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="+"
    )
    requested = models.DecimalField(_("申请金额（元）"), max_digits=16, decimal_places=2)
    approved = models.DecimalField(
        _("核定金额（元）"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    purpose = models.TextField(_("资金用途"))
    status = models.CharField(
        _("状态"),
        max_length=16,
        choices=FundApplicationStatus.choices,
        default=FundApplicationStatus.DRAFT,
    )
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    decided_at = models.DateTimeField(_("审批完成时间"), null=True, blank=True)
    disbursed_at = models.DateTimeField(_("拨付时间"), null=True, blank=True)
    decision_note = models.TextField(_("审批意见"), blank=True, default="")

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("专项资金申请")
        verbose_name_plural = _("专项资金申请")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["measure", "status"], name="fund_app_measure_idx")]

    def __str__(self) -> str:
        return self.reference_no


class FundMaterial(models.Model):
    """One file an applicant attached (the measure names which materials it needs)."""

    application = models.ForeignKey(
        FundApplication,
        verbose_name=_("专项资金申请"),
        on_delete=models.CASCADE,
        related_name="materials",
    )
    name = models.CharField(_("材料名称"), max_length=100)
    file = models.FileField(_("文件"), upload_to="policies/materials/")
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("申报材料")
        verbose_name_plural = _("申报材料")

    def __str__(self) -> str:
        return self.name


class Grant(models.Model):
    """Money granted to an entity under a measure: committed, then disbursed (or cancelled)."""

    measure = models.ForeignKey(
        "policies.Measure",
        verbose_name=_("支持措施"),
        on_delete=models.PROTECT,
        related_name="grants",
    )
    entity = models.ForeignKey(
        "enterprises.MarketEntity",
        verbose_name=_("市场主体"),
        on_delete=models.PROTECT,
        related_name="policy_grants",
    )
    source = models.CharField(_("来源"), max_length=24, choices=GrantSource.choices)
    amount = models.DecimalField(_("金额（元）"), max_digits=16, decimal_places=2)
    status = models.CharField(
        _("状态"), max_length=16, choices=GrantStatus.choices, default=GrantStatus.COMMITTED
    )
    application = models.OneToOneField(
        FundApplication,
        verbose_name=_("专项资金申请"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="grant",
    )
    auto_entry = models.OneToOneField(
        "policies.AutoGrantEntry",
        verbose_name=_("免申即享名单条目"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="grant",
    )
    subsidy_line = models.OneToOneField(
        "policies.SubsidyLine",
        verbose_name=_("贴息明细"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="grant",
    )
    voucher_no = models.CharField(_("拨付凭证号"), max_length=64, blank=True, default="")
    committed_at = models.DateTimeField(_("核定时间"))
    disbursed_at = models.DateTimeField(_("拨付时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        _USER,
        verbose_name=_("经办人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("资金兑现")
        verbose_name_plural = _("资金兑现")
        ordering = ["-committed_at"]
        indexes = [models.Index(fields=["measure", "status"], name="grant_measure_status_idx")]

    def __str__(self) -> str:
        return f"{self.measure_id}:{self.entity_id} {self.amount}"


class AutoGrantList(TimeStampedModel):
    """A 免申即享 list: the eligible entities the platform drew, for the department to confirm."""

    measure = models.ForeignKey(
        "policies.Measure",
        verbose_name=_("支持措施"),
        on_delete=models.PROTECT,
        related_name="auto_lists",
    )
    measure_version = models.PositiveIntegerField(_("措施版本"))
    status = models.CharField(
        _("状态"), max_length=16, choices=AutoListStatus.choices, default=AutoListStatus.DRAFT
    )
    drawn_at = models.DateTimeField(_("生成时间"))
    confirmed_by = models.ForeignKey(
        _USER,
        verbose_name=_("确认人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    note = models.TextField(_("说明"), blank=True, default="")

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("免申即享名单")
        verbose_name_plural = _("免申即享名单")
        ordering = ["-drawn_at"]

    def __str__(self) -> str:
        return f"{self.measure_id} {self.drawn_at:%Y-%m-%d}"


class AutoGrantEntry(models.Model):
    """One entity on a 免申即享 list; the department may exclude it, with a reason."""

    auto_list = models.ForeignKey(
        AutoGrantList,
        verbose_name=_("免申即享名单"),
        on_delete=models.CASCADE,
        related_name="entries",
    )
    entity = models.ForeignKey(
        "enterprises.MarketEntity",
        verbose_name=_("市场主体"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    amount = models.DecimalField(_("金额（元）"), max_digits=16, decimal_places=2)
    excluded = models.BooleanField(_("排除"), default=False)
    exclusion_reason = models.CharField(_("排除原因"), max_length=300, blank=True, default="")

    class Meta:
        verbose_name = _("免申即享名单条目")
        verbose_name_plural = _("免申即享名单条目")
        constraints = [
            models.UniqueConstraint(fields=["auto_list", "entity"], name="auto_entry_unique")
        ]

    def __str__(self) -> str:
        return f"{self.auto_list_id}:{self.entity_id}"


class SubsidyBatch(TimeStampedModel):
    """One period's interest-subsidy (贴息) calculation under a measure, from repayment records."""

    measure = models.ForeignKey(
        "policies.Measure",
        verbose_name=_("支持措施"),
        on_delete=models.PROTECT,
        related_name="subsidy_batches",
    )
    period_start = models.DateField(_("计息期间自"))
    period_end = models.DateField(_("计息期间至"))
    status = models.CharField(
        _("状态"),
        max_length=16,
        choices=SubsidyBatchStatus.choices,
        default=SubsidyBatchStatus.CALCULATED,
    )
    created_by = models.ForeignKey(
        _USER,
        verbose_name=_("测算人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("贴息批次")
        verbose_name_plural = _("贴息批次")
        ordering = ["-period_end", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["measure", "period_start", "period_end"], name="subsidy_batch_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.measure_id} {self.period_start}~{self.period_end}"


class SubsidyLine(models.Model):
    """One loan's subsidy: interest actually paid × ratio, capped; the lender confirms."""

    batch = models.ForeignKey(
        SubsidyBatch, verbose_name=_("贴息批次"), on_delete=models.CASCADE, related_name="lines"
    )
    loan = models.ForeignKey(
        "marketplace.Loan", verbose_name=_("贷款"), on_delete=models.PROTECT, related_name="+"
    )
    entity = models.ForeignKey(
        "enterprises.MarketEntity",
        verbose_name=_("市场主体"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    institution = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("贷款机构"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    interest_paid = models.DecimalField(_("期间实付利息（元）"), max_digits=16, decimal_places=2)
    computed = models.DecimalField(_("按比例测算（元）"), max_digits=16, decimal_places=2)
    amount = models.DecimalField(_("贴息金额（元）"), max_digits=16, decimal_places=2)
    cap_note = models.CharField(_("封顶说明"), max_length=200, blank=True, default="")
    status = models.CharField(
        _("状态"),
        max_length=16,
        choices=SubsidyLineStatus.choices,
        default=SubsidyLineStatus.PENDING,
    )
    confirmed_by = models.ForeignKey(
        _USER,
        verbose_name=_("确认人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    dispute_note = models.CharField(_("异议说明"), max_length=300, blank=True, default="")

    class Meta:
        verbose_name = _("贴息明细")
        verbose_name_plural = _("贴息明细")
        constraints = [
            models.UniqueConstraint(fields=["batch", "loan"], name="subsidy_line_unique")
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.loan_id} {self.amount}"
