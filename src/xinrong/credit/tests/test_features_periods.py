"""Period-windowed features read yearly ("YYYY") and monthly ("YYYY-MM") rows by one rule.

Rows go through the delivery pipeline (``batch_ingest``), so the periods are stored exactly as a
department's file makes them. Expected values are worked out by hand from the rows.
"""

import datetime as dt
import io
import math

import pytest
from django.urls import reverse

from xinrong.credit.features import feature_matrix, scorable_facts
from xinrong.datahub.services.ingest import batch_ingest
from xinrong.datahub.services.sources import source_create
from xinrong.enterprises.tests.factories import MarketEntityFactory

pytestmark = pytest.mark.django_db

TAX = "统一社会信用代码,所属期,实缴税额（元）,欠税金额（元）"
SOCIAL = "统一社会信用代码,所属期,参保人数,欠费金额（元）"
UTILITY = "统一社会信用代码,类别,所属期,应缴金额（元）,欠费月数"


@pytest.fixture
def source(make_user):
    dept = make_user("government", ["data_provider"])
    return source_create(
        code="dept",
        name="部门",
        organisation=dept.organisation,
        categories=["tax", "social_security", "utility", "judicial"],
    )


def deliver(source, category, header, rows):
    text = "\n".join([header, *rows]) + "\n"
    batch = batch_ingest(
        source=source,
        category=category,
        fileobj=io.BytesIO(text.encode()),
        filename=f"{category}.csv",
        channel="cli",
    )
    assert batch.rejected == 0, list(batch.errors.values_list("column", "rule"))
    return batch


def months(first: str, last: str) -> list[str]:
    """Every "YYYY-MM" from ``first`` to ``last``."""
    y, m = map(int, first.split("-"))
    out = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def features(entities, day):
    return feature_matrix(entity_ids=[e.pk for e in entities], as_of=day)


def nan(value) -> bool:
    return isinstance(value, float) and math.isnan(value)


# ---------------------------------------------------------------- tax


def test_yearly_tax_rows_give_last_years_amount_and_its_change_through_the_next_year(source):
    """The issue's example: 2024 → 100,000 and 2025 → 200,000 yuan."""
    e = MarketEntityFactory()
    deliver(source, "tax", TAX, [f"{e.uscc},2024,100000,", f"{e.uscc},2025,200000,"])
    for day in (dt.date(2026, 1, 1), dt.date(2026, 6, 15), dt.date(2026, 12, 31)):
        row = features([e], day).loc[e.pk]
        assert row["tax_paid_12m"] == pytest.approx(20.0), day  # 20万元, last year's
        assert row["tax_trend"] == pytest.approx(1.0), day  # +100% on 2024
    # during 2025 only 2024 has ended: its amount, and no year before it to compare with
    row = features([e], dt.date(2025, 7, 1)).loc[e.pk]
    assert row["tax_paid_12m"] == pytest.approx(10.0)
    assert nan(row["tax_trend"])
    # 2026's figures not delivered yet in 2027: 2025's still stand (not older than two years)
    row = features([e], dt.date(2027, 5, 31)).loc[e.pk]
    assert (row["tax_paid_12m"], row["tax_trend"]) == (pytest.approx(20.0), pytest.approx(1.0))
    # in 2028 a 2025 figure is too old to say what the firm paid lately: unknown, not zero
    row = features([e], dt.date(2028, 3, 1)).loc[e.pk]
    assert nan(row["tax_paid_12m"]) and nan(row["tax_trend"])


