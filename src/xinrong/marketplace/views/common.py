"""Helpers the marketplace's page modules share: choice labels, eligibility verdicts."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from xinrong.accounts.auth import request_user
from xinrong.marketplace.eligibility import Verdict, entity_facts, evaluate
from xinrong.marketplace.models import Product
from xinrong.marketplace.selectors import common as common_selectors


def _labels(values: list[str], choices: Any) -> str:
    lookup = {k: str(v) for k, v in choices}
    return "、".join(lookup.get(v, v) for v in values)


def _verdicts(request: HttpRequest, products: list[Product]) -> dict[int, Verdict]:
    """Return eligibility per product for an enterprise user: one facts load for the whole list."""
    user = request_user(request)
    entity = common_selectors.user_entity(user=user)
    if entity is None or not products:
        return {}
    facts = entity_facts(entity_ids=[entity.pk]).get(entity.pk)
    if facts is None:
        return {}
    return {p.pk: evaluate(p.current_version, facts) for p in products if p.current_version}
