"""The demo demands: their 发布时间 is the time of their 发布 event (one field, Beijing time)."""

from __future__ import annotations

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
