"""The demo demands: their 发布时间 is the time of their 发布 event (one field, Beijing time)."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.utils import timezone

from xinrong.marketplace.demo.demands import seed_demands
from xinrong.marketplace.models import Demand

pytestmark = pytest.mark.django_db


def test_demand_published_time_is_its_publication_event(enterprise_user, bank_officer):
    now = timezone.now()
    assert seed_demands(random.Random(3), {}, now) >= 1
    for d in Demand.objects.all():
        published = d.events.get(kind="published").created_at
        assert d.created_at == published


@pytest.mark.parametrize("grade", ["", "AAA"])  # AAA: the enterprise qualifies for nothing
def test_no_demo_demand_waits_untaken(enterprise_user, bank_officer, operator, grade):
    """Every open demand older than the hold period was taken and invited, and either an
    application follows it or its taker holds it now; younger ones may still wait."""
    from xinrong.marketplace.choices import ACTIVE_STATUSES
    from xinrong.marketplace.services.demands import demand_hold_hours
    from xinrong.marketplace.tests.factories import published_product

    published_product(
        bank_officer,
        operator,
        code="DEMO-1",
        amount_min="10000",
        term_min_months=1,
        term_max_months=60,
        min_credit_grade=grade,
    )
    entity = enterprise_user.organisation.market_entity
    now = timezone.now()
    old = 0
    for seed in range(6):
        Demand.objects.all().delete()
        seed_demands(random.Random(seed), {entity.pk: enterprise_user.pk}, now)
        for d in Demand.objects.filter(status="open"):
            kinds = set(d.events.values_list("kind", flat=True))
            held = d.held_until is not None and d.held_until > now
            working = d.applications.filter(status__in=ACTIVE_STATUSES).exists()
            young = now - d.created_at < dt.timedelta(hours=demand_hold_hours())
            assert held or working or (young and kinds == {"published"}), (seed, kinds)
            if not young:
                old += 1
                assert "taken" in kinds
    # the seeds cover demands older than the hold; when nobody could apply they are recent, held
    assert old > 0 if not grade else old == 0
