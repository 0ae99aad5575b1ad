"""Choices of the risk-compensation fund: ledger accounts, entries, claims, recoveries, 代偿."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class FundLevel(models.TextChoices):
    """Which government sets the fund up."""

    PROVINCE = "province", _("省级")
    CITY = "city", _("市州级")


class FundStatus(models.TextChoices):
    ACTIVE = "active", _("运行中")
    CLOSED = "closed", _("已停止")


class Account(models.TextChoices):
    """The ledger's accounts (double entry: every entry's debits equal its credits).

    ``cash`` is the fund's money (an asset: debit raises it); the others are where money came
    from or went: injections and recoveries returned are credited, compensations paid are debited.
    """

    CASH = "cash", _("资金专户")
    CAPITAL = "capital", _("财政注资")
    COMPENSATION = "compensation", _("补偿支出")
    RECOVERY = "recovery", _("追偿返还")
    ADJUSTMENT = "adjustment", _("调整")


class EntryKind(models.TextChoices):
    INJECTION = "injection", _("财政注资")
    COMPENSATION = "compensation", _("补偿支付")
    RECOVERY = "recovery", _("追偿返还")
    ADJUSTMENT = "adjustment", _("调整")
    REVERSAL = "reversal", _("冲销")


class LoanKind(models.TextChoices):
    """The kinds of platform loan a rule set may cover (a loan qualifies by any one of them)."""

    CREDIT = "credit", _("信用贷款")
    FIRST = "first", _("首贷")
    ANY = "any", _("全部平台贷款")


class ClaimStatus(models.TextChoices):
    SUBMITTED = "submitted", _("已提交")
    IN_REVIEW = "in_review", _("审批中")
    PAID = "paid", _("已补偿")
    REJECTED = "rejected", _("未通过")
    WITHDRAWN = "withdrawn", _("已撤回")


class RecoveryStatus(models.TextChoices):
    REPORTED = "reported", _("待审核")
    CONFIRMED = "confirmed", _("已确认")
    RETURNED = "returned", _("已退回")


class PayoutStatus(models.TextChoices):
    """A guarantor's or insurer's compensatory payment (代偿/理赔) on a defaulted loan."""

    RECORDED = "recorded", _("已代偿")
    REVERSED = "reversed", _("已冲销")


class BreakerState(models.TextChoices):
    TRIPPED = "tripped", _("暂停补偿")
    RESET = "reset", _("恢复补偿")
