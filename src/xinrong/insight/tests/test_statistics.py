"""Statistics: each figure equals a hand count and an independent raw SQL query (SQLite and PG)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from xinrong.enterprises.models import MarketEntity
from xinrong.enterprises.tests.factories import valid_uscc
from xinrong.insight.selectors import statistics as st
from xinrong.insight.services.statistics import summary_refresh
from xinrong.marketplace.models import Demand, DemandEvent, Loan, LoanApplication
from xinrong.marketplace.tests.factories import published_product

pytestmark = pytest.mark.django_db
BJ = timezone.get_fixed_timezone(480)
F = st.Filters(date_from=dt.date(2026, 1, 1), date_to=dt.date(2026, 3, 31))


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=BJ)


@pytest.fixture(params=["live", "summary", "split"])
def book(request, make_user, operator, bank_officer):
    """Two banks, three regions, two industries; applications, loans, demands in and out of Q1.

    Each test runs three times: all live (no summary), all of Q1 from the summary (refreshed
    now), and January from the summary with February and March live (refreshed in February).
    """
    book = _book(make_user, operator, bank_officer)
    if request.param == "summary":
        summary_refresh()
    elif request.param == "split":
        summary_refresh(today=dt.date(2026, 2, 15))
    return book


def _book(make_user, operator, bank_officer):
    from xinrong.accounts.services.organisations import organisation_create

    other_officer = make_user("bank", ["loan_officer"])
    p1 = published_product(bank_officer, operator, code="STA1", name="统计贷甲")
    p2 = published_product(other_officer, operator, code="STA2", name="统计贷乙")
    places = [("630102", "F5211"), ("632801", "C1310"), ("632301", "F5211"), ("630102", "C1310")]
    ents = []
    for k, (div, ind) in enumerate(places):
        org = organisation_create(name=f"统计企业{k}", kind="enterprise") if k < 3 else None
        ents.append(
            MarketEntity.objects.create(
                uscc=valid_uscc(seed=900 + k),
                name=f"统计企业{k}",
                entity_type="enterprise",
                industry_code=ind,
                division_code=div,
                organisation=org,
            )
        )
    # (entity, product, status, submitted, decided after days, loan: (principal, rate, status,
    #  overdue days, outstanding, first, renewal) or None)
    plan: list[tuple[int, Any, str, dt.date, float | None, Any]] = [
        (
            0,
            p1,
            "repaying",
            dt.date(2026, 1, 5),
            2.0,
            ("100000.00", "4.35", "current", 0, "80000.00", True, False),
        ),
        (
            1,
            p1,
            "overdue",
            dt.date(2026, 1, 20),
            3.0,
            ("50000.00", "5.00", "overdue", 30, "45000.50", False, True),
        ),
        (
            2,
            p2,
            "defaulted",
            dt.date(2026, 2, 3),
            1.5,
            ("200000.00", "6.00", "defaulted", 120, "150000.25", True, False),
        ),
        (
            3,
            p2,
            "repaying",
            dt.date(2026, 3, 20),
            0.5,
            ("30000.00", "3.85", "current", 95, "30000.00", False, False),
        ),
        (0, p2, "rejected", dt.date(2026, 2, 10), 4.0, None),
        (1, p1, "submitted", dt.date(2026, 3, 1), None, None),
        (
            2,
            p1,
            "repaying",
            dt.date(2025, 12, 20),
            1.0,
            ("70000.00", "4.00", "current", 0, "70000.00", True, False),
        ),
    ]
    for k, (e, prod, status, day, wait, loan) in enumerate(plan):
        submitted = _at(day)
        app = LoanApplication.objects.create(
            number=f"ST{k:04d}",
            entity=ents[e],
            product=prod,
            product_version=prod.current_version,
            institution=prod.institution,
            amount=Decimal("100000.00"),
            term_months=12,
            repayment_method="equal_instalment",
            status=status,
            submitted_at=submitted,
            decided_at=submitted + dt.timedelta(days=wait) if wait is not None else None,
        )
        if loan:
            principal, rate, lstatus, od, outstanding, first, renewal = loan
            disb = day + dt.timedelta(days=3)
            Loan.objects.create(
                application=app,
                entity=ents[e],
                institution=prod.institution,
                number=f"STL{k:04d}",
                principal=Decimal(principal),
                annual_rate=Decimal(rate),
                term_months=12,
                repayment_method="equal_instalment",
                disbursed_on=disb,
                maturity_on=disb + dt.timedelta(days=365),
                first_loan=first,
                renewal=renewal,
                outstanding=Decimal(outstanding),
                overdue_days=od,
                max_overdue_days=od,
                status=lstatus,
            )
    d_plan = [
        (0, dt.date(2026, 1, 2), 2.5),
        (1, dt.date(2026, 2, 2), None),
        (2, dt.date(2026, 3, 3), 4.0),
    ]
    for e, day, answer in d_plan:
        d = Demand.objects.create(
            entity=ents[e],
            amount=Decimal("100000.00"),
            term_months=12,
            purpose_category="working_capital",
            max_rate=Decimal("8.00"),
            division_code=ents[e].division_code,
        )
        Demand.objects.filter(pk=d.pk).update(created_at=_at(day))
        if answer is not None:
            ev = DemandEvent.objects.create(
                demand=d, kind="taken", created_at=_at(day) + dt.timedelta(days=answer)
            )
            DemandEvent.objects.create(
                demand=d, kind="invited", created_at=ev.created_at + dt.timedelta(days=1)
            )
    return {"ents": ents, "p1": p1, "p2": p2}


def test_totals_by_hand(book, operator):
    t = st.totals(operator, F)
    # registrations: the three entities with an organisation, all created today (not in Q1)
    assert t.applications == 6  # the December one is outside the period
    assert t.approvals == 4
    assert t.approval_share == Decimal("66.7")
    assert t.days_to_approve == Decimal("1.8")  # (2 + 3 + 1.5 + 0.5) / 4 = 1.75
    assert t.loans == 4
    assert t.amount == Decimal("380000.00")
    # (100000×4.35 + 50000×5 + 200000×6 + 30000×3.85) / 380000 = 2000500 / 380000 = 5.2645…
    assert t.average_rate == Decimal("5.26")
    assert (t.first_loans, t.renewals) == (2, 1)
    assert (t.overdue, t.overdue_balance) == (1, Decimal("45000.50"))
    assert (t.npl, t.npl_balance) == (2, Decimal("180000.25"))
    assert t.demands == 3 and t.demands_answered == 2
    assert t.answered_share == Decimal("66.7")
    assert t.days_to_answer == Decimal("3.3")  # (2.5 + 4) / 2 = 3.25


def test_region_drill_and_substation(book, operator, substation_operator):
    regions = {r.key: r for r in st.table(operator, F, "region").rows}
    assert set(regions) == {"6301", "6328", "6323"}
    assert regions["6301"].label == "西宁市" and regions["6301"].drill == "630100"
    assert regions["6301"].loans == 2 and regions["6301"].amount == Decimal("130000.00")
    xining = st.table(operator, st.Filters(F.date_from, F.date_to, region="630100"), "region")
    assert [(r.key, r.loans) for r in xining.rows] == [("630102", 2)]
    golmud = st.table(substation_operator, F, "region")
    assert [(r.key, r.loans, r.amount) for r in golmud.rows] == [("632801", 1, Decimal("50000.00"))]
    # a sub-station asking for another region still sees only its own
    other = st.table(
        substation_operator, st.Filters(F.date_from, F.date_to, region="630100"), "region"
    )
    assert [r.key for r in other.rows] == ["632801"]
    assert st.totals(substation_operator, F).applications == 2


def test_institution_filter(book, operator):
    p1 = book["p1"]
    f = st.Filters(F.date_from, F.date_to, institution_id=p1.institution_id)
    t = st.totals(operator, f)
    assert (t.applications, t.loans, t.amount) == (3, 2, Decimal("150000.00"))
    assert t.demands == 0  # demands belong to no institution
    assert st.overview(operator, f).products == 1


def _sql(query: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cur:
        cur.execute(query, params)
        return list(cur.fetchall())


def _month_sql(column: str, is_date: bool) -> str:
    if connection.vendor == "postgresql":
        col = column if is_date else f"({column} AT TIME ZONE 'Asia/Shanghai')"
        return f"to_char({col}, 'YYYY-MM')"
    return (
        f"strftime('%Y-%m', {column})"
        if is_date
        else f"strftime('%Y-%m', datetime({column}, '+8 hours'))"
    )


LOAN_SQL = """
SELECT {key}, COUNT(*), SUM(l.principal),
       SUM(CASE WHEN l.first_loan THEN 1 ELSE 0 END), SUM(CASE WHEN l.renewal THEN 1 ELSE 0 END),
       SUM(CASE WHEN l.status = 'overdue' THEN 1 ELSE 0 END),
       SUM(CASE WHEN l.status = 'defaulted' OR l.overdue_days > 90 THEN 1 ELSE 0 END),
       SUM(CASE WHEN l.status = 'defaulted' OR l.overdue_days > 90 THEN l.outstanding ELSE 0 END)
