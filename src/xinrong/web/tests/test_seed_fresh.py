"""The demo's department facts are recent relative to the day the seed runs (issue 13).

Credit features read the last 12/24 calendar months and the last ended years, so facts fixed in
2024 left a demo seeded in late 2026 with every enterprise's tax and social security missing.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest

from xinrong.credit.features import feature_matrix
from xinrong.datahub import demo
from xinrong.datahub.models import Fact, IngestBatch
from xinrong.enterprises.tests.factories import MarketEntityFactory, valid_uscc
from xinrong.web.seed.base import SeedReport
from xinrong.web.seed.organisations import seed_organisations

pytestmark = pytest.mark.django_db

SEED = 31
DAY = dt.date(2026, 12, 7)  # September 2026 is the latest ended quarter
PERIODIC = ("tax", "social_security", "housing_fund", "utility")


def _quarter_ends(day: dt.date, n: int) -> list[str]:
    """The last months of the ``n`` quarters ended before ``day``'s month, oldest first."""
    y, m = day.year, day.month - 1
    while m % 3:
        m -= 1
    if m == 0:
        y, m = y - 1, 12
    out = []
    for _ in range(n):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y, m - 3) if m > 3 else (y - 1, m + 9)
    return out[::-1]


@pytest.fixture
def population():
    orgs = seed_organisations(SeedReport())
    firms = [
        MarketEntityFactory(
            employees=20,
            annual_revenue=Decimal("500.00"),
            established_on=dt.date(2010 + i % 10, 1 + i % 12, 1),
        )
        for i in range(40)
    ]
    shops = [
        MarketEntityFactory(
            uscc=valid_uscc(seed=900 + i, individual=True),
            entity_type="individual_business",
            employees=2,
            established_on=dt.date(2015, 5, 1),
        )
        for i in range(20)
    ]
    new = MarketEntityFactory(employees=12, established_on=dt.date(2026, 3, 15))
    return orgs, firms, shops, new


def _periods(category: str, entity) -> list[str]:
    """The periods the seed generated (not the small file it delivers through the pipeline)."""
    seeded = Fact.objects.filter(batch__content_hash__startswith="seed-")
    return sorted(seeded.filter(category=category, entity=entity).values_list("period", flat=True))


def test_quarter_ends_helper_matches_the_seed():
    for day in (DAY, dt.date(2027, 1, 5), dt.date(2027, 4, 1), dt.date(2026, 3, 31)):
        assert demo._period(demo.last_quarter_end(day)) == _quarter_ends(day, 1)[0]
    assert _quarter_ends(DAY, 8) == [
        "2024-12", "2025-03", "2025-06", "2025-09", "2025-12", "2026-03", "2026-06", "2026-09",
    ]  # fmt: skip


def test_periodic_facts_cover_the_windows_the_features_read(population):
    orgs, firms, shops, new = population
    assert demo.seed_facts(orgs=orgs, seed_value=SEED, progress=lambda _m: None, today=DAY) > 0

    quarters = _quarter_ends(DAY, 8)
    # before the quarters (from December 2024), yearly rows reach back for the loans' snapshots
    earlier = ["2022", "2023", "2024"]
    last_four = [str(DAY.year - i) for i in range(4, 0, -1)]
    for firm in firms:
        assert _periods("tax", firm) == sorted(earlier + quarters)
        assert _periods("social_security", firm) == sorted(earlier + quarters)
        assert _periods("utility", firm) == last_four[2:]
    for shop in shops:
        assert _periods("tax", shop) == last_four
    # nothing before the firm existed; graded M (new taxpayer) meanwhile
    assert _periods("tax", new) == ["2026-03", "2026-06", "2026-09"]
    assert _periods("utility", new) == []
    assert set(Fact.objects.filter(category="tax", entity=new).values_list("grade", flat=True)) == {
        "M"
    }
    # the insured headcount moves a little, not at all wildly
    insured = list(
        Fact.objects.filter(category="social_security", entity=firms[0])
        .order_by("period")
        .values_list("quantity", flat=True)
    )
    assert len(set(insured)) > 1 and float(max(insured)) <= 1.2 * float(min(insured))

    fm = feature_matrix(as_of=DAY)
    ids = [f.pk for f in firms]
    for name in (
        "tax_paid_12m",
        "tax_trend",
        "tax_arrears_months",
        "insured_headcount",
        "insured_trend",
        "social_arrears_months",
        "utility_billed_12m",
        "utility_arrears_months",
        "tax_grade",
    ):
        assert not fm.loc[ids, name].isna().any(), name
    shop_ids = [s.pk for s in shops]
    for name in ("tax_paid_12m", "tax_trend", "utility_billed_12m", "tax_grade"):
        assert not fm.loc[shop_ids, name].isna().any(), name
    assert (fm.loc[ids, "tax_paid_12m"] > 0).all()
    # a year ago the quarterly series did not cover the window yet: the yearly rows stand in
    past = feature_matrix(as_of=dt.date(2025, 6, 30)).loc[ids]
    assert not past["tax_paid_12m"].isna().any() and not past["insured_headcount"].isna().any()

    # events fall within the three years before the seed (property titles are older)
    events = Fact.objects.exclude(category__in=(*PERIODIC, "real_estate", "loan"))
    dates = [d for d in events.values_list("occurred_on", flat=True) if d is not None]
    assert dates and min(dates) >= DAY - dt.timedelta(days=3 * 365) and max(dates) <= DAY


