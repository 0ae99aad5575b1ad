"""Demo data of 融资评价: mutual ratings on many demo loans (institutions of differing quality so
the league tables differ), appeals waiting for the operator, and loans left unrated for the demo
enterprise user ``enterprise`` and for ``loan_officer``'s bank.

Ratings are written in bulk (two inserts) and the reputations recomputed once, set-wise; the
appeals go through the service (their timelines and notices are the real ones).
"""

from __future__ import annotations

import random
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction

CENT = Decimal("0.01")
RATE_SHARE = 0.7  # share of the demo loans rated (the rest wait)


def _raters(org_ids: set[int], roles: tuple[str, ...]) -> dict[int, Any]:
    """The first active person holding one of ``roles`` in each organisation."""
    from xinrong.accounts.models import User

    out: dict[int, Any] = {}
    for u in (
        User.objects.filter(
            organisation_id__in=org_ids,
            is_active=True,
            api_key__isnull=True,
            roles__role__in=roles,
        )
        .order_by("id")
        .distinct()
    ):
        if u.organisation_id is not None:
            out.setdefault(u.organisation_id, u)
    return out


def _loans_for_demo_firm(firm: Any, officer: Any, rng: random.Random) -> int:
    """Give the demo enterprise two recent loans of the demo bank (the marketplace's demo gives
    it none), written the way the marketplace's demo writes its history; return how many."""
    import datetime as dt

    from django.utils import timezone

    from xinrong.marketplace.choices import ProductType, VersionStatus
    from xinrong.marketplace.demo.applications import write_applications
    from xinrong.marketplace.demo.base import FinancingReport, Plan
    from xinrong.marketplace.models import LoanApplication, ProductVersion

    entity = getattr(firm.organisation, "market_entity", None)
    if entity is None or entity.loans.exists():
        return 0
    version = (
        ProductVersion.objects.filter(
            product__institution_id=officer.organisation_id,
            product_type=ProductType.CREDIT,
            status=VersionStatus.PUBLISHED,
        )
        .select_related("product")
        .order_by("amount_min", "pk")
        .first()
    )
    if version is None:
        return 0
    now = timezone.now()
    amount = max(version.amount_min, min(Decimal("300000.00"), version.amount_max))
    term = min(max(12, version.term_min_months), version.term_max_months)
    plans = [
        Plan(
            entity.pk,
            firm.organisation_id,
            version,
            version.product,
            "disbursed",
            now - dt.timedelta(days=days),
            amount,
            term,
            first_loan=first,
        )
        for days, first in ((75, True), (20, False))
    ]
    report = FinancingReport()
    write_applications(
        plans,
        {entity.pk: firm.pk},
        rng,
        now,
        timezone.localdate(),
        report,
        first=LoanApplication.objects.count(),
    )
    return report.loans


