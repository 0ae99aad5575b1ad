"""Reads of the risk funds: which funds a user sees, their figures from the ledger, the balance
by month, the ledger's entries with the balance after each, and the workbench card.

Every figure is summed from ledger lines (``LedgerLine``), never from a stored total.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import (
    DecimalField,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts.permissions import can
from xinrong.common.errors import NotFoundError
from xinrong.riskfund.choices import Account, EntryKind, FundStatus
from xinrong.riskfund.models import Fund, LedgerEntry, LedgerLine

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
A = Account
# the entries a finance department may reverse from the ledger; a payment and a recovery's
# return belong to their claim (reversing them here would leave the claim "paid")
REVERSIBLE_KINDS = (EntryKind.INJECTION, EntryKind.ADJUSTMENT)


WAN = Decimal("10000")
_FIGURES = (
    "balance",
    "injected",
    "compensated",
    "recovered",
    "adjusted",
    "injected_year",
    "compensated_year",
    "recovered_year",
)


def in_wan(amount: Decimal) -> Decimal:
    """Yuan → 万元 to the cent of a 万 (two places), for figures read at a glance."""
    return (amount / WAN).quantize(CENT)


def _wan_of(obj: Any) -> dict[str, Decimal]:
    return {n: in_wan(getattr(obj, n)) for n in _FIGURES if hasattr(obj, n)}


# ------------------------------------------------------------------------------- funds


def funds_visible(*, user: Any) -> QuerySet[Fund]:
    """The funds the user may see (province first, then cities)."""
    return Fund.objects.restrict(user).select_related("manager", "office")


def fund_get(*, user: Any, code: str) -> Fund:
    """The fund with this code if the user may see it, else 404."""
    fund = funds_visible(user=user).filter(code=code).first()
    if fund is None or not can(user, "riskfund.fund_view", fund):
        raise NotFoundError("fund_not_found", _("没有找到这个基金，或您无权查看"))
    return fund


@dataclass(frozen=True)
class FundSummary:
    """A fund's figures, total and this calendar year, all from its ledger lines."""

    fund: Fund
    balance: Decimal
    injected: Decimal
    compensated: Decimal
    recovered: Decimal
    adjusted: Decimal
    injected_year: Decimal
    compensated_year: Decimal
    recovered_year: Decimal
    adjusted_year: Decimal
    year: int

    @property
    def wan(self) -> dict[str, Decimal]:
        """The figures in 万元 (the page's cards; tables keep yuan)."""
        return _wan_of(self)

    @property
    def plan_left(self) -> Decimal:
        """What is still to be injected this year under the fund's yearly plan (never < 0)."""
        return max(self.fund.yearly_injection - self.injected_year, ZERO)

    @property
    def plan_pct(self) -> int | None:
        """This year's injections as a percentage of the yearly plan (None without a plan)."""
        plan = self.fund.yearly_injection
        if not plan:
            return None
        return int((self.injected_year / plan * 100).to_integral_value())


def fund_summaries(
    funds: Sequence[Fund], *, today: dt.date | None = None
) -> dict[int, FundSummary]:
    """Return each fund's summary in one query over its ledger lines."""
    today = today or timezone.localdate()
    start = dt.date(today.year, 1, 1)
    this_year = Q(entry__value_date__gte=start, entry__value_date__lte=today)
    rows = (
        LedgerLine.objects.filter(fund_id__in=[f.pk for f in funds])
        .values("fund_id", "account")
        .annotate(
            d=Sum("debit"),
            c=Sum("credit"),
            dy=Sum("debit", filter=this_year),
            cy=Sum("credit", filter=this_year),
        )
    )
    sums: dict[tuple[int, str], tuple[Decimal, Decimal, Decimal, Decimal]] = {}
    for r in rows:
        sums[(r["fund_id"], r["account"])] = (
            r["d"] or ZERO,
            r["c"] or ZERO,
            r["dy"] or ZERO,
            r["cy"] or ZERO,
        )
    out: dict[int, FundSummary] = {}
    for fund in funds:

        def net_credit(account: str, year: bool = False, fund_id: int = fund.pk) -> Decimal:
            d, c, dy, cy = sums.get((fund_id, account), (ZERO, ZERO, ZERO, ZERO))
            return ((cy - dy) if year else (c - d)).quantize(CENT)

        out[fund.pk] = FundSummary(
            fund=fund,
            balance=-net_credit(A.CASH),
            injected=net_credit(A.CAPITAL),
            compensated=-net_credit(A.COMPENSATION),
            recovered=net_credit(A.RECOVERY),
            adjusted=net_credit(A.ADJUSTMENT),
            injected_year=net_credit(A.CAPITAL, True),
            compensated_year=-net_credit(A.COMPENSATION, True),
            recovered_year=net_credit(A.RECOVERY, True),
            adjusted_year=net_credit(A.ADJUSTMENT, True),
            year=today.year,
        )
    return out


