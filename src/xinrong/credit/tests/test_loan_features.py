"""Loan-history features from the platform's own loan facts, point in time."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any, cast

import pytest

from xinrong.credit.features import FEATURES_BY_NAME, feature_matrix
from xinrong.datahub.services.sources import platform_loan_events_record
from xinrong.enterprises.models import MarketEntity
from xinrong.enterprises.tests.factories import MarketEntityFactory

pytestmark = pytest.mark.django_db

LOAN_FEATURES = (
    "platform_loans",
    "platform_loan_months",
    "platform_settled_share",
    "loan_overdue_days_24m",
    "loan_defaults_5y",
)


def event(uscc: str, loan_no: str, kind: str, on: dt.date, **more: Any) -> dict[str, Any]:
    """One loan-event row for platform_loan_events_record."""
    return {
        "uscc": uscc,
        "loan_no": loan_no,
        "institution": "青海银行",
        "event": kind,
        "occurred_on": on,
        "amount": Decimal("100000"),
        **more,
    }


def _entity() -> MarketEntity:
    return cast(MarketEntity, MarketEntityFactory())


def _values(entity_id: int, as_of: dt.date) -> dict[str, float]:
    X = feature_matrix(entity_ids=[entity_id], as_of=as_of)
    return {name: float(X.loc[entity_id, name]) for name in LOAN_FEATURES}


def test_loan_features_are_in_existing_dimensions() -> None:
    assert {FEATURES_BY_NAME[n].dimension for n in LOAN_FEATURES} == {"operation", "compliance"}


def test_loan_history_counts_only_events_up_to_as_of() -> None:
    e = _entity()
    platform_loan_events_record(
        rows=[
            event(e.uscc, "L1", "disbursed", dt.date(2024, 1, 10), first_loan=True),
            event(e.uscc, "L1", "overdue", dt.date(2024, 6, 1), overdue_days=45),
            event(e.uscc, "L1", "settled", dt.date(2024, 12, 1)),
            event(e.uscc, "L2", "disbursed", dt.date(2025, 5, 1), renewal=True),
        ]
    )
    before = _values(e.pk, dt.date(2023, 12, 31))
    assert before["platform_loans"] == 0
    assert math.isnan(before["platform_loan_months"])
    assert math.isnan(before["platform_settled_share"])
    assert before["loan_overdue_days_24m"] == 0

    early = _values(e.pk, dt.date(2024, 3, 1))
    assert early["platform_loans"] == 1
    assert early["loan_overdue_days_24m"] == 0  # the overdue came later
    assert early["platform_settled_share"] == 0

    end = _values(e.pk, dt.date(2024, 12, 31))
    assert end["platform_loans"] == 1  # the loan of 2025 does not count yet
    assert end["loan_overdue_days_24m"] == 45
    assert end["platform_settled_share"] == 1.0
    assert 11 < end["platform_loan_months"] < 12.5

    later = _values(e.pk, dt.date(2025, 6, 30))
    assert later["platform_loans"] == 2
    assert later["platform_settled_share"] == 0.5


def test_entity_without_loans_is_neutral() -> None:
    e = _entity()
    values = _values(e.pk, dt.date(2025, 1, 1))
    assert values["platform_loans"] == 0
    assert values["loan_overdue_days_24m"] == 0
    assert values["loan_defaults_5y"] == 0
    assert math.isnan(values["platform_loan_months"])
    assert math.isnan(values["platform_settled_share"])


def test_defaults_leave_the_score_when_their_retention_ends() -> None:
    e = _entity()
    platform_loan_events_record(
        rows=[
            event(e.uscc, "OLD", "disbursed", dt.date(2018, 6, 1)),
            event(e.uscc, "OLD", "defaulted", dt.date(2019, 6, 1)),
        ]
    )
    assert _values(e.pk, dt.date(2024, 1, 1))["loan_defaults_5y"] == 1
    gone = _values(e.pk, dt.date(2024, 12, 31))  # retention ended 2024-06-01
    assert gone["loan_defaults_5y"] == 0
    assert gone["platform_loans"] == 1  # the disbursement itself is not negative
