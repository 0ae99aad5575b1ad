"""The statistics summary: refreshed set-wise, read for past complete months, equal to live."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from xinrong.insight.models import (
    StatisticsCell,
    StatisticsGrain,
    StatisticsSource,
    StatisticsSummaryState,
)
from xinrong.insight.selectors import statistics as st
from xinrong.insight.services.statistics import summary_refresh
from xinrong.insight.tasks import statistics_refresh_task
from xinrong.insight.tests.test_statistics import BJ, F, _book
from xinrong.marketplace.models import Loan, LoanApplication

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(make_user, operator, bank_officer):
    return _book(make_user, operator, bank_officer)


def _figures(t: st.Table) -> list[tuple[Any, ...]]:
    """Every row as the page shows it (ratios and averages rounded as displayed) + the total."""
    return [
        (
            r.key,
            r.label,
            r.registrations,
            r.demands,
            r.demands_answered,
            r.days_to_answer,
            r.applications,
            r.approvals,
            r.days_to_approve,
            r.loans,
            r.amount,
            r.average_rate,
            r.first_loans,
            r.renewals,
            r.overdue,
            r.overdue_balance,
            r.npl,
            r.npl_balance,
        )
        for r in [*t.rows, t.total]
    ]


def _assert_equal_live(user: Any, f: st.Filters) -> None:
    for d in st.DIMENSIONS:
        assert _figures(st.table(user, f, d)) == _figures(st.table(user, f, d, live=True)), d


def test_refresh_is_one_insert_per_source_whatever_the_rows(book):
    with CaptureQueriesContext(connection) as ctx:
        r = summary_refresh(today=dt.date(2026, 4, 10))
    inserts = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("INSERT INTO")]
    assert len([q for q in inserts if "insight_statisticscell" in q]) == 4
    assert len(ctx.captured_queries) <= 12  # no per-row statements
    assert r.through == dt.date(2026, 4, 1)
    months = set(StatisticsCell.objects.values_list("month", flat=True))
    # December's application and loan, Q1's; nothing from April on (registrations are today's)
    assert months == {
        dt.date(2025, 12, 1),
        dt.date(2026, 1, 1),
        dt.date(2026, 2, 1),
        dt.date(2026, 3, 1),
    }
    for grain in StatisticsGrain:  # each grain holds all of every lender's loans
        loans = StatisticsCell.objects.filter(source=StatisticsSource.LOANS, grain=grain)
        assert sum(c.loans for c in loans) == 5
        assert sum(c.amount for c in loans) == Decimal("450000.00")
    # demands and registrations have no lender: county × industry only
    assert set(
        StatisticsCell.objects.filter(source=StatisticsSource.DEMANDS).values_list(
            "grain", flat=True
        )
    ) == {StatisticsGrain.COUNTY_INDUSTRY}
    # a second refresh replaces the cells, never adds to them
    n = StatisticsCell.objects.count()
    summary_refresh(today=dt.date(2026, 4, 10))
    assert StatisticsCell.objects.count() == n
    assert StatisticsSummaryState.objects.count() == 1


def test_the_dashboard_reads_the_summary_for_complete_months(book, operator):
    summary_refresh(today=dt.date(2026, 4, 10))
    cell = StatisticsCell.objects.filter(
        source=StatisticsSource.LOANS, month=dt.date(2026, 1, 1), grain="N"
    ).first()
    assert cell is not None
    StatisticsCell.objects.filter(pk=cell.pk).update(loans=cell.loans + 100)
    assert st.totals(operator, F).loans == 104  # the cell was read, not the loans
    assert st.totals(operator, F, live=True).loans == 4
    # a period that starts mid-January computes January live
    mid = st.Filters(dt.date(2026, 1, 2), F.date_to)
    assert st.totals(operator, mid).loans == 4
    summary_refresh(today=dt.date(2026, 4, 10))
    assert st.totals(operator, F).loans == 4


@pytest.mark.parametrize("refreshed_on", [dt.date(2026, 2, 15), dt.date(2026, 3, 10), None])
def test_equal_to_live_for_every_dimension_filter_and_reader(
    book, operator, substation_operator, refreshed_on
):
    summary_refresh(today=refreshed_on)
    p1 = book["p1"]
    periods = [
        F,
        st.Filters(dt.date(2026, 1, 15), dt.date(2026, 3, 5)),  # partial first and last months
        st.Filters(dt.date(2025, 12, 1), dt.date(2026, 12, 31)),
        st.Filters(dt.date(2026, 2, 1), dt.date(2026, 2, 28)),
    ]
    for f in periods:
        for region in ("63", "630100", "632801"):
            _assert_equal_live(operator, st.Filters(f.date_from, f.date_to, region=region))
        _assert_equal_live(
            operator, st.Filters(f.date_from, f.date_to, institution_id=p1.institution_id)
        )
        _assert_equal_live(substation_operator, f)


def test_new_loans_this_month_count_at_once(book, operator, bank_officer):
    summary_refresh()
    today = timezone.localdate()
    year = st.Filters(dt.date(today.year, 1, 1), today)
    before = st.totals(operator, year)
    app = LoanApplication.objects.filter(number="ST0000").get()
    app.pk = None
    app.number = "STNEWA"
    app.submitted_at = timezone.now()
    app.save()
    Loan.objects.create(
        application=app,
        entity=app.entity,
        institution=app.institution,
        number="STNEW",
        principal=Decimal("12345.67"),
        annual_rate=Decimal("4.00"),
        term_months=12,
        repayment_method="equal_instalment",
        disbursed_on=today,
        maturity_on=today + dt.timedelta(days=365),
        outstanding=Decimal("12345.67"),
        status="current",
    )
    after = st.totals(operator, year)
    assert after.loans == before.loans + 1
    assert after.applications == before.applications + 1
    assert after.amount == before.amount + Decimal("12345.67")
    _assert_equal_live(operator, year)


def test_beijing_month_boundary(book, operator):
    """Submitted 00:30 on 1 February in Beijing (31 January in UTC): a February application."""
    app = LoanApplication.objects.filter(number="ST0004").get()
    LoanApplication.objects.filter(pk=app.pk).update(
        submitted_at=dt.datetime(2026, 2, 1, 0, 30, tzinfo=BJ)
    )
    summary_refresh(today=dt.date(2026, 4, 10))
    rows = {r.key: r.applications for r in st.table(operator, F, "month").rows}
    assert rows == {"2026-01": 2, "2026-02": 2, "2026-03": 2}
    _assert_equal_live(operator, F)


def test_a_past_months_status_change_shows_after_the_next_refresh(book, operator):
    """Documented lag: 逾期/不良/获批/响应 of past months are as of the last (hourly) refresh."""
    summary_refresh(today=dt.date(2026, 4, 10))
    Loan.objects.filter(number="STL0000").update(status="overdue", overdue_days=5)
    assert st.totals(operator, F).overdue == 1
    assert st.totals(operator, F, live=True).overdue == 2
    statistics_refresh_task.call()  # the scheduled task (today: every month before this one)
    assert st.totals(operator, F).overdue == 2
    _assert_equal_live(operator, F)


def test_refresh_task_reports_its_work(book):
    out = statistics_refresh_task.call()
    assert out["through"] == timezone.localdate().replace(day=1).isoformat()
    assert out["cells"] == StatisticsCell.objects.count() > 0
    state = StatisticsSummaryState.objects.get()
    assert (state.through.isoformat(), state.cells) == (out["through"], out["cells"])