def fund_summary(fund: Fund, *, today: dt.date | None = None) -> FundSummary:
    """Return one fund's summary."""
    return fund_summaries([fund], today=today)[fund.pk]


@dataclass(frozen=True)
class HubTotals:
    """The sums over the funds a user sees (the hub's first line)."""

    balance: Decimal
    injected: Decimal
    compensated: Decimal
    recovered: Decimal
    injected_year: Decimal
    compensated_year: Decimal
    recovered_year: Decimal

    @property
    def wan(self) -> dict[str, Decimal]:
        """The totals in 万元."""
        return _wan_of(self)


def hub_totals(summaries: Iterable[FundSummary]) -> HubTotals:
    """Return the totals over several funds' summaries."""
    rows = list(summaries)

    def total(name: str) -> Decimal:
        return sum((getattr(s, name) for s in rows), ZERO)

    return HubTotals(
        balance=total("balance"),
        injected=total("injected"),
        compensated=total("compensated"),
        recovered=total("recovered"),
        injected_year=total("injected_year"),
        compensated_year=total("compensated_year"),
        recovered_year=total("recovered_year"),
    )


def balance_by_month(fund: Fund, *, today: dt.date | None = None) -> list[dict[str, Any]]:
    """The fund's balance at the end of each month, from its first entry to this month.

    Money moves by each entry's value date (记账日期); a month without entries keeps the balance
    of the month before. Each row: ``month`` ("2026-01"), ``balance``, ``inflow``, ``outflow``
    (Decimal yuan).
    """
    today = today or timezone.localdate()
    rows = (
        LedgerLine.objects.filter(fund=fund, account=A.CASH)
        .annotate(month=TruncMonth("entry__value_date"))
        .values("month")
        .annotate(d=Sum("debit"), c=Sum("credit"))
        .order_by("month")
    )
    moves = {}
    for r in rows:
        month = r["month"]
        if isinstance(month, dt.datetime):
            month = month.date()
        moves[(month.year, month.month)] = (r["d"] or ZERO, r["c"] or ZERO)
    if not moves:
        return []
    y, m = min(moves)
    end = max((today.year, today.month), max(moves))
    balance = ZERO
    out: list[dict[str, Any]] = []
    while (y, m) <= end:
        d, c = moves.get((y, m), (ZERO, ZERO))
        balance += d - c
        out.append({"month": f"{y:04d}-{m:02d}", "balance": balance, "inflow": d, "outflow": c})
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


# ------------------------------------------------------------------------------ ledger


def _cash_sum(side: str) -> Any:
    lines = (
        LedgerLine.objects.filter(entry=OuterRef("pk"), account=A.CASH)
        .order_by()
        .values("entry")
        .annotate(s=Sum(side))
        .values("s")
    )
    money = DecimalField(max_digits=16, decimal_places=2)
    return Coalesce(Subquery(lines, output_field=money), Value(ZERO), output_field=money)