def test_a_second_run_in_the_quarter_adds_nothing_a_later_quarter_only_new_periods(population):
    orgs, firms, _shops, _new = population
    assert demo.seed_facts(orgs=orgs, seed_value=SEED, progress=lambda _m: None, today=DAY) > 0
    seeded = Fact.objects.filter(batch__content_hash__startswith="seed-")
    facts, batches, first = Fact.objects.count(), IngestBatch.objects.count(), seeded.count()
    events = Counter(Fact.objects.exclude(category__in=PERIODIC).values_list("category", flat=True))
    for day in (DAY, DAY + dt.timedelta(days=20)):  # same day, later in the same quarter
        assert demo.seed_facts(orgs=orgs, seed_value=SEED, progress=lambda _m: None, today=day) == 0
    assert (Fact.objects.count(), IngestBatch.objects.count()) == (facts, batches)

    later = dt.date(2027, 1, 10)  # December 2026 has ended, and with it the year 2026
    added = demo.seed_facts(orgs=orgs, seed_value=SEED, progress=lambda _m: None, today=later)
    assert added > 0
    assert seeded.count() == first + added
    # events were delivered once; only the periods ended since come in
    assert (
        Counter(Fact.objects.exclude(category__in=PERIODIC).values_list("category", flat=True))
        == events
    )
    # 2026's last quarter, and 2025 now among the yearly rows before the quarters
    assert _periods("tax", firms[0]) == sorted(
        ["2022", "2023", "2024", "2025", *_quarter_ends(DAY, 8), "2026-12"]
    )
    assert _periods("utility", firms[0]) == ["2024", "2025", "2026"]
    keys = Counter(
        Fact.objects.filter(category__in=("tax", "social_security", "utility")).values_list(
            "entity", "category", "period"
        )
    )
    # the periods both runs cover are stored once (the pipeline's delivered file is of a
    # month between quarters, so it never doubles a seeded period either)
    assert [k for k, n in keys.items() if n > 1] == []
    assert demo.seed_facts(orgs=orgs, seed_value=SEED, progress=lambda _m: None, today=later) == 0


def test_the_same_seed_and_day_give_the_same_rows(population):
    _orgs, firms, shops, _new = population
    entities = [e for e in demo._entities(0) if e.pk in {firms[0].pk, shops[0].pk}]
    assert len(entities) == 2

    def rows(seed_value: int, day: dt.date) -> list[tuple[str, dict]]:
        import random

        out = []
        for e in entities:
            rng = random.Random(f"{seed_value}:{e.uscc}")
            out += list(demo._rows_for(e, rng, today=day, events_on=day))
        return out

    assert rows(SEED, DAY) == rows(SEED, DAY)
    assert rows(SEED, DAY) != rows(SEED + 1, DAY)
    # the periods two days share come out the same, whatever the day
    early = {(c, r["uscc"], r.get("period")): r for c, r in rows(SEED, DAY) if c in PERIODIC}
    late = {
        (c, r["uscc"], r.get("period")): r
        for c, r in rows(SEED, dt.date(2027, 7, 1))
        if c in PERIODIC
    }
    shared = early.keys() & late.keys()
    assert len(shared) >= 6
    assert all(early[k] == late[k] for k in shared)
