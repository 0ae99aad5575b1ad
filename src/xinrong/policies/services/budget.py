"""A measure's budget: every grant is committed against it, and it is never exceeded.

``grant_commit`` locks the measure row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite serialises
writers with its write lock), sums the live grants (committed or disbursed) and refuses a grant
that would take the sum past the budget. The budget's use is derived from the grant rows, never
kept as a running total that could drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.common.errors import ApplicationError, ConflictError
from xinrong.policies.choices import GrantSource, GrantStatus
from xinrong.policies.models import Grant, Measure

LIVE = (GrantStatus.COMMITTED, GrantStatus.DISBURSED)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class BudgetUse:
    """How much of a measure's budget is committed, disbursed and left (None: no budget set)."""

    budget: Decimal | None
    committed: Decimal  # committed and not yet disbursed
    disbursed: Decimal
    left: Decimal | None

    @property
    def used(self) -> Decimal:
        return self.committed + self.disbursed


def budget_use(*, measure: Measure) -> BudgetUse:
    """Return the measure's budget use, summed from its grants."""
    sums = {
        row["status"]: row["total"] or Decimal("0")
        for row in Grant.objects.filter(measure=measure, status__in=LIVE)
        .values("status")
        .annotate(total=Sum("amount"))
    }
    committed = sums.get(GrantStatus.COMMITTED, Decimal("0"))
    disbursed = sums.get(GrantStatus.DISBURSED, Decimal("0"))
    left = None if measure.budget is None else measure.budget - committed - disbursed
    return BudgetUse(measure.budget, committed, disbursed, left)


def _amount(value: Decimal) -> Decimal:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ApplicationError(
            "invalid_amount", _("金额必须是数字"), {"field": "amount"}, status=422
        )
    if value <= 0:
        raise ApplicationError(
            "invalid_amount", _("金额必须大于0元"), {"field": "amount"}, status=422
        )
    if value != value.quantize(CENT):
        raise ApplicationError(
            "invalid_amount", _("金额最多保留两位小数（分）"), {"field": "amount"}, status=422
        )
    return value


@dataclass(frozen=True)
class GrantRow:
    """One grant to commit in a batch: to whom, how much, and the case it pays."""

    entity: Any
    amount: Decimal
    application: Any = None
    auto_entry: Any = None
    subsidy_line: Any = None


@transaction.atomic
def grants_commit(
    *, measure: Measure, rows: list[GrantRow], source: str, actor: Any = None
) -> list[Grant]:
    """Commit many grants of ``measure`` at once, all or nothing; refuse past the budget.

    The measure row is locked once (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite serialises
    writers), the live grants summed once, and the new grants written in one bulk insert.
    Raises ``budget_exceeded`` (409) naming what is left when their total does not fit.
    """
    if source not in GrantSource.values:
        raise ApplicationError("invalid_source", _("资金来源不正确"), {"field": "source"})
    amounts = [_amount(row.amount) for row in rows]
    total = sum(amounts, Decimal("0"))
    locked = Measure.objects.select_for_update().get(pk=measure.pk)
    if locked.budget is not None:
        used = Grant.objects.filter(measure=locked, status__in=LIVE).aggregate(s=Sum("amount"))[
            "s"
        ] or Decimal("0")
        left = locked.budget - used
        if total > left:
            raise ConflictError(
                "budget_exceeded",
                _("超出措施预算：预算%(b)s元，已核定%(u)s元，剩余%(l)s元，本次%(a)s元")
                % {"b": locked.budget, "u": used, "l": left, "a": total},
                {"field": "amount", "left": str(left)},
            )
    now = timezone.now()
    return Grant.objects.bulk_create(
        [
            Grant(
                measure=locked,
                entity=row.entity,
                amount=amount,
                source=source,
                status=GrantStatus.COMMITTED,
                application=row.application,
                auto_entry=row.auto_entry,
                subsidy_line=row.subsidy_line,
                committed_at=now,
                created_by=actor,
            )
            for row, amount in zip(rows, amounts, strict=True)
        ],
        batch_size=1000,
    )


def grant_commit(
    *,
    measure: Measure,
    entity: Any,
    amount: Decimal,
    source: str,
    actor: Any = None,
    application: Any = None,
    auto_entry: Any = None,
    subsidy_line: Any = None,
) -> Grant:
    """Commit ``amount`` yuan of ``measure``'s budget to ``entity``; refuse past the budget.

    Raises ``budget_exceeded`` (409) naming what is left when the grant does not fit.
    """
    row = GrantRow(entity, amount, application, auto_entry, subsidy_line)
    return grants_commit(measure=measure, rows=[row], source=source, actor=actor)[0]


@transaction.atomic
def grant_disburse(*, grant: Grant, voucher_no: str, actor: Any = None) -> Grant:
    """Record that a committed grant was paid out (with the payment voucher's number)."""
    locked = Grant.objects.select_for_update().get(pk=grant.pk)
    voucher_no = (voucher_no or "").strip()
    if not voucher_no:
        raise ApplicationError(
            "voucher_required", _("请填写拨付凭证号"), {"field": "voucher_no"}, status=422
        )
    if len(voucher_no) > 64:
        raise ApplicationError(
            "voucher_too_long", _("拨付凭证号最多64个字符"), {"field": "voucher_no"}, status=422
        )
    if locked.status != GrantStatus.COMMITTED:
        raise ConflictError(
            "grant_not_committed",
            _("只有“已核定待拨付”的资金可以拨付，当前状态：%(s)s")
            % {"s": locked.get_status_display()},
            {"field": "status"},
        )
    locked.status = GrantStatus.DISBURSED
    locked.voucher_no = voucher_no
    locked.disbursed_at = timezone.now()
    if actor is not None and locked.created_by_id is None:
        locked.created_by = actor
    locked.save(update_fields=["status", "voucher_no", "disbursed_at", "created_by"])
    return locked


@transaction.atomic
def grant_cancel(*, grant: Grant) -> Grant:
    """Release a committed (not yet paid) grant back to the budget."""
    locked = Grant.objects.select_for_update().get(pk=grant.pk)
    if locked.status != GrantStatus.COMMITTED:
        raise ConflictError(
            "grant_not_committed",
            _("只有“已核定待拨付”的资金可以取消，当前状态：%(s)s")
            % {"s": locked.get_status_display()},
            {"field": "status"},
        )
    locked.status = GrantStatus.CANCELLED
    locked.save(update_fields=["status"])
    return locked