FROM marketplace_loan l
JOIN enterprises_marketentity e ON e.id = l.entity_id
JOIN marketplace_loanapplication a ON a.id = l.application_id
WHERE l.disbursed_on BETWEEN %s AND %s
GROUP BY {key}
"""


@pytest.mark.parametrize(
    ("dimension", "key"),
    [
        ("region", "substr(e.division_code, 1, 4)"),
        ("institution", "l.institution_id"),
        ("product", "a.product_id"),
        ("industry", "substr(e.industry_code, 1, 1)"),
        ("month", None),
    ],
)
def test_loans_equal_sql(book, operator, dimension, key):
    key = key or _month_sql("l.disbursed_on", True)
    want = {
        str(r[0]): (
            r[1],
            Decimal(str(r[2])).quantize(Decimal("0.01")),
            r[3],
            r[4],
            r[5],
            r[6],
            Decimal(str(r[7])).quantize(Decimal("0.01")),
        )
        for r in _sql(LOAN_SQL.format(key=key), [F.date_from, F.date_to])
    }
    got = {
        r.key: (r.loans, r.amount, r.first_loans, r.renewals, r.overdue, r.npl, r.npl_balance)
        for r in st.table(operator, F, dimension).rows
        if r.loans
    }
    assert got == want and len(want) >= 2


APP_SQL = """
SELECT {key}, COUNT(*),
       SUM(CASE WHEN a.status IN ('approved','contract_signed','disbursed','repaying','settled',
                                  'overdue','defaulted') THEN 1 ELSE 0 END)