def test_monthly_tax_rows_keep_the_twelve_month_calendar_window(source):
    e = MarketEntityFactory()
    periods = months("2024-09", "2026-11")  # 27 months
    paid = {p: 1000 * (i + 1) for i, p in enumerate(periods)}
    late = {"2025-03", "2025-04", "2026-02", "2024-11"}  # 2024-11 is before the 24 months
    deliver(
        source,
        "tax",
        TAX,
        [f"{e.uscc},{p},{paid[p]},{300 if p in late else 0}" for p in periods],
    )
    day = dt.date(2026, 12, 20)
    row = features([e], day).loc[e.pk]
    last12 = sum(paid[p] for p in months("2025-12", "2026-11"))
    before = sum(paid[p] for p in months("2024-12", "2025-11"))
    assert row["tax_paid_12m"] == pytest.approx(last12 / 10_000)
    assert row["tax_trend"] == pytest.approx(last12 / before - 1)
    assert row["tax_arrears_months"] == 3


def test_monthly_rows_win_when_they_cover_the_window_else_the_latest_year(source):
    covered, starting, new = MarketEntityFactory(), MarketEntityFactory(), MarketEntityFactory()
    rows = [f"{covered.uscc},2024,50000,0"]
    rows += [f"{covered.uscc},{p},1000,0" for p in months("2024-12", "2026-11")]
    # a department moved from yearly to monthly delivery in September 2026: three months do not
    # tell a year's tax, so the 2025 figure stands
    rows += [f"{starting.uscc},2024,100000,", f"{starting.uscc},2025,200000,"]
    rows += [f"{starting.uscc},{p},5000," for p in months("2026-09", "2026-11")]
    # a firm whose monthly series began within the 12 months, with no yearly figure
    rows += [f"{new.uscc},{p},2000," for p in months("2026-06", "2026-11")]
    deliver(source, "tax", TAX, rows)
    X = features([covered, starting, new], dt.date(2026, 12, 31))
    assert X.loc[covered.pk, "tax_paid_12m"] == pytest.approx(1.2)  # 12 × 1,000
    assert X.loc[covered.pk, "tax_trend"] == pytest.approx(0.0)  # 12,000 against 12,000
    # a month earlier the series is a month short of the 12 before (2024-11 missing): that
    # change is unknown, not a rise, and no two consecutive years are stated
    earlier = features([covered], dt.date(2026, 11, 30)).loc[covered.pk]
    assert earlier["tax_paid_12m"] == pytest.approx(1.2)
    assert nan(earlier["tax_trend"])
    assert X.loc[starting.pk, "tax_paid_12m"] == pytest.approx(20.0)
    assert X.loc[starting.pk, "tax_trend"] == pytest.approx(1.0)
    assert X.loc[new.pk, "tax_paid_12m"] == pytest.approx(1.2)  # 6 × 2,000 so far
    assert nan(X.loc[new.pk, "tax_trend"])


def test_a_year_counts_only_once_it_has_ended(source):
    """Point in time: a snapshot inside 2026 never sees 2026's yearly row."""
    e = MarketEntityFactory()
    deliver(source, "tax", TAX, [f"{e.uscc},2025,100000,0", f"{e.uscc},2026,400000,0"])
    inside = dt.date(2026, 12, 31)
    assert set(scorable_facts(as_of=inside).filter(entity=e).values_list("period", flat=True)) == {
        "2025"
    }
    assert features([e], inside).loc[e.pk, "tax_paid_12m"] == pytest.approx(10.0)
    after = features([e], dt.date(2027, 1, 1)).loc[e.pk]
    assert after["tax_paid_12m"] == pytest.approx(40.0)
    assert after["tax_trend"] == pytest.approx(3.0)