def seed_ratings(seed_value: int) -> dict[str, int]:
    """Seed the ratings once (nothing when ratings exist); return counts by kind."""
    from xinrong.accounts.choices import Role
    from xinrong.accounts.models import User
    from xinrong.evaluations.choices import ITEMS, RatingDirection, RatingStage
    from xinrong.evaluations.models import Rating, RatingScore
    from xinrong.evaluations.services.ratings import appeal_submit, reputation_recompute
    from xinrong.marketplace.choices import LoanStatus
    from xinrong.marketplace.models import Loan

    if Rating.objects.exists():
        return {"ratings": 0, "appeals": 0, "loans": 0}
    rng = random.Random(f"ratings:{seed_value}")  # noqa: S311 (demo data, not secrets)
    users = {u.username: u for u in User.objects.filter(username__in=["ent_owner", "loan_officer"])}
    keep_entity_org = getattr(users.get("ent_owner"), "organisation_id", None)
    keep_bank = getattr(users.get("loan_officer"), "organisation_id", None)
    made = 0  # loans of the demo enterprise to rate (its home shows them waiting)
    if "ent_owner" in users and "loan_officer" in users:
        with transaction.atomic():
            made = _loans_for_demo_firm(users["ent_owner"], users["loan_officer"], rng)
    loans = list(
        Loan.objects.order_by("id").values_list(
            "pk", "entity_id", "institution_id", "status", "entity__organisation_id"
        )
    )
    lender_roles = (Role.INSTITUTION_ADMIN, Role.LOAN_OFFICER)
    ent_roles = (Role.ENTERPRISE_OWNER, Role.ENTERPRISE_AGENT)
    banks = _raters({x[2] for x in loans}, lender_roles)
    firms = _raters({x[4] for x in loans if x[4]}, ent_roles)
    # each institution's service quality, so that league tables differ (mean score 2.6–4.8)
    quality = {iid: rng.uniform(2.6, 4.8) for iid in sorted({x[2] for x in loans})}
    ratings: list[Rating] = []
    scores: list[list[tuple[str, int]]] = []
    kept = {"enterprise": 0, "bank": 0}

    def add(loan: tuple[Any, ...], stage: str, direction: str, rater: Any, centre: float) -> None:
        items = [(i, max(1, min(5, round(rng.gauss(centre, 0.7))))) for i in ITEMS[direction]]
        composite = (Decimal(sum(s for _i, s in items)) / len(items)).quantize(
            CENT, rounding=ROUND_HALF_UP
        )
        ratings.append(
            Rating(
                loan_id=loan[0],
                stage=stage,
                direction=direction,
                entity_id=loan[1],
                institution_id=loan[2],
                composite=composite,
                rated_by=rater,
            )
        )
        scores.append(items)

    for loan in loans:
        _pk, _e, iid, status, ent_org = loan
        # leave the demo enterprise's and the demo bank's loans to rate (the first few of each)
        if ent_org == keep_entity_org and kept["enterprise"] < 3:
            kept["enterprise"] += 1
            continue
        if iid == keep_bank and kept["bank"] < 3:
            kept["bank"] += 1
            continue
        if rng.random() > RATE_SHARE:
            continue
        stages = [RatingStage.DISBURSED]
        if status == LoanStatus.SETTLED:
            stages.append(RatingStage.SETTLED)
        for stage in stages:
            firm = firms.get(ent_org) if ent_org else None
            if firm is not None:
                add(loan, stage, RatingDirection.OF_INSTITUTION, firm, quality[iid])
            bank = banks.get(iid)
            if bank is not None:
                centre = 4.4 if status == LoanStatus.SETTLED else 3.9
                if status in (LoanStatus.OVERDUE, LoanStatus.DEFAULTED):
                    centre = 2.0
                add(loan, stage, RatingDirection.OF_ENTERPRISE, bank, centre)
    with transaction.atomic():
        Rating.objects.bulk_create(ratings, batch_size=1000)
        RatingScore.objects.bulk_create(
            [
                RatingScore(rating=r, item=item, score=s)
                for r, items in zip(ratings, scores, strict=True)
                for item, s in items
            ],
            batch_size=2000,
        )
        reputation_recompute()
    # appeals waiting for the operator: banks contesting their lowest ratings
    appeals = 0
    low = (
        Rating.objects.filter(direction=RatingDirection.OF_INSTITUTION, composite__lte=Decimal(3))
        .select_related("entity", "loan")
        .order_by("composite", "id")
    )
    reasons = (
        "企业评价与事实不符：该笔贷款自受理到放款仅用 3 个工作日，利率按合同执行。",
        "评价所述“服务态度差”无具体事实，客户经理全程有沟通记录，请平台核实。",
    )
    for rating in low[:2]:
        bank = banks.get(rating.institution_id)
        if bank is None:
            continue
        appeal_submit(actor=bank, rating=rating, reason=reasons[appeals % len(reasons)])
        appeals += 1
    return {"ratings": len(ratings), "appeals": appeals, "loans": made}
