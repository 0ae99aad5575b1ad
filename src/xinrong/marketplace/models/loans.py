"""Loans disbursed on applications: the schedule's instalments and the repayments."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.models import Organisation
from xinrong.common.models import TimeStampedModel
from xinrong.enterprises.models import MarketEntity
from xinrong.marketplace.choices import LoanStatus, RepaymentMethod
from xinrong.marketplace.models.applications import LoanApplication


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
    history_digest = models.CharField(
        _("导入内容摘要"),
        max_length=64,
        blank=True,
        default="",
        editable=False,
        help_text=_("历史导入时该笔贷款报文的 SHA-256；同一借据号再次导入时据此判断内容是否相同"),
    )

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


class LoanSubsidy(models.Model):
    """Money a government measure paid toward a loan's interest (贴息), as the loan shows it.

    Written only by ``marketplace.services.loans.loan_subsidy_record`` (the policy module calls it
    when the lender has confirmed a subsidy line and it is granted); ``reference`` names the
    source row so that recording the same subsidy twice keeps one row. It lowers the loan's total
    cost of financing (``marketplace.costs.loan_cost``).
    """

    loan = models.ForeignKey(
        Loan, verbose_name=_("贷款"), on_delete=models.CASCADE, related_name="subsidies"
    )
    amount = models.DecimalField(_("贴息金额（元）"), max_digits=16, decimal_places=2)
    period_start = models.DateField(_("计息期间自"))
    period_end = models.DateField(_("计息期间至"))
    title = models.CharField(_("政策措施"), max_length=200)
    reference = models.CharField(_("来源编号"), max_length=64, unique=True)
    recorded_at = models.DateTimeField(_("登记时间"), default=timezone.now)

    class Meta:
        verbose_name = _("贷款贴息")
        verbose_name_plural = _("贷款贴息")
        ordering = ["loan_id", "period_start", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="marketplace_loansubsidy_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.loan_id} · {self.period_start}~{self.period_end} · {self.amount} 元"
