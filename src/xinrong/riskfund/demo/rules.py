"""Demo rules and breaker: 格尔木 widens its rules from today (¥10 m cap, individual businesses
included, a yearly limit for its biggest lender), then a breaker sweep records which lenders are
above their line (and tells them)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Count

from xinrong.riskfund.models import RuleSet
from xinrong.riskfund.selectors.rules import latest_rules
from xinrong.riskfund.services.rules import LimitIn, breaker_sweep, rule_set_create


def seed_rules(ctx: dict[str, Any]) -> dict[str, int]:
    """Create Golmud's second rule version through the service, and sweep the breakers
    (idempotent: no second version when one is there; the sweep records only changes)."""
    from xinrong.marketplace.models import Loan

    fund = ctx["funds"]["golmud"]
    users = ctx["users"]
    today: dt.date = ctx["today"]
    created = 0
    actor = users.get("golmud") or users.get("operator")
    latest = latest_rules(fund)
    if actor is not None and latest is not None and latest.version < 2:
        biggest = (
            Loan.objects.filter(entity__division_code__startswith=fund.division_code)
            .values("institution_id")
            .annotate(n=Count("id"))
            .order_by("-n", "institution_id")
            .first()
        )
        limits = [LimitIn(biggest["institution_id"], Decimal("5000000.00"))] if biggest else []
        rule_set_create(
            actor=actor,
            fund=fund,
            effective_from=max(today, latest.effective_from + dt.timedelta(days=1)),
            loan_cap=Decimal("10000000.00"),
            entity_types=["enterprise", "individual_business"],
            sizes=latest.sizes,
            loan_kinds=latest.loan_kinds,
            gov_share=latest.gov_share,
            covers_interest=latest.covers_interest,
            min_overdue_days=latest.min_overdue_days,
            institution_year_cap=latest.institution_year_cap,
            breaker_threshold=latest.breaker_threshold,
            limits=limits,
            note=(
                "格尔木市政府常务会议决定：单笔上限提高到 1000 万元，个体工商户纳入补偿范围；"
                "放贷最多的机构另设每年 500 万元补偿限额。"
            ),
            today=today,
        )
        created = 1
    counts = breaker_sweep()
    return {
        "rule_sets": created,
        "golmud_versions": RuleSet.objects.filter(fund=fund).count(),
        "breaker_tripped": counts["tripped"],
        "breaker_reset": counts["reset"],
    }
