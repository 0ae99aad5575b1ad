"""The fund ledger: double-entry postings that can never overdraw a fund or pay a claim twice.

Invariants (tested under concurrency on PostgreSQL):

- a fund's balance is Σ debit − Σ credit of its ``cash`` lines, never a stored running total;
- every entry's debits equal its credits; no entry is edited or deleted (``reverse_entry``);
- the balance never goes below zero: every posting that takes money out locks the fund row
  first and sums the lines under the lock;
- a claim is paid once and a recovery returned once (a partial unique index backs the check).

**Lock order** (the one fixed order every writer follows, so two approvals never deadlock):
the ``Fund`` row, then the ``Claim`` row, then the ``Recovery`` row. A service that pays a claim
calls ``fund_lock`` before the workflow kernel locks the claim.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.common.errors import ApplicationError, ConflictError
from xinrong.riskfund.choices import Account, EntryKind
from xinrong.riskfund.models import Fund, LedgerEntry, LedgerLine

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
A = Account


def money(value: Any, *, field: str = "amount", label: str = "金额") -> Decimal:
    """Return ``value`` as a positive Decimal of whole fen, or raise a field error (422)."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except Exception:
        amount = None
    if amount is None or not amount.is_finite():
        raise ApplicationError(
            "invalid_amount",
            _("%(label)s必须是数字") % {"label": label},
            {"field": field},
            status=422,
        )
    if amount <= 0:
        raise ApplicationError(
            "invalid_amount",
            _("%(label)s必须大于0元") % {"label": label},
            {"field": field},
            status=422,
        )
    if amount != amount.quantize(CENT):
        raise ApplicationError(
            "invalid_amount",
            _("%(label)s最多保留两位小数（分）") % {"label": label},
            {"field": field},
            status=422,
        )
    if amount >= Decimal("1e14"):
        raise ApplicationError(
            "invalid_amount", _("%(label)s过大") % {"label": label}, {"field": field}, status=422
        )
    return amount


# ------------------------------------------------------------------------------------- reads


def fund_balance(fund: Fund | int) -> Decimal:
    """Return the fund's balance: Σ debit − Σ credit of its cash lines."""
    fund_id = fund if isinstance(fund, int) else fund.pk
    return balances([fund_id]).get(fund_id, ZERO)


def balances(fund_ids: Iterable[int]) -> dict[int, Decimal]:
    """Return each fund's balance in one query."""
    rows = (
        LedgerLine.objects.filter(fund_id__in=list(fund_ids), account=A.CASH)
        .values("fund_id")
        .annotate(d=Sum("debit"), c=Sum("credit"))
    )
    return {r["fund_id"]: ((r["d"] or ZERO) - (r["c"] or ZERO)).quantize(CENT) for r in rows}


@dataclass(frozen=True)
class FundFigures:
    """A fund's totals by account, all summed from its ledger lines."""

    balance: Decimal
    injected: Decimal  # capital credited, net of reversals
    compensated: Decimal  # compensation debited, net of reversals
    recovered: Decimal  # recoveries returned, net of reversals
    adjusted: Decimal  # net adjustment into the fund (negative: out)


def fund_figures(fund: Fund) -> FundFigures:
    """Return the fund's balance and its totals by account."""
    sums = {
        r["account"]: ((r["d"] or ZERO), (r["c"] or ZERO))
        for r in LedgerLine.objects.filter(fund=fund)
        .values("account")
        .annotate(d=Sum("debit"), c=Sum("credit"))
    }

    def net_credit(account: str) -> Decimal:
        d, c = sums.get(account, (ZERO, ZERO))
        return (c - d).quantize(CENT)

    cash_d, cash_c = sums.get(A.CASH, (ZERO, ZERO))
    return FundFigures(
        balance=(cash_d - cash_c).quantize(CENT),
        injected=net_credit(A.CAPITAL),
        compensated=-net_credit(A.COMPENSATION),
        recovered=net_credit(A.RECOVERY),
        adjusted=net_credit(A.ADJUSTMENT),
    )


# ------------------------------------------------------------------------------------ writes