def test_tax_arrears_months_from_yearly_monthly_and_mixed_rows(source):
    yearly, clean, unstated, mixed = (MarketEntityFactory() for _ in range(4))
    rows = [
        # a yearly row in arrears says "behind at least one month" for each such year
        f"{yearly.uscc},2024,1000,800",
        f"{yearly.uscc},2025,1000,500",
        f"{clean.uscc},2025,1000,0",
        f"{unstated.uscc},2025,1000,",
        # 2025 as a year in arrears, and the same year monthly: the months tell (two of them)
        f"{mixed.uscc},2025,1000,900",
        *(
            f"{mixed.uscc},{p},100,{200 if p in ('2025-05', '2025-06') else 0}"
            for p in months("2025-01", "2025-12")
        ),
    ]
    deliver(source, "tax", TAX, rows)
    X = features([yearly, clean, unstated, mixed], dt.date(2026, 7, 1))
    assert X.loc[yearly.pk, "tax_arrears_months"] == 2  # 2024 and 2025 end within 24 months
    assert X.loc[clean.pk, "tax_arrears_months"] == 0
    assert nan(X.loc[unstated.pk, "tax_arrears_months"])
    assert X.loc[mixed.pk, "tax_arrears_months"] == 2
    # in January 2027 the 24 complete months start in 2025-01: 2024's year-end is out of them
    X = features([yearly], dt.date(2027, 1, 1))
    assert X.loc[yearly.pk, "tax_arrears_months"] == 1


# ---------------------------------------------------------------- social security


def test_insured_headcount_trend_and_arrears_from_yearly_and_monthly_rows(source):
    yearly, monthly, mixed = MarketEntityFactory(), MarketEntityFactory(), MarketEntityFactory()
    rows = [
        f"{yearly.uscc},2024,10,0",
        f"{yearly.uscc},2025,15,1200",
        *(f"{monthly.uscc},{p},{8 + i},{0}" for i, p in enumerate(months("2025-05", "2026-05"))),
        # the yearly 2025 row ends in December, after June's: it is the latest
        f"{mixed.uscc},2025-06,12,",
        f"{mixed.uscc},2025,20,",
    ]
    deliver(source, "social_security", SOCIAL, rows)
    X = features([yearly, monthly, mixed], dt.date(2026, 6, 20))
    assert X.loc[yearly.pk, "insured_headcount"] == 15
    assert X.loc[yearly.pk, "insured_trend"] == pytest.approx(0.5)
    assert X.loc[yearly.pk, "social_arrears_months"] == 1
    assert X.loc[monthly.pk, "insured_headcount"] == 20  # 2026-05
    assert X.loc[monthly.pk, "insured_trend"] == pytest.approx(20 / 8 - 1)  # on 2025-05
    assert X.loc[monthly.pk, "social_arrears_months"] == 0
    assert X.loc[mixed.pk, "insured_headcount"] == 20
    assert nan(X.loc[mixed.pk, "insured_trend"])  # no year before 2025 stated
    assert nan(X.loc[mixed.pk, "social_arrears_months"])  # no row states arrears


# ---------------------------------------------------------------- utilities


def test_utility_bills_and_arrears_per_utility_yearly_or_monthly(source):
    e, yearly_only = MarketEntityFactory(), MarketEntityFactory()
    rows = [
        # electricity delivered yearly by the grid company, water monthly by the water company
        f"{e.uscc},electricity,2025,12000,2",
        *(f"{e.uscc},water,{p},100,0" for p in months("2025-07", "2026-06")),
        f"{yearly_only.uscc},gas,2024,3000,0",
        f"{yearly_only.uscc},gas,2025,3600,",
    ]
    deliver(source, "utility", UTILITY, rows)
    X = features([e, yearly_only], dt.date(2026, 7, 31))
    assert X.loc[e.pk, "utility_billed_12m"] == pytest.approx((12000 + 1200) / 10_000)
    assert X.loc[e.pk, "utility_arrears_months"] == 2
    assert X.loc[yearly_only.pk, "utility_billed_12m"] == pytest.approx(0.36)
    # 2025 does not state its arrears: the year before's (0) is the latest stated
    assert X.loc[yearly_only.pk, "utility_arrears_months"] == 0


# ---------------------------------------------------------------- missing is not zero


