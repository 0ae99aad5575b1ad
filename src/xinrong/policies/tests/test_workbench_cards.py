"""The policy cards of the workbenches: each side's waiting work, counted as its pages count it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from xinrong.policies.services.funds import fund_decide
from xinrong.policies.tests.funds_support import apply, eligible, enterprise, world

pytestmark = pytest.mark.django_db


def _home(user) -> str:
    c = Client()
    c.force_login(user)
    return c.get(reverse("web:home")).content.decode()


def test_the_approver_holding_the_step_sees_it_waiting_and_the_enterprise_its_card():
    w = world()
    owner = enterprise(901)
    entity = owner.organisation.market_entity
    eligible(w.measure, entity, estimated=Decimal("30000.00"))
    application = apply(w, owner)

    # at the department's step: the publisher's card counts it, finance's does not yet
    assert 'data-stat="policy-waiting">1<' in _home(w.publisher)
    assert 'data-stat="funds-review">0<' in _home(w.finance)
    body = _home(owner)
    assert 'id="wb-policies"' in body
    assert 'data-stat="policies-eligible">1<' in body
    assert 'data-stat="policies-applications">1<' in body
    assert w.measure.title in body

    # the department agrees: now it waits for finance, no longer for the department
    fund_decide(application=application, actor=w.publisher, approved=True, amount="30000.00")
    assert 'data-stat="policy-waiting">0<' in _home(w.publisher)
    assert 'data-stat="funds-review">1<' in _home(w.finance)


def test_an_enterprise_without_matches_is_sent_to_the_calculator():
    owner = enterprise(902)
    body = _home(owner)
    assert 'data-empty="policies"' in body
    assert reverse("policies:calculator") in body
