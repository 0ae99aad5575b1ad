"""The statistics summary's refresh: past complete months aggregated set-wise into cells.

``summary_refresh`` replaces every cell in one transaction: one ``DELETE`` and one
``INSERT … SELECT … GROUP BY`` per source (registrations, demands, applications, loans), each the
ORM's own grouped query (the same columns and Beijing-month truncation the live figures use)
wrapped in an ``INSERT`` that sums it again into each grain's cells. Nothing is read into
Python and nothing is written row by row. The cells hold every month before the current Beijing
month (``through``); the dashboard computes the current month, and any month after ``through``,
live.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Min,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import Substr, TruncMonth
from django.utils import timezone

from xinrong.enterprises.models import MarketEntity
from xinrong.insight.models import (
    StatisticsCell,
    StatisticsGrain,
    StatisticsSource,
    StatisticsSummaryState,
)
from xinrong.insight.selectors import statistics as st
from xinrong.marketplace.choices import LoanStatus
from xinrong.marketplace.models import Demand, Loan, LoanApplication

_KEYS = ("month", "division_code", "industry", "institution_id", "product_id")


@dataclass(frozen=True)
class RefreshResult:
    through: dt.date
    cells: int
    seconds: float


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _month_sql(col: str) -> str:
    """The inner query's truncated month (Beijing wall time, no zone) as a date."""
    return f"CAST({col} AS date)" if connection.vendor == "postgresql" else f"date({col})"


def _epoch_sql(col: str) -> str:
    """A summed ``DurationField`` in seconds (PostgreSQL: interval; SQLite: microseconds)."""
    if connection.vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM {col})"
    return f"({col}) / 1000000.0"


def _insert(
    source: StatisticsSource, grouped: QuerySet[Any], figures: dict[str, str], *, raw: bool = False
) -> None:
    """One statement: ``INSERT INTO cells … WITH fine AS (grouped) SELECT … UNION ALL …``.

    ``grouped`` is the source's grouped ORM query (finest keys ``m, div, ind, inst, prod``, or
    per row with ``raw``); ``figures`` maps a cell column to an SQL expression over its aliases
    (``sub.x``). The source is scanned once; ``fine`` is summed again into each grain's cells.
    """
    inner, params = grouped.query.sql_with_params()
    lender = source in _WITH_LENDER
    keys = {
        "m": _month_sql("sub.m"),
        "div": "sub.div",
        "ind": "sub.ind",
        "inst": "sub.inst" if lender else "NULL",
        "prod": "sub.prod" if lender else "NULL",
    }
    # every other figure column is zero (Django's defaults live in Python, not in the table)
    exprs = {name: figures.get(name, "0") for name in st.CELL_FIGURES}
    fine_cols = [f"{sql} AS {k}" for k, sql in keys.items()]
    fine_cols += [f"{sql} AS f_{name}" for name, sql in exprs.items()]
    group = ""
    if raw:  # the inner query is per row: group here
        group = " GROUP BY " + ", ".join(k for k in keys.values() if k != "NULL")
    fine = f"SELECT {', '.join(fine_cols)} FROM ({inner}) sub{group}"  # noqa: S608
    sums = ", ".join(f"SUM(f_{name})" for name in exprs)
    grains: list[tuple[StatisticsGrain, tuple[str, ...]]] = [
        (StatisticsGrain.COUNTY_INDUSTRY, ("m", "div", "ind"))
    ]
    if lender:
        grains += [
            (StatisticsGrain.LENDER_PRODUCT, ("m", "div", "inst", "prod")),
            (StatisticsGrain.LENDER_INDUSTRY, ("m", "div", "ind", "inst")),
        ]
    selects = []
    for grain, kept in grains:
        cols = ", ".join(k if k in kept else "NULL" for k in keys)
        selects.append(
            f"SELECT '{grain.value}', '{source.value}', {cols}, {sums} "  # noqa: S608
            f"FROM fine GROUP BY {', '.join(kept)}"
        )
    table = StatisticsCell._meta.db_table
    names = ", ".join(f'"{c}"' for c in ["grain", "source", *_KEYS, *exprs])
    sql = f"INSERT INTO {table} ({names}) WITH fine AS ({fine}) {' UNION ALL '.join(selects)}"
    with connection.cursor() as cur:
        cur.execute(sql, params)


_WITH_LENDER = (StatisticsSource.APPLICATIONS, StatisticsSource.LOANS)


def _before(qs: QuerySet[Any], column: str, through: dt.date) -> QuerySet[Any]:
    if column == "disbursed_on":
        return qs.filter(disbursed_on__lt=through)
    tz = timezone.get_current_timezone()
    return qs.filter(**{f"{column}__lt": dt.datetime.combine(through, dt.time.min, tzinfo=tz)})


