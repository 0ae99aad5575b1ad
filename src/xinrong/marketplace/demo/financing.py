"""Who borrows what and when, drawn from the seed; loan outcomes from the synthetic process on the
borrowers' features at disbursement; repeat loans; the entry point ``seed_financing``.

Rows are built in memory and written with bulk_create; the history is written once (a second
run adds nothing).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from xinrong.accounts.choices import OrgKind, Role
from xinrong.accounts.models import Organisation, User, UserRole
from xinrong.credit.features import feature_matrix
from xinrong.credit.synthetic import outcomes
from xinrong.enterprises.choices import EntityType
from xinrong.enterprises.models import MarketEntity
from xinrong.marketplace.choices import (
    ApplicationStatus as S,
)
from xinrong.marketplace.choices import (
    LoanStatus,
    ProductStatus,
)
from xinrong.marketplace.demo.applications import write_applications
from xinrong.marketplace.demo.base import (
    BAD_RATE,
    BORROWER_SHARE,
    DEMO_BORROWERS,
    HISTORY_DAYS,
    MAX_BORROWERS,
    PIPELINE,
    FinancingReport,
    Plan,
    at_ten,
)
from xinrong.marketplace.demo.demands import seed_demands
from xinrong.marketplace.demo.repayments import record_loan_facts, watch_open_loans
from xinrong.marketplace.eligibility import entity_facts, evaluate
from xinrong.marketplace.models import (
    Loan,
    LoanApplication,
    Product,
    ProductVersion,
)


def _owners(
    entity_ids: list[int], password_hash: str
) -> tuple[dict[int, int], dict[int, int], int]:
    """Give every borrower a platform account (organisation and owner); return org and user ids."""
    rows = list(
        MarketEntity.objects.filter(pk__in=entity_ids).values_list(
            "pk", "uscc", "name", "entity_type", "division_code", "organisation_id"
        )
    )
    missing = [r for r in rows if r[5] is None]
    orgs = Organisation.objects.bulk_create(
        [
            Organisation(
                name=name,
                uscc=uscc,
                region_code=division,
                kind=OrgKind.INDIVIDUAL_BUSINESS
                if etype == EntityType.INDIVIDUAL_BUSINESS
                else OrgKind.ENTERPRISE,
            )
            for _pk, uscc, name, etype, division, _o in missing
        ],
        batch_size=1000,
    )
    if missing:
        by_code = dict(
            Organisation.objects.filter(uscc__in=[r[1] for r in missing]).values_list("uscc", "pk")
        )
        entities = []
        for pk, uscc, *_rest in missing:
            e = MarketEntity(pk=pk)
            e.organisation_id = by_code[uscc]
            entities.append(e)
        MarketEntity.objects.bulk_update(entities, ["organisation"], batch_size=1000)
    del orgs
    org_of = dict(
        MarketEntity.objects.filter(pk__in=entity_ids).values_list("pk", "organisation_id")
    )
    have = dict(
        User.objects.filter(organisation_id__in=org_of.values(), roles__role=Role.ENTERPRISE_OWNER)
        .order_by("pk")
        .values_list("organisation_id", "pk")
    )
    codes = dict(MarketEntity.objects.filter(pk__in=entity_ids).values_list("pk", "uscc"))
    new_users = [
        User(
            username=f"ent_{codes[pk].lower()}",
            organisation_id=org,
            display_name="企业主",
            password=password_hash,
        )
        for pk, org in org_of.items()
        if org not in have
    ]
    User.objects.bulk_create(new_users, batch_size=1000)
    made = dict(
        User.objects.filter(username__in=[u.username for u in new_users]).values_list(
            "organisation_id", "pk"
        )
    )
    UserRole.objects.bulk_create(
        [UserRole(user_id=pk, role=Role.ENTERPRISE_OWNER) for pk in made.values()],
        batch_size=1000,
    )
    have.update(made)
    return org_of, {e: have[o] for e, o in org_of.items()}, len(made)


def _products() -> list[tuple[Product, ProductVersion]]:
    rows = (
        Product.objects.filter(status=ProductStatus.PUBLISHED, current_version__isnull=False)
        .select_related("current_version", "institution")
        .exclude(current_version__product_type="guarantee")
        .order_by("pk")
    )
    return [(p, p.current_version) for p in rows if p.current_version is not None]


def _amount(rng: random.Random, v: ProductVersion) -> Decimal:
    lo, hi = float(v.amount_min), float(min(v.amount_max, v.amount_min * 10))
    value = Decimal(round(rng.uniform(lo, hi) / 10_000) * 10_000)
    return min(max(value, v.amount_min), v.amount_max)


def seed_financing(
    *, seed_value: int, progress: Callable[[str], None] = lambda _m: None
) -> FinancingReport:
    """Write the demo financing history once; return what was written."""
    report = FinancingReport()
    if LoanApplication.objects.exists():
        return report
    products = _products()
    if not products:
        return report
    rng = random.Random(f"financing:{seed_value}")
    all_ids = list(MarketEntity.objects.order_by("pk").values_list("pk", flat=True))
    n = min(int(len(all_ids) * BORROWER_SHARE), MAX_BORROWERS)
    chosen = set(rng.sample(all_ids, n))
    # the demo logins' own enterprises borrow too, so their pages have something to show
    chosen.update(
        MarketEntity.objects.filter(organisation__users__username__in=DEMO_BORROWERS).values_list(
            "pk", flat=True
        )
    )
    borrowers = sorted(chosen)
    # the demo enterprise owner always has an application in progress on first login
    waiting = set(
        MarketEntity.objects.filter(organisation__users__username=DEMO_BORROWERS[0]).values_list(
            "pk", flat=True
        )
    )
    facts = entity_facts(entity_ids=borrowers)
    now = timezone.now()
    today = timezone.localdate()
    plans: list[Plan] = []
    weights = [w for _s, w in PIPELINE]
    pipeline_share = sum(weights)
    for entity_id in borrowers:
        f = facts.get(entity_id)
        if f is None:
            continue
        for _try in range(12):
            product, version = rng.choice(products)
            if evaluate(version, f).eligible:
                break
        else:
            continue
        # a loan comes at least half a year after the business started
        age = (f.years_in_business or 0) * 365.25
        if rng.random() < pipeline_share or age < 200 or entity_id in waiting:
            status = rng.choices([s for s, _w in PIPELINE], weights)[0]
            if entity_id in waiting:
                status = S.SUBMITTED  # the demo owner's application waits at its bank
            submitted = now - dt.timedelta(days=rng.uniform(0.2, 12))
        else:
            status = S.DISBURSED
            submitted = now - dt.timedelta(days=rng.uniform(10, min(HISTORY_DAYS, age - 180)))
        term = rng.randint(version.term_min_months, version.term_max_months)
        plans.append(
            Plan(entity_id, 0, version, product, status, submitted, _amount(rng, version), term)
        )
    with transaction.atomic():
        org_of, owner_of, report.users = _owners([p.entity_id for p in plans], make_password(None))
        for p in plans:
            p.org_id = org_of[p.entity_id]
        _draw_outcomes(plans, seed_value)
        loans = write_applications(plans, owner_of, rng, now, today, report)
        # repeat borrowers: a good loan repaid at maturity is followed by another with the same
        # lender, half of them as a renewal (续贷) of the old loan; none is a first loan
        again = _follow_ons(loans, rng, now)
        _draw_outcomes(again, seed_value + 1)
        write_applications(again, owner_of, rng, now, today, report, first=len(plans))
        report.demands = seed_demands(rng, owner_of, now)
        record_loan_facts(report)
        watch_open_loans()
    progress(
        f"financing: {report.applications} applications, {report.loans} loans "
        f"({report.bad_loans} bad), {report.repayments} repayments, {report.demands} demands"
    )
    return report


REPEAT_SHARE = 0.45


def _follow_ons(
    loans: list[tuple[Loan, list[Any], Plan]], rng: random.Random, now: dt.datetime
) -> list[Plan]:
    """Plan the next loan of borrowers whose loan was repaid on time and matured a while ago."""
    plans = []
    for loan, _lines, p in loans:
        if loan.status != LoanStatus.SETTLED or rng.random() >= REPEAT_SHARE:
            continue
        submitted = at_ten(loan.maturity_on) - dt.timedelta(days=rng.uniform(3, 30))
        if submitted > now - dt.timedelta(days=10):
            continue
        v = p.version
        term = min(max(p.term, v.term_min_months), v.term_max_months)
        plans.append(
            Plan(
                p.entity_id,
                p.org_id,
                v,
                p.product,
                S.DISBURSED,
                submitted,
                p.amount,
                term,
                renewal_of=loan if rng.random() < 0.5 else None,
                first_loan=False,
            )
        )
    return plans


def _draw_outcomes(plans: list[Plan], seed_value: int) -> None:
    """Draw each loan's default from the synthetic process on its features at disbursement."""
    by_month: dict[dt.date, list[Plan]] = {}
    for p in plans:
        if p.status == S.DISBURSED:
            day = timezone.localtime(p.submitted).date().replace(day=1)
            by_month.setdefault(day, []).append(p)
    for k, (month, group) in enumerate(sorted(by_month.items())):
        X = feature_matrix(entity_ids=[p.entity_id for p in group], as_of=month)
        X = X.reindex([p.entity_id for p in group])
        y, _p = outcomes(X, seed=seed_value + k, bad_rate=BAD_RATE)
        for plan, bad in zip(group, y, strict=True):
            plan.bad = bool(bad)
