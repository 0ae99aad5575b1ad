"""Demo data of the risk fund: funds and rules, then each part's activity through its services."""

from __future__ import annotations

import random
from typing import Any

from django.utils import timezone


def seed_riskfund(seed_value: int, *, activity: bool = True) -> dict[str, Any]:
    """Seed the risk fund's demo data; return what was created, by kind (idempotent: the parts
    seed nothing when their data is there)."""
    from xinrong.accounts.models import User
    from xinrong.riskfund.demo.funds import seed_funds

    report: dict[str, Any] = {}
    if not activity:
        report["funds"] = len(seed_funds())
        return report
    from xinrong.riskfund.demo.claims import seed_claims
    from xinrong.riskfund.demo.guarantees import seed_guarantees
    from xinrong.riskfund.demo.loans import reserve_for_officer, seed_bad_loans, seed_lender_staff
    from xinrong.riskfund.demo.rules import seed_rules
    from xinrong.riskfund.demo.simulation import seed_simulation

    ctx: dict[str, Any] = {
        "users": {u.username: u for u in User.objects.filter(is_active=True)},
        "rng": random.Random(f"riskfund:{seed_value}"),
        "today": timezone.localdate(),
    }
    # the bad loans first: the demo's breaker line is drawn from the loan book (funds.py)
    report["bad_loans"] = seed_bad_loans(ctx)
    ctx["funds"] = seed_funds()
    report["funds"] = len(ctx["funds"])
    report["lender_staff"] = seed_lender_staff(ctx)
    report["rules"] = seed_rules(ctx)
    report["reserved_loan"] = reserve_for_officer(ctx)
    report["guarantees"] = seed_guarantees(ctx)  # 代偿 first: claims compute their base on it
    report["claims"] = seed_claims(ctx)
    report["simulation"] = seed_simulation(ctx)
    return report
