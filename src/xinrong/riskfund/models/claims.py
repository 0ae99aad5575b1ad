"""Claims (补偿申请) on defaulted platform loans and the recoveries (追偿) reported after them.

先补后追: the fund pays its share of the loss first; each recovery the institution reports and
the platform office confirms returns the government's pro-rata share to the fund.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinrong.common.access import RestrictedQuerySet
from xinrong.common.models import TimeStampedModel
from xinrong.riskfund.choices import ClaimStatus, RecoveryStatus
from xinrong.riskfund.models.funds import Fund
from xinrong.riskfund.models.rules import RuleSet
from xinrong.workflows.timeline import TimelineEvent

_USER = settings.AUTH_USER_MODEL
CLOSED_CLAIM = (ClaimStatus.REJECTED, ClaimStatus.WITHDRAWN)


class Claim(TimeStampedModel):
    """An institution's claim for compensation on one defaulted platform loan."""

    number = models.CharField(_("申请编号"), max_length=32, unique=True)
    fund = models.ForeignKey(
        Fund, verbose_name=_("基金"), on_delete=models.PROTECT, related_name="claims"
    )
    rule_set = models.ForeignKey(
        RuleSet,
        verbose_name=_("适用规则（按放款日）"),
        on_delete=models.PROTECT,
        related_name="claims",
    )
    loan = models.ForeignKey(
        "marketplace.Loan",
        verbose_name=_("贷款"),
        on_delete=models.PROTECT,
        related_name="risk_claims",
    )
    institution = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("金融机构"),
        on_delete=models.PROTECT,
        related_name="risk_claims",
    )
    entity = models.ForeignKey(
        "enterprises.MarketEntity",
        verbose_name=_("借款企业"),
        on_delete=models.PROTECT,
        related_name="risk_claims",
    )
    loss_principal = models.DecimalField(_("本金损失（元）"), max_digits=16, decimal_places=2)
    loss_interest = models.DecimalField(
        _("利息损失（元）"), max_digits=16, decimal_places=2, default=0
    )
    guarantor_paid = models.DecimalField(
        _("担保/保险机构已代偿（元）"), max_digits=16, decimal_places=2, default=0
    )
    base = models.DecimalField(
        _("分担基数（元）"),
        max_digits=16,
        decimal_places=2,
        help_text=_("损失扣除担保/保险代偿后的余额"),
    )
    share = models.DecimalField(_("政府分担比例"), max_digits=4, decimal_places=3)
    amount = models.DecimalField(_("申请补偿金额（元）"), max_digits=16, decimal_places=2)
    status = models.CharField(
        _("状态"),
        max_length=12,
        choices=ClaimStatus.choices,
        default=ClaimStatus.SUBMITTED,
        db_index=True,
    )
    note = models.TextField(_("申请说明"), blank=True, default="")
    filed_by = models.ForeignKey(
        _USER, verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(_("提交时间"), default=timezone.now, db_index=True)
    decided_at = models.DateTimeField(_("审批完成时间"), null=True, blank=True)
    paid_at = models.DateTimeField(_("补偿支付时间"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("风险补偿申请")
        verbose_name_plural = _("风险补偿申请")
        ordering = ["-submitted_at", "-id"]
        indexes = [
            models.Index(fields=["institution", "status"], name="riskfund_claim_inst_idx"),
            models.Index(fields=["fund", "status"], name="riskfund_claim_fund_idx"),
        ]
        constraints = [
            # one live claim per loan (a rejected or withdrawn one may be filed again)
            models.UniqueConstraint(
                fields=["loan"],
                condition=~Q(status__in=CLOSED_CLAIM),
                name="riskfund_claim_one_live_per_loan",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="riskfund_claim_amount_pos"),
            models.CheckConstraint(
                condition=Q(loss_principal__gte=0)
                & Q(loss_interest__gte=0)
                & Q(guarantor_paid__gte=0)
                & Q(base__gte=0),
                name="riskfund_claim_figures_nonneg",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class ClaimEvent(TimelineEvent):
    """One step of a claim's timeline."""

    claim = models.ForeignKey(
        Claim, verbose_name=_("补偿申请"), on_delete=models.CASCADE, related_name="events"
    )

    class Meta(TimelineEvent.Meta):
        verbose_name = _("补偿申请记录")
        verbose_name_plural = _("补偿申请记录")


class ClaimEvidence(models.Model):
    """A file the institution attached to its claim (judgment, collection record, ledger…)."""

    claim = models.ForeignKey(
        Claim, verbose_name=_("补偿申请"), on_delete=models.CASCADE, related_name="evidence"
    )
    name = models.CharField(_("材料名称"), max_length=100)
    file = models.FileField(_("文件"), upload_to="riskfund/evidence/")
    uploaded_by = models.ForeignKey(
        _USER,
        verbose_name=_("上传人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now)

    class Meta:
        verbose_name = _("补偿申请材料")
        verbose_name_plural = _("补偿申请材料")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name


class Recovery(TimeStampedModel):
    """Money the institution recovered (追偿) on a compensated loan, reported for review."""

    claim = models.ForeignKey(
        Claim, verbose_name=_("补偿申请"), on_delete=models.PROTECT, related_name="recoveries"
    )
    number = models.CharField(_("追偿编号"), max_length=32, unique=True)
    amount = models.DecimalField(_("追回金额（元）"), max_digits=16, decimal_places=2)
    recovered_on = models.DateField(_("追回日期"))
    gov_return = models.DecimalField(
        _("返还基金金额（元）"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    status = models.CharField(
        _("状态"),
        max_length=12,
        choices=RecoveryStatus.choices,
        default=RecoveryStatus.REPORTED,
        db_index=True,
    )
    note = models.TextField(_("追偿说明"), blank=True, default="")
    reported_by = models.ForeignKey(
        _USER, verbose_name=_("报告人"), on_delete=models.PROTECT, related_name="+"
    )
    reviewed_by = models.ForeignKey(
        _USER,
        verbose_name=_("审核人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("追偿")
        verbose_name_plural = _("追偿")
        ordering = ["-recovered_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="riskfund_recovery_amount_pos"),
            models.CheckConstraint(
                condition=Q(gov_return__isnull=True) | Q(gov_return__gte=0),
                name="riskfund_recovery_return_nonneg",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def institution_id(self) -> int:
        return self.claim.institution_id


class RecoveryEvent(TimelineEvent):
    """One step of a recovery's timeline."""

    recovery = models.ForeignKey(
        Recovery, verbose_name=_("追偿"), on_delete=models.CASCADE, related_name="events"
    )

    class Meta(TimelineEvent.Meta):
        verbose_name = _("追偿记录")
        verbose_name_plural = _("追偿记录")
