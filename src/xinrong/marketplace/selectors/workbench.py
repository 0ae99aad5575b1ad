"""Reads behind the role workbenches (home pages): queues, loan books, monthly figures.

Every figure starts from the same visibility the list pages use (``applications_visible``,
``entity_demands``, ``held_demands``, ``escalated_demands``, ``review_queue``), so a count on a
workbench equals the count on the list it links to.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, F, Max, Min, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts.models import User
from xinrong.accounts.permissions import can, region_q
from xinrong.marketplace.choices import (
    ACTIVE_STATUSES,
    PENDING_STATUSES,
    ApplicationEventKind,
    ApplicationStatus,
    DemandStatus,
    ProductStatus,
    ProductType,
)
from xinrong.marketplace.matching import Match
from xinrong.marketplace.models import ApplicationEvent, Demand, LoanApplication, Product
from xinrong.marketplace.selectors.applications import applications_visible
from xinrong.marketplace.selectors.centres import first_loan_offer
from xinrong.marketplace.selectors.demands import (
    demand_hall,
    demand_matches,
    entity_demands,
    escalated_demands,
)
from xinrong.marketplace.selectors.products import (
    institution_products,
    products_by_id,
    review_queue,
)
from xinrong.marketplace.workflows import APPLICATION

S = ApplicationStatus
# The forward steps an institution's staff take on an application (their work queue); reject,
# withdraw and the loan's own moves are not a queue of their own.
QUEUE_ACTIONS = ("accept", "review", "approve", "sign", "disburse")
# Statuses of a loan on the books (the application's statuses after disbursement).
BOOK_STATUSES = (S.DISBURSED, S.REPAYING, S.OVERDUE, S.DEFAULTED)
# The application statuses the enterprise follows: waiting for the institution, or repaying.
LIVE_LOAN_STATUSES = (S.DISBURSED, S.REPAYING, S.OVERDUE)
ENTERPRISE_OPEN = (*ACTIVE_STATUSES, *LIVE_LOAN_STATUSES)


def _beijing() -> dt.tzinfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


@dataclass
class OpenApplication:
    """An application still on its way, with its next step and that step's deadline."""

    application: LoanApplication
    next_step: str
    who: str
    due: dt.datetime | None
    late: bool
    by_day: bool = False  # the deadline is a day (an instalment), not a moment


def next_step(app: LoanApplication) -> tuple[str, str]:
    """Return (the next forward step's label, whom it waits for) for an application."""
    for action in APPLICATION.actions_from(app.status):
        if action.name in QUEUE_ACTIONS:
            return str(action.label), str(action.who)
    return "", ""


def enterprise_open_applications(
    *, user: User, limit: int = 5
) -> tuple[list[OpenApplication], int]:
    """Return the enterprise's applications on their way and loans being repaid (the nearest
    deadline first: the service deadline, or the next unpaid instalment), and their count."""
    qs = applications_visible(user=user).filter(status__in=ENTERPRISE_OPEN)
    total = qs.count()
    now = timezone.now()
    tz = _beijing()
    rows = []
    annotated = qs.annotate(
        next_due=Min("loan__instalments__due_on", filter=Q(loan__instalments__paid_on__isnull=True))
    )
    for app in annotated.order_by(
        F("sla_due_at").asc(nulls_last=True),
        F("next_due").asc(nulls_last=True),
        "-submitted_at",
        "-id",
    )[:limit]:
        if app.status in LIVE_LOAN_STATUSES:
            due_on = app.next_due
            due = dt.datetime.combine(due_on, dt.time(23, 59), tzinfo=tz) if due_on else None
            rows.append(
                OpenApplication(
                    app, _("按期还款"), _("贷款企业"), due, bool(due and due < now), by_day=True
                )
            )
            continue
        label, who = next_step(app)
        due = app.sla_due_at if app.status in PENDING_STATUSES else None
        rows.append(OpenApplication(app, label, who, due, bool(due and due < now)))
    return rows, total


@dataclass
class DemandRow:
    """One of the enterprise's demands and who took it (抢单), if anyone holds it now."""

    demand: Demand
    taker: str
    held_until: dt.datetime | None


def enterprise_demands(*, user: User, limit: int = 5) -> tuple[list[DemandRow], int]:
    """Return the enterprise's open demands with the institution holding each, and their count."""
    qs = entity_demands(user=user).filter(status=DemandStatus.OPEN).select_related("held_by")
    total = qs.count()
    now = timezone.now()
    rows = []
    for d in qs[:limit]:
        held = d.held_by is not None and d.held_until is not None and d.held_until > now
        rows.append(
            DemandRow(
                d, d.held_by.name if held and d.held_by else "", d.held_until if held else None
            )
        )
    return rows, total