FROM marketplace_loanapplication a
JOIN enterprises_marketentity e ON e.id = a.entity_id
WHERE a.submitted_at >= %s AND a.submitted_at < %s
GROUP BY {key}
"""


@pytest.mark.parametrize(
    ("dimension", "key"),
    [
        ("region", "substr(e.division_code, 1, 4)"),
        ("institution", "a.institution_id"),
        ("month", None),
    ],
)
def test_applications_equal_sql(book, operator, dimension, key):
    key = key or _month_sql("a.submitted_at", False)
    start, end = _at(F.date_from, 0), _at(F.date_to + dt.timedelta(days=1), 0)
    want = {str(r[0]): (r[1], r[2]) for r in _sql(APP_SQL.format(key=key), [start, end])}
    got = {
        r.key: (r.applications, r.approvals)
        for r in st.table(operator, F, dimension).rows
        if r.applications
    }
    assert got == want and len(want) >= 2


DEMAND_SQL = """
SELECT substr(d.division_code, 1, 4), COUNT(*),
       SUM(CASE WHEN EXISTS (SELECT 1 FROM marketplace_demandevent v
                             WHERE v.demand_id = d.id AND v.kind IN ('taken', 'invited'))
                THEN 1 ELSE 0 END)
FROM marketplace_demand d
WHERE d.created_at >= %s AND d.created_at < %s
GROUP BY substr(d.division_code, 1, 4)
"""


def test_demands_and_registrations_equal_sql(book, operator):
    start, end = _at(F.date_from, 0), _at(F.date_to + dt.timedelta(days=1), 0)
    want = {r[0]: (r[1], r[2]) for r in _sql(DEMAND_SQL, [start, end])}
    got = {
        r.key: (r.demands, r.demands_answered)
        for r in st.table(operator, F, "region").rows
        if r.demands
    }
    assert got == want == {"6301": (1, 1), "6328": (1, 0), "6323": (1, 1)}
    today = timezone.localdate()
    f = st.Filters(today - dt.timedelta(days=1), today)
    reg = _sql(
        "SELECT substr(e.division_code, 1, 4), COUNT(*) FROM enterprises_marketentity e "
        "JOIN accounts_organisation o ON o.id = e.organisation_id "
        "WHERE o.created_at >= %s AND o.created_at < %s GROUP BY substr(e.division_code, 1, 4)",
        [_at(f.date_from, 0), _at(f.date_to + dt.timedelta(days=1), 0)],
    )
    got_reg = {
        r.key: r.registrations for r in st.table(operator, f, "region").rows if r.registrations
    }
    assert got_reg == dict(reg) == {"6301": 1, "6328": 1, "6323": 1}


def test_demands_by_month_one_row_per_month(book, operator):
    rows = st.table(operator, F, "month").rows
    got = [(r.key, r.demands, r.demands_answered, r.days_to_answer) for r in rows]
    assert got == [
        ("2026-01", 1, 1, Decimal("2.5")),
        ("2026-02", 1, 0, None),
        ("2026-03", 1, 1, Decimal("4.0")),
    ]
    assert [r.label for r in rows] == ["2026年01月", "2026年02月", "2026年03月"]
