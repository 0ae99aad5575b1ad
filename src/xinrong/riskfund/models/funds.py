"""Funds and their double-entry ledger (资金台账).

A fund's balance is never stored: it is the sum of the ledger lines on its ``cash`` account.
Every entry's debits equal its credits; no entry is edited or deleted, a wrong one is reversed
by a mirror entry (``reverses``), once.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinrong.common.access import RestrictedQuerySet
from xinrong.common.models import TimeStampedModel
from xinrong.riskfund.choices import Account, EntryKind, FundLevel, FundStatus

_USER = settings.AUTH_USER_MODEL


class Fund(TimeStampedModel):
    """A risk-compensation fund: the provincial fund, or a city's (格尔木's)."""

    code = models.SlugField(_("基金代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    level = models.CharField(_("级别"), max_length=12, choices=FundLevel.choices)
    division_code = models.CharField(
        _("覆盖区域（行政区划代码）"),
        max_length=12,
        help_text=_("贷款企业住所在此区划内的平台贷款由本基金补偿；省级基金填 63"),
    )
    manager = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("管理部门（财政）"),
        on_delete=models.PROTECT,
        related_name="managed_risk_funds",
    )
    office = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("受理机构（平台运营方）"),
        on_delete=models.PROTECT,
        related_name="run_risk_funds",
    )
    yearly_injection = models.DecimalField(
        _("年度计划注资（元）"), max_digits=16, decimal_places=2, default=0
    )
    status = models.CharField(
        _("状态"), max_length=12, choices=FundStatus.choices, default=FundStatus.ACTIVE
    )
    opened_on = models.DateField(_("设立日期"))
    description = models.TextField(_("说明"), blank=True, default="")

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("风险补偿基金")
        verbose_name_plural = _("风险补偿基金")
        ordering = ["division_code", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(yearly_injection__gte=0), name="riskfund_fund_injection_nonnegative"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ImmutableRow(models.Model):
    """A row that is written once: saving it again or deleting it is refused."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValueError(f"{type(self).__name__} rows are never edited (reverse instead)")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ValueError(f"{type(self).__name__} rows are never deleted (reverse instead)")


class LedgerEntry(ImmutableRow):
    """One posting (记账凭证) of a fund's ledger: its lines' debits equal their credits."""

    fund = models.ForeignKey(
        Fund, verbose_name=_("基金"), on_delete=models.PROTECT, related_name="entries"
    )
    number = models.CharField(_("凭证号"), max_length=32, unique=True)
    kind = models.CharField(_("类型"), max_length=16, choices=EntryKind.choices)
    amount = models.DecimalField(_("金额（元）"), max_digits=16, decimal_places=2)
    value_date = models.DateField(_("记账日期"), db_index=True)
    memo = models.CharField(_("摘要"), max_length=200)
    voucher_no = models.CharField(_("外部凭证号"), max_length=64, blank=True, default="")
    claim = models.ForeignKey(
        "riskfund.Claim",
        verbose_name=_("补偿申请"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="entries",
    )
    recovery = models.ForeignKey(
        "riskfund.Recovery",
        verbose_name=_("追偿"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="entries",
    )
    reverses = models.OneToOneField(
        "self",
        verbose_name=_("冲销的凭证"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversed_by",
    )
    posted_by = models.ForeignKey(
        _USER,
        verbose_name=_("记账人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    posted_at = models.DateTimeField(_("记账时间"), default=timezone.now, db_index=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("台账凭证")
        verbose_name_plural = _("台账凭证")
        ordering = ["-posted_at", "-id"]
        indexes = [models.Index(fields=["fund", "kind"], name="riskfund_entry_fund_kind_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="riskfund_entry_amount_pos"),
            # a claim is paid once and a recovery returned once (a reversal is its own kind)
            models.UniqueConstraint(
                fields=["claim"],
                condition=Q(kind=EntryKind.COMPENSATION),
                name="riskfund_entry_one_payment_per_claim",
            ),
            models.UniqueConstraint(
                fields=["recovery"],
                condition=Q(kind=EntryKind.RECOVERY),
                name="riskfund_entry_one_return_per_recovery",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class LedgerLine(ImmutableRow):
    """One side of an entry: a debit or a credit to one account of the fund."""

    entry = models.ForeignKey(
        LedgerEntry, verbose_name=_("凭证"), on_delete=models.PROTECT, related_name="lines"
    )
    fund = models.ForeignKey(
        Fund, verbose_name=_("基金"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    account = models.CharField(_("科目"), max_length=16, choices=Account.choices)
    debit = models.DecimalField(_("借方（元）"), max_digits=16, decimal_places=2, default=0)
    credit = models.DecimalField(_("贷方（元）"), max_digits=16, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("凭证分录")
        verbose_name_plural = _("凭证分录")
        ordering = ["entry_id", "id"]
        indexes = [models.Index(fields=["fund", "account"], name="riskfund_line_fund_acct_idx")]
        constraints = [
            models.CheckConstraint(
                condition=(Q(debit__gt=0) & Q(credit=0)) | (Q(debit=0) & Q(credit__gt=0)),
                name="riskfund_line_one_side",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entry_id}:{self.account}"