def enterprise_matches(
    *, user: User, limit: int = 5
) -> tuple[Demand | None, list[tuple[Product, Match]]]:
    """Return the enterprise's newest open demand and the products the matching ranks for it."""
    demand = entity_demands(user=user).filter(status=DemandStatus.OPEN).first()
    if demand is None:
        return None, []
    matches = list(demand_matches(demand=demand, limit=limit).matches)
    found = products_by_id(ids=[m.product_id for m in matches])
    return demand, [(found[m.product_id], m) for m in matches if m.product_id in found]


def enterprise_first_loan_products(*, user: User, limit: int = 5) -> list[Product]:
    """Return first-loan products the enterprise qualifies for, if it never had a loan (the
    first-loan centre's offer; empty for an enterprise that has borrowed)."""
    offer = first_loan_offer(user=user)
    if offer is None or offer.has_loan:
        return []
    return [
        o.product
        for o in offer.options
        if o.verdict
        and o.verdict.eligible
        # guarantee and insurance products go with a loan; they are not loans themselves
        and getattr(o.product.current_version, "product_type", "") != ProductType.GUARANTEE
    ][:limit]


# ---------------------------------------------------------------- institutions


def queue_statuses(*, user: User) -> list[str]:
    """Return the application statuses in which the user has a forward step to take."""
    out = []
    for status in S.values:
        for action in APPLICATION.actions_from(status):
            if action.name in QUEUE_ACTIONS and can(user, APPLICATION.permission(action)):
                out.append(status)
                break
    return out


@dataclass
class Queue:
    """An institution user's work queue: counts per status, the late ones, the nearest first."""

    by_status: list[tuple[str, str, int]]  # (status, label, count)
    total: int
    late: int
    rows: list[OpenApplication] = field(default_factory=list)


