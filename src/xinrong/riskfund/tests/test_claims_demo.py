"""The demo seeding of claims: every claim and recovery state, through the services."""

from __future__ import annotations

import random

import pytest
from django.utils import timezone

from xinrong.riskfund.choices import ClaimStatus, RecoveryStatus
from xinrong.riskfund.demo.claims import seed_claims
from xinrong.riskfund.models import Claim, Recovery
from xinrong.riskfund.services import ledger
from xinrong.riskfund.services.claims import claim_open_steps
from xinrong.riskfund.tests.factories import fund_world, platform_loan

pytestmark = pytest.mark.django_db


def test_seed_claims_makes_every_state(make_user):
    w = fund_world(make_user, balance="20000000.00")
    for i in range(14):
        platform_loan(w.bank, w.officer, w.product, principal=f"{200000 + i * 10000}.00")
    platform_loan(w.bank, w.officer, w.product, principal="4000000.00")
    ctx = {
        "funds": {"qinghai": w.fund},
        "users": {
            "loan_officer": w.officer,
            "operator": w.office,
            "gov_fund": w.finance,
            "gov_fund_lead": w.finance2,
        },
        "rng": random.Random(15),
        "today": timezone.localdate(),
    }
    counts = seed_claims(ctx)
    statuses = set(Claim.objects.values_list("status", flat=True))
    assert statuses == set(ClaimStatus.values), counts
    steps = {
        t.element_id
        for c in Claim.objects.filter(status="in_review")
        for t in claim_open_steps(claim=c)
    }
    assert {"finance_review", "final_review"} <= steps
    assert Claim.objects.filter(status="submitted").exists()
    assert set(Recovery.objects.values_list("status", flat=True)) == set(RecoveryStatus.values)
    assert counts["claims_paid"] == 6 and counts["payments_refused"] == 0
    assert ledger.ledger_consistent(w.fund)