def test_measures_nobody_stated_are_missing_while_counts_of_no_event_are_zero(source):
    stated, unstated, silent = MarketEntityFactory(), MarketEntityFactory(), MarketEntityFactory()
    recent = months("2026-01", "2026-06")
    deliver(
        source,
        "tax",
        TAX,
        [f"{stated.uscc},{p},1000,0" for p in recent]
        + [f"{unstated.uscc},{p},1000," for p in recent],
    )
    deliver(
        source,
        "social_security",
        SOCIAL,
        [f"{stated.uscc},{p},5,0" for p in recent] + [f"{unstated.uscc},{p},5," for p in recent],
    )
    deliver(
        source,
        "utility",
        UTILITY,
        [f"{stated.uscc},water,{p},0,0" for p in recent]
        + [f"{unstated.uscc},water,{p},," for p in recent],
    )
    deliver(
        source,
        "judicial",
        "统一社会信用代码,案号,诉讼地位,立案日期,标的金额（元）",
        [
            f"{stated.uscc},(2026)青01民初1号,defendant,2026-03-01,0",
            f"{unstated.uscc},(2026)青01民初2号,defendant,2026-03-01,",
        ],
    )
    X = features([stated, unstated, silent], dt.date(2026, 7, 31))
    measures = (
        "utility_billed_12m",
        "utility_arrears_months",
        "tax_arrears_months",
        "social_arrears_months",
        "case_amount_36m",
    )
    for name in measures:
        assert X.loc[stated.pk, name] == 0, name  # stated as 0: known to be 0
        assert nan(X.loc[unstated.pk, name]), name  # delivered empty: unknown
    # no row at all: no measure known, but no event either
    for name in (*measures[:4], "tax_paid_12m", "insured_headcount", "insured_trend"):
        assert nan(X.loc[silent.pk, name]), name
    for name in (
        "ip_count",
        "procurement_36m",
        "honours",
        "penalties_general",
        "penalties_serious",
        "cases_defendant_36m",
        "case_amount_36m",
        "dishonest",
        "abnormal_listed",
        "related_negative",
        "platform_loans",
        "loan_defaults_5y",
    ):
        assert X.loc[silent.pk, name] == 0, name
    assert X.loc[unstated.pk, "cases_defendant_36m"] == 1
    assert X.loc[unstated.pk, "tax_paid_12m"] == pytest.approx(0.6)


def test_the_archive_shows_a_year_as_delivered_and_an_unknown_amount_as_a_dash(
    client, source, enterprise_user
):
    e = enterprise_user.organisation.market_entity
    deliver(source, "tax", TAX, [f"{e.uscc},2025,200000,"])
    deliver(source, "utility", UTILITY, [f"{e.uscc},water,2025-06,,"])
    client.force_login(enterprise_user)
    page = client.get(reverse("credit:archive", args=[e.uscc])).content.decode()
    tax = page[page.index('data-category="tax"') :]
    tax = tax[: tax.index("</table>")]
    assert "<td>2025</td>" in tax and "2025-" not in tax
    utility = page[page.index('data-category="utility"') :]
    utility = utility[: utility.index("</table>")]
    assert "<td>2025-06</td>" in utility and "<td>—</td>" in utility
    assert not any(word in tax + utility for word in ("None", "nan", "NaN"))


def test_the_running_month_is_not_in_the_window_so_a_steady_firm_does_not_fall(source):
    """Quarterly rows of a steady firm, seen in December before Q4 is delivered: 4 quarters
    against 4, a trend of 0 — not 3 quarters against 4 (−25%) as when the window held the
    running month."""
    e = MarketEntityFactory()
    quarters = [p for p in months("2024-12", "2026-09") if int(p[-2:]) % 3 == 0]
    deliver(source, "tax", TAX, [f"{e.uscc},{p},30000,0" for p in quarters])
    row = features([e], dt.date(2026, 12, 7)).loc[e.pk]
    assert row["tax_paid_12m"] == pytest.approx(12.0)  # 2025-12, 2026-03, -06, -09
    assert row["tax_trend"] == pytest.approx(0.0)