def institution_queue(*, user: User, limit: int = 8) -> Queue:
    """Return the applications waiting for the user's step, the nearest service deadline first."""
    statuses = queue_statuses(user=user)
    visible = applications_visible(user=user)
    counts = dict(
        visible.filter(status__in=statuses)
        .order_by()
        .values("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    now = timezone.now()
    # the same rule as the list's 「已超时」 filter (pending and past the deadline)
    late = visible.filter(status__in=PENDING_STATUSES, sla_due_at__lt=now).count()
    rows = []
    qs = visible.filter(status__in=statuses).order_by(
        F("sla_due_at").asc(nulls_last=True), "submitted_at", "id"
    )
    for app in qs[:limit]:
        label, who = next_step(app)
        due = app.sla_due_at if app.status in PENDING_STATUSES else None
        rows.append(OpenApplication(app, label, who, due, bool(due and due < now)))
    by_status = [(s, str(S(s).label), counts.get(s, 0)) for s in statuses]
    return Queue(by_status, sum(counts.values()), late, rows)


@dataclass
class LoanBook:
    """The institution's loans on the books: balance, overdue, the worst first."""

    count: int
    balance: Decimal
    overdue_count: int
    overdue_balance: Decimal
    defaulted_count: int
    max_overdue_days: int
    worst: list[LoanApplication]


def loan_book(*, user: User, limit: int = 5) -> LoanBook:
    """Return the loans of the applications the user sees, in one aggregate and one list."""
    book = applications_visible(user=user).filter(status__in=BOOK_STATUSES, loan__isnull=False)
    figures = book.aggregate(
        n=Count("id"),
        balance=Sum("loan__outstanding"),
        overdue_n=Count("id", filter=Q(status=S.OVERDUE)),
        overdue_balance=Sum("loan__outstanding", filter=Q(status=S.OVERDUE)),
        defaulted_n=Count("id", filter=Q(status=S.DEFAULTED)),
        worst_days=Max("loan__overdue_days"),
    )
    worst = list(
        book.filter(loan__overdue_days__gt=0)
        .select_related("loan")
        .order_by("-loan__overdue_days", "id")[:limit]
    )
    return LoanBook(
        figures["n"] or 0,
        figures["balance"] or Decimal("0.00"),
        figures["overdue_n"] or 0,
        figures["overdue_balance"] or Decimal("0.00"),
        figures["defaulted_n"] or 0,
        figures["worst_days"] or 0,
        worst,
    )


def product_counts(*, user: User) -> list[tuple[str, str, int]]:
    """Return how many of the institution's products are in each status (status, label, n)."""
    rows = dict(
        institution_products(user=user)
        .order_by()
        .values("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return [(s, str(label), rows.get(s, 0)) for s, label in ProductStatus.choices]


def hall_preview(*, user: User, limit: int = 5) -> tuple[list[Demand], int]:
    """Return the first demands of the institution's demand hall and how many it holds."""
    entries, total = demand_hall(user=user, limit=limit)
    return [d for _e, d in entries], total


@dataclass
class Month:
    """One month of an institution's lending figures (Beijing time)."""

    month: str  # YYYY-MM
    applications: int = 0
    approvals: int = 0
    rejections: int = 0
    disbursed: int = 0
    disbursed_amount: Decimal = Decimal("0.00")
    overdue: int = 0
    decided: int = 0
    decide_days_total: float = 0.0

    @property
    def avg_days_to_decide(self) -> Decimal | None:
        """Average days from submission to the decision of the month's decided applications."""
        if not self.decided:
            return None
        return Decimal(str(round(self.decide_days_total / self.decided, 1)))


def _months(today: dt.date, n: int) -> list[str]:
    out = []
    y, m = today.year, today.month
    for _i in range(n):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out[::-1]


def institution_monthly(*, user: User, months: int = 12) -> list[Month]:
    """Return the institution's figures for each of the last ``months`` months, oldest first.

    Applications by submission month; approvals and rejections by the month of the event;
    disbursements by the loan's disbursement date; overdue by the month a loan first fell
    overdue; average days to decide over the applications decided in the month.
    """
    tz = _beijing()
    today = timezone.localdate()
    keys = _months(today, months)
    first = dt.datetime.strptime(keys[0] + "-01", "%Y-%m-%d").replace(tzinfo=tz)
    table = {k: Month(k) for k in keys}
    visible = applications_visible(user=user).order_by()

    def key(value: dt.datetime | dt.date | None) -> str | None:
        if value is None:
            return None
        return f"{value.year:04d}-{value.month:02d}"

    for month, n in (
        visible.filter(submitted_at__gte=first)
        .annotate(m=TruncMonth("submitted_at", tzinfo=tz))
        .values("m")
        .annotate(n=Count("id"))
        .values_list("m", "n")
    ):
        if (k := key(month)) in table:
            table[k].applications += n
    events = (
        ApplicationEvent.objects.filter(
            application__in=visible.values("pk"),
            created_at__gte=first,
            kind__in=(
                ApplicationEventKind.APPROVED,
                ApplicationEventKind.REJECTED,
                ApplicationEventKind.OVERDUE,
            ),
        )
        .order_by()
        .annotate(m=TruncMonth("created_at", tzinfo=tz))
        .values("m", "kind")
        .annotate(n=Count("application_id", distinct=True))
        .values_list("m", "kind", "n")
    )
    for month, kind, n in events:
        k = key(month)
        if k not in table:
            continue
        if kind == ApplicationEventKind.APPROVED:
            table[k].approvals += n
        elif kind == ApplicationEventKind.REJECTED:
            table[k].rejections += n
        else:
            table[k].overdue += n
    for month, n, amount in (
        visible.filter(loan__isnull=False, loan__disbursed_on__gte=first.date())
        .annotate(m=TruncMonth("loan__disbursed_on"))
        .values("m")
        .annotate(n=Count("id"), amount=Sum("loan__principal"))
        .values_list("m", "n", "amount")
    ):
        if (k := key(month)) in table:
            table[k].disbursed += n
            table[k].disbursed_amount += amount or Decimal("0.00")
    for submitted, decided in visible.filter(
        decided_at__isnull=False, decided_at__gte=first
    ).values_list("submitted_at", "decided_at"):
        k = key(timezone.localtime(decided, tz)) if decided is not None else None
        if k in table and decided is not None:
            table[k].decided += 1
            table[k].decide_days_total += (decided - submitted).total_seconds() / 86400
    return [table[k] for k in keys]


# ---------------------------------------------------------------- the operator


@dataclass
class MarketplaceAttention:
    """What the operator (a sub-station: its region) should act on in the marketplace."""

    products_in_review: int
    demands_untaken: int
    applications_late: int
    open_demands: int


def operator_attention(*, user: User) -> MarketplaceAttention:
    """Return products awaiting review, untaken and open demands, late applications (counts)."""
    late = applications_visible(user=user, late_only=True).count()
    untaken = escalated_demands(user=user).count()
    opened = Demand.objects.filter(status=DemandStatus.OPEN).filter(region_q(user, "division_code"))
    return MarketplaceAttention(review_queue(user=user).count(), untaken, late, opened.count())


def operator_lending(*, user: User) -> dict[str, object]:
    """Return the platform's (region's) lending figures: applications, loans, balance."""
    visible = applications_visible(user=user).order_by()
    return visible.aggregate(
        applications=Count("id"),
        pending=Count("id", filter=Q(status__in=PENDING_STATUSES)),
        loans=Count("id", filter=Q(status__in=BOOK_STATUSES, loan__isnull=False)),
        balance=Sum("loan__outstanding", filter=Q(status__in=BOOK_STATUSES)),
        overdue=Count("id", filter=Q(status=S.OVERDUE)),
    )