def _loans(through: dt.date) -> None:
    npl = Q(status=LoanStatus.DEFAULTED) | Q(overdue_days__gt=st.NPL_OVERDUE_DAYS)
    od = Q(status=LoanStatus.OVERDUE)
    grouped = (
        _before(Loan.objects.all(), "disbursed_on", through)
        .annotate(
            m=TruncMonth("disbursed_on"),
            div=F("entity__division_code"),
            ind=Substr("entity__industry_code", 1, 1),
            inst=F("institution_id"),
            prod=F("application__product_id"),
        )
        .values("m", "div", "ind", "inst", "prod")
        .annotate(
            n=Count("id"),
            amount=Sum("principal"),
            weight=Sum(
                ExpressionWrapper(F("principal") * F("annual_rate"), output_field=st._MONEY)
            ),
            first=Count("id", filter=Q(first_loan=True)),
            renew=Count("id", filter=Q(renewal=True)),
            od=Count("id", filter=od),
            od_bal=Sum("outstanding", filter=od),
            npl=Count("id", filter=npl),
            npl_bal=Sum("outstanding", filter=npl),
        )
        .order_by()
    )
    _insert(
        StatisticsSource.LOANS,
        grouped,
        {
            "loans": "sub.n",
            "amount": "COALESCE(sub.amount, 0)",
            "rate_weight": "COALESCE(sub.weight, 0)",
            "first_loans": "sub.first",
            "renewals": "sub.renew",
            "overdue": "sub.od",
            "overdue_balance": "COALESCE(sub.od_bal, 0)",
            "npl": "sub.npl",
            "npl_balance": "COALESCE(sub.npl_bal, 0)",
        },
    )


def _applications(through: dt.date) -> None:
    approved = Q(status__in=st.APPROVED_STATUSES)
    timed = approved & Q(decided_at__isnull=False)
    wait = ExpressionWrapper(F("decided_at") - F("submitted_at"), output_field=DurationField())
    grouped = (
        _before(LoanApplication.objects.all(), "submitted_at", through)
        .annotate(
            m=TruncMonth("submitted_at"),
            div=F("entity__division_code"),
            ind=Substr("entity__industry_code", 1, 1),
            inst=F("institution_id"),
            prod=F("product_id"),
        )
        .values("m", "div", "ind", "inst", "prod")
        .annotate(
            n=Count("id"),
            ok=Count("id", filter=approved),
            timed=Count("id", filter=timed),
            wait=Sum(wait, filter=timed),
        )
        .order_by()
    )
    _insert(
        StatisticsSource.APPLICATIONS,
        grouped,
        {
            "applications": "sub.n",
            "approvals": "sub.ok",
            "approvals_timed": "sub.timed",
            "approval_seconds": f"COALESCE({_epoch_sql('sub.wait')}, 0)",
        },
    )


def _demands(through: dt.date) -> None:
    """Per demand its first answer (inner), counted and summed per cell (outer)."""
    per_demand = (
        _before(Demand.objects.all(), "created_at", through)
        .annotate(
            m=TruncMonth("created_at"),
            div=F("division_code"),
            ind=Substr("entity__industry_code", 1, 1),
        )
        .values("pk", "m", "div", "ind", "created_at")
        .annotate(answered_at=Min("events__created_at", filter=Q(events__kind__in=st.ANSWER_KINDS)))
        .order_by()
    )
    if connection.vendor == "postgresql":
        wait = "EXTRACT(EPOCH FROM (sub.answered_at - sub.created_at))"
    else:
        wait = "(julianday(sub.answered_at) - julianday(sub.created_at)) * 86400.0"
    _insert(
        StatisticsSource.DEMANDS,
        per_demand,
        {
            "demands": "COUNT(*)",
            "demands_answered": "COUNT(sub.answered_at)",
            "answer_seconds": f"COALESCE(SUM({wait}), 0)",
        },
        raw=True,
    )


def _registrations(through: dt.date) -> None:
    grouped = (
        _before(
            MarketEntity.objects.filter(organisation__isnull=False),
            "organisation__created_at",
            through,
        )
        .annotate(
            m=TruncMonth("organisation__created_at"),
            div=F("division_code"),
            ind=Substr("industry_code", 1, 1),
        )
        .values("m", "div", "ind")
        .annotate(n=Count("id"))
        .order_by()
    )
    _insert(StatisticsSource.REGISTRATIONS, grouped, {"registrations": "sub.n"})


def summary_refresh(*, today: dt.date | None = None) -> RefreshResult:
    """Rebuild the summary of every complete month before ``today``'s (Beijing) month."""
    t0 = time.perf_counter()
    through = month_start(today or timezone.localdate())
    with transaction.atomic():
        if connection.vendor == "postgresql":  # one refresh at a time; readers never wait
            with connection.cursor() as cur:
                cur.execute(
                    f"LOCK TABLE {StatisticsCell._meta.db_table} IN SHARE ROW EXCLUSIVE MODE"
                )
        state = StatisticsSummaryState.objects.select_for_update().first()
        StatisticsCell.objects.all().delete()
        for fill in (_registrations, _demands, _applications, _loans):
            fill(through)
        cells = StatisticsCell.objects.count()
        seconds = time.perf_counter() - t0
        if state is None:
            state = StatisticsSummaryState(through=through, refreshed_at=timezone.now())
        state.through = through
        state.refreshed_at = timezone.now()
        state.seconds = seconds
        state.cells = cells
        state.save()
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(f"ANALYZE {StatisticsCell._meta.db_table}")
    return RefreshResult(through=through, cells=cells, seconds=seconds)
