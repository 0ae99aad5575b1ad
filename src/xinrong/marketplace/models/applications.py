"""Loan applications, tracked from submission to the loan's end, and their timeline."""

from __future__ import annotations

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
    RejectReason,
    RepaymentMethod,
)
from xinrong.marketplace.models.demands import Demand
from xinrong.marketplace.models.products import Product, ProductVersion
from xinrong.workflows.timeline import TimelineEvent


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
        null=True,
        blank=True,
        related_name="loan_applications",
        help_text=_("企业申请时授予的查询授权；机构导入的历史贷款没有平台上的授权"),
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
    imported = models.BooleanField(
        _("历史导入"),
        default=False,
        help_text=_("机构接入平台时批量导入的存量贷款，未在平台上办理申请流程"),
    )

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