def fund_lock(fund: Fund | int) -> Fund:
    """Lock the fund's row for the rest of the transaction (first in the lock order)."""
    fund_id = fund if isinstance(fund, int) else fund.pk
    return Fund.objects.select_for_update().get(pk=fund_id)


def _number(kind: str, now: dt.datetime) -> str:
    prefix = {
        EntryKind.INJECTION: "ZR",
        EntryKind.COMPENSATION: "BC",
        EntryKind.RECOVERY: "ZC",
        EntryKind.ADJUSTMENT: "TZ",
        EntryKind.REVERSAL: "CX",
    }[EntryKind(kind)]
    return f"{prefix}{timezone.localtime(now):%Y%m%d}{uuid.uuid4().hex[:10].upper()}"


Line = tuple[str, Decimal, Decimal]  # account, debit, credit


def _post(
    fund: Fund,
    *,
    kind: str,
    lines: Sequence[Line],
    memo: str,
    actor: Any,
    value_date: dt.date | None = None,
    voucher_no: str = "",
    claim: Any = None,
    recovery: Any = None,
    reverses: LedgerEntry | None = None,
    now: dt.datetime | None = None,
) -> LedgerEntry:
    """Write one balanced entry and its lines; the caller holds the fund lock."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ledger postings run inside the caller's transaction")
    debit = sum((d for _a, d, _c in lines), ZERO)
    credit = sum((c for _a, _d, c in lines), ZERO)
    if debit != credit or debit <= 0:
        raise ValueError(f"unbalanced entry: debit {debit} ≠ credit {credit}")
    now = now or timezone.now()
    try:
        with transaction.atomic():
            entry = LedgerEntry.objects.create(
                fund=fund,
                number=_number(kind, now),
                kind=kind,
                amount=debit,
                value_date=value_date or timezone.localdate(now),
                memo=memo[:200],
                voucher_no=voucher_no,
                claim=claim,
                recovery=recovery,
                reverses=reverses,
                posted_by=actor,
                posted_at=now,
            )
            LedgerLine.objects.bulk_create(
                [
                    LedgerLine(entry=entry, fund=fund, account=a, debit=d, credit=c)
                    for a, d, c in lines
                ]
            )
    except IntegrityError as exc:
        raise ConflictError("already_posted", _("这笔款项已经记账，不能重复记账")) from exc
    return entry


def _refuse_overdraft(fund: Fund, amount: Decimal) -> None:
    balance = fund_balance(fund)
    if amount > balance:
        raise ConflictError(
            "fund_insufficient",
            _("%(fund)s余额 %(balance)s 元，不足以支付 %(amount)s 元")
            % {"fund": fund.name, "balance": f"{balance:,.2f}", "amount": f"{amount:,.2f}"},
            {"field": "amount", "balance": str(balance), "amount": str(amount)},
        )


@transaction.atomic
def injection_post(
    *,
    fund: Fund,
    amount: Any,
    actor: Any,
    value_date: dt.date | None = None,
    voucher_no: str = "",
    memo: str = "",
    now: dt.datetime | None = None,
) -> LedgerEntry:
    """Record money put into the fund (财政注资): debit cash, credit capital."""
    value = money(amount, label=_("注资金额"))
    locked = fund_lock(fund)
    return _post(
        locked,
        kind=EntryKind.INJECTION,
        lines=[(A.CASH, value, ZERO), (A.CAPITAL, ZERO, value)],
        memo=memo or _("财政注资"),
        actor=actor,
        value_date=value_date,
        voucher_no=voucher_no,
        now=now,
    )


@transaction.atomic
def adjustment_post(
    *,
    fund: Fund,
    amount: Any,
    into_fund: bool,
    memo: str,
    actor: Any,
    value_date: dt.date | None = None,
    voucher_no: str = "",
    now: dt.datetime | None = None,
) -> LedgerEntry:
    """Record an adjustment (调整: bank interest in, fees out…); never below a zero balance."""
    value = money(amount, label=_("调整金额"))
    if not (memo or "").strip():
        raise ApplicationError("memo_required", _("请填写调整原因"), {"field": "memo"}, status=422)
    locked = fund_lock(fund)
    if into_fund:
        lines: list[Line] = [(A.CASH, value, ZERO), (A.ADJUSTMENT, ZERO, value)]
    else:
        _refuse_overdraft(locked, value)
        lines = [(A.ADJUSTMENT, value, ZERO), (A.CASH, ZERO, value)]
    return _post(
        locked,
        kind=EntryKind.ADJUSTMENT,
        lines=lines,
        memo=memo.strip(),
        actor=actor,
        value_date=value_date,
        voucher_no=voucher_no,
        now=now,
    )


def compensation_post(
    *, fund: Fund, claim: Any, amount: Decimal, actor: Any, now: dt.datetime | None = None
) -> LedgerEntry:
    """Pay a claim's government share out of the fund: debit compensation, credit cash.

    The caller holds the fund lock (``fund_lock``) and then the claim's (the kernel's), in that
    order, and has checked the claim's status; this refuses an overdraft and a second payment.
    """
    _refuse_overdraft(fund, amount)
    if LedgerEntry.objects.filter(claim=claim, kind=EntryKind.COMPENSATION).exists():
        raise ConflictError("claim_paid", _("这笔补偿申请已经支付过，不能重复支付"))
    return _post(
        fund,
        kind=EntryKind.COMPENSATION,
        lines=[(A.COMPENSATION, amount, ZERO), (A.CASH, ZERO, amount)],
        memo=_("风险补偿支付：%(claim)s") % {"claim": claim.number},
        actor=actor,
        claim=claim,
        now=now,
    )


def recovery_post(
    *, fund: Fund, recovery: Any, amount: Decimal, actor: Any, now: dt.datetime | None = None
) -> LedgerEntry:
    """Return the government's share of a recovery to the fund: debit cash, credit recovery.

    The caller holds the fund lock, then the claim's, then the recovery's.
    """
    if LedgerEntry.objects.filter(recovery=recovery, kind=EntryKind.RECOVERY).exists():
        raise ConflictError("recovery_returned", _("这笔追偿已经返还过基金，不能重复记账"))
    return _post(
        fund,
        kind=EntryKind.RECOVERY,
        lines=[(A.CASH, amount, ZERO), (A.RECOVERY, ZERO, amount)],
        memo=_("追偿返还：%(recovery)s") % {"recovery": recovery.number},
        actor=actor,
        claim=recovery.claim,
        recovery=recovery,
        now=now,
    )


@transaction.atomic
def reverse_entry(
    *, entry: LedgerEntry, actor: Any, memo: str, now: dt.datetime | None = None
) -> LedgerEntry:
    """Reverse a wrong entry with its mirror (冲销), once; never below a zero balance."""
    if not (memo or "").strip():
        raise ApplicationError("memo_required", _("请填写冲销原因"), {"field": "memo"}, status=422)
    locked = fund_lock(entry.fund_id)
    if entry.kind == EntryKind.REVERSAL:
        raise ConflictError("reverse_reversal", _("冲销凭证不能再冲销，请另行调整"))
    if LedgerEntry.objects.filter(reverses=entry).exists():
        raise ConflictError("already_reversed", _("这张凭证已经冲销过"))
    lines = [(ln.account, ln.credit, ln.debit) for ln in entry.lines.all()]
    cash_out = sum((c for a, _d, c in lines if a == A.CASH), ZERO) - sum(
        (d for a, d, _c in lines if a == A.CASH), ZERO
    )
    if cash_out > 0:
        _refuse_overdraft(locked, cash_out)
    return _post(
        locked,
        kind=EntryKind.REVERSAL,
        lines=lines,
        memo=_("冲销 %(number)s：%(memo)s") % {"number": entry.number, "memo": memo.strip()},
        actor=actor,
        reverses=entry,
        claim=None,
        now=now,
    )


def ledger_consistent(fund: Fund) -> bool:
    """Every entry of the fund balances and the balance is not negative (for checks and tests)."""
    per_entry = (
        LedgerLine.objects.filter(fund=fund)
        .values("entry_id")
        .annotate(d=Sum("debit"), c=Sum("credit"))
        .filter(~Q(d=F("c")))
    )
    return not per_entry.exists() and fund_balance(fund) >= 0