def ledger_entries(*, user: Any, fund: Fund) -> QuerySet[LedgerEntry]:
    """The fund's entries the user may see, newest first, with what each put into (``cash_in``)
    and took out of (``cash_out``) the fund, whether it was reversed, and its lines."""
    return (
        LedgerEntry.objects.restrict(user)
        .filter(fund=fund)
        .select_related("posted_by", "reverses", "claim", "recovery")
        .prefetch_related("lines")
        .annotate(
            cash_in=_cash_sum("debit"),
            cash_out=_cash_sum("credit"),
            is_reversed=Exists(LedgerEntry.objects.filter(reverses=OuterRef("pk"))),
        )
        .order_by("-posted_at", "-id")
    )


def _before(entry: LedgerEntry, *, inclusive: bool) -> Q:
    """Lines of entries posted before ``entry`` (in posting order: time, then id)."""
    same = (
        Q(entry__posted_at=entry.posted_at, entry_id__lte=entry.pk)
        if inclusive
        else Q(entry__posted_at=entry.posted_at, entry_id__lt=entry.pk)
    )
    return Q(entry__posted_at__lt=entry.posted_at) | same


def balances_after(fund: Fund, entries: Sequence[LedgerEntry]) -> dict[int, Decimal]:
    """The fund's balance right after each of ``entries`` was posted (in posting order).

    Two queries whatever the page: the balance before the oldest entry shown, then each cash
    movement from there up to the newest entry shown.
    """
    if not entries:
        return {}
    key = lambda e: (e.posted_at, e.pk)  # noqa: E731
    oldest = min(entries, key=key)
    newest = max(entries, key=key)
    cash = LedgerLine.objects.filter(fund=fund, account=A.CASH)
    base = cash.filter(_before(oldest, inclusive=False)).aggregate(d=Sum("debit"), c=Sum("credit"))
    balance = (base["d"] or ZERO) - (base["c"] or ZERO)
    moves = (
        cash.filter(_before(newest, inclusive=True))
        .exclude(_before(oldest, inclusive=False))
        .values("entry_id", "entry__posted_at")
        .annotate(d=Sum("debit"), c=Sum("credit"))
        .order_by("entry__posted_at", "entry_id")
    )
    wanted = {e.pk for e in entries}
    out: dict[int, Decimal] = {}
    for row in moves:
        balance += (row["d"] or ZERO) - (row["c"] or ZERO)
        if row["entry_id"] in wanted:
            out[row["entry_id"]] = balance.quantize(CENT)
    for e in entries:  # an entry without a cash line leaves the balance as it was
        out.setdefault(e.pk, ZERO)
    return out


def entry_get(*, user: Any, pk: int) -> LedgerEntry:
    """The entry if the user may see its fund, else 404."""
    entry = (
        LedgerEntry.objects.restrict(user).select_related("fund", "reverses").filter(pk=pk).first()
    )
    if entry is None:
        raise NotFoundError("entry_not_found", _("没有找到这张凭证，或您无权查看"))
    return entry


def entry_reversible(entry: LedgerEntry) -> bool:
    """An injection or adjustment not reversed yet (payments follow their claim)."""
    reversed_flag = getattr(entry, "is_reversed", None)
    if reversed_flag is None:
        reversed_flag = LedgerEntry.objects.filter(reverses=entry).exists()
    return entry.kind in REVERSIBLE_KINDS and not reversed_flag


# ---------------------------------------------------------------------------- workbench


def fund_card(*, user: Any, today: dt.date | None = None) -> dict[str, Any] | None:
    """The risk funds the user sees, for the workbench: each fund's balance and this year's
    injections, compensations and recoveries (None: not the user's business)."""
    if not can(user, "riskfund.fund_view"):
        return None
    funds = list(funds_visible(user=user).filter(status=FundStatus.ACTIVE)[:20])
    if not funds:
        return None
    summaries = fund_summaries(funds, today=today)
    rows = [summaries[f.pk] for f in funds]
    return {
        "funds": rows,
        "totals": hub_totals(rows),
        "year": rows[0].year,
        "may_post": any(can(user, "riskfund.fund_post", f) for f in funds),
    }
