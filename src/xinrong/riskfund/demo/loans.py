"""Demo loans the fund is about: the defaulted platform loans its claims are filed on.

The marketplace's demo history decides defaults from the synthetic credit process, and its bad
loans are mostly individual businesses' — outside Qinghai's rules. So the demo bank of the
``loan_officer`` login (青海银行) would have nothing to claim. This writes a few more loans of that
bank to small and micro enterprises, a year and more ago, that went bad, with the marketplace's
own demo writer (consent, timeline, schedule, repayments that stop, the loan facts); and gives
every other lender with a claimable loan one staff account (no password: not a demo login) so
that claims of many banks reach the office and finance.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from xinrong.accounts.choices import Role
from xinrong.accounts.models import Organisation, User, UserRole
from xinrong.enterprises.models import MarketEntity
from xinrong.marketplace.choices import LoanStatus, ProductType, VersionStatus
from xinrong.marketplace.models import Loan, LoanApplication, ProductVersion

BAD_LOANS = 4  # the demo bank's bad loans to small and micro enterprises
BAD_AMOUNTS = (Decimal("300000.00"), Decimal("500000.00"), Decimal("200000.00"))


def _credit_version(institution: Organisation) -> ProductVersion | None:
    return (
        ProductVersion.objects.filter(
            product__institution=institution,
            product_type=ProductType.CREDIT,
            status=VersionStatus.PUBLISHED,
        )
        .select_related("product")
        .order_by("amount_min", "pk")
        .first()
    )


def seed_bad_loans(ctx: dict[str, Any]) -> int:
    """The demo bank's bad loans to small and micro enterprises, topped up to ``BAD_LOANS``
    (a second run adds none); return how many were written."""
    from xinrong.marketplace.demo.applications import write_applications
    from xinrong.marketplace.demo.base import FinancingReport, Plan
    from xinrong.marketplace.demo.financing import _owners
    from xinrong.marketplace.demo.repayments import record_loan_facts, watch_open_loans

    officer = ctx["users"].get("loan_officer")
    if officer is None:
        return 0
    bank = officer.organisation
    small = {"small", "micro"}
    # how many the marketplace's demo history gave it depends on the day the demo is seeded:
    # top them up to BAD_LOANS, so a second run adds none
    wanted = BAD_LOANS - (
        Loan.objects.filter(
            institution=bank,
            status=LoanStatus.DEFAULTED,
            entity__entity_type="enterprise",
            entity__size_class__in=small,
        ).count()
    )
    if wanted <= 0:
        return 0
    version = _credit_version(bank)
    if version is None:
        return 0
    rng: random.Random = ctx["rng"]
    borrowers = list(
        MarketEntity.objects.filter(
            entity_type="enterprise",
            size_class__in=small,
            division_code__startswith="63",
            loans__isnull=True,
        )
        .exclude(division_code__startswith="632801")  # the provincial fund's, not 格尔木's
        .order_by("pk")
        .values_list("pk", flat=True)[:200]
    )
    chosen = rng.sample(borrowers, min(wanted, len(borrowers)))
    if not chosen:
        return 0
    now = timezone.now()
    today = timezone.localdate()
    plans = []
    for i, entity_id in enumerate(chosen):
        amount = min(max(BAD_AMOUNTS[i % len(BAD_AMOUNTS)], version.amount_min), version.amount_max)
        plans.append(
            Plan(
                entity_id,
                0,
                version,
                version.product,
                "disbursed",
                now - dt.timedelta(days=rng.randint(420, 560)),
                amount,
                min(max(12, version.term_min_months), version.term_max_months),
                bad=True,
            )
        )
    report = FinancingReport()
    with transaction.atomic():
        org_of, owner_of, _made = _owners(chosen, make_password(None))
        for p in plans:
            p.org_id = org_of[p.entity_id]
        write_applications(
            plans, owner_of, rng, now, today, report, first=LoanApplication.objects.count()
        )
        record_loan_facts(report)
        watch_open_loans()
    return report.loans


def reserve_for_officer(ctx: dict[str, Any]) -> int | None:
    """Leave the demo bank's newest claimable loan unclaimed (after the rules are seeded: they
    decide what is claimable), so its officer files a claim on first login; return its key."""
    from xinrong.riskfund.services.claims import loan_claimable_problems

    officer = ctx["users"].get("loan_officer")
    if officer is None:
        return None
    loans = Loan.objects.filter(
        institution=officer.organisation, status=LoanStatus.DEFAULTED
    ).order_by("-disbursed_on", "-pk")
    newest = next((loan for loan in loans if not loan_claimable_problems(loan)), None)
    if newest is None:
        return None
    ctx["reserved_loans"] = {newest.pk}
    return newest.pk


def seed_lender_staff(ctx: dict[str, Any]) -> int:
    """One staff account (loan officer, no password) for every lender with a defaulted loan and
    no loan officer or admin, so the demo's claims come from many banks."""
    lenders = set(
        Loan.objects.filter(status=LoanStatus.DEFAULTED).values_list("institution_id", flat=True)
    )
    staffed = set(
        User.objects.filter(
            organisation_id__in=lenders,
            is_active=True,
            roles__role__in=(Role.LOAN_OFFICER, Role.INSTITUTION_ADMIN),
        ).values_list("organisation_id", flat=True)
    )
    made = 0
    password = make_password(None)
    for org in Organisation.objects.filter(pk__in=lenders - staffed).order_by("pk"):
        user = User.objects.create(
            username=f"staff_{org.pk}", organisation=org, display_name="客户经理", password=password
        )
        UserRole.objects.create(user=user, role=Role.LOAN_OFFICER)
        made += 1
    ctx["users"] = {u.username: u for u in User.objects.filter(is_active=True)}
    return made
