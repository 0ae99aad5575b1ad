"""Demo financing history: demands, applications in every state and loans with repayments.

Loan outcomes are not invented per row: each borrower's default is drawn from the documented
synthetic process (credit/synthetic.py) applied to its features *as of the disbursement month*,
so a model trained on the platform's own outcomes has a real signal to recover. Good loans are
repaid on schedule (a few days late now and then); bad loans stop paying at a random point
within their first year, go overdue and are declared in default after 90 days.

Rows are built in memory and written with bulk_create; the history is written once (a second
run adds nothing).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from xinrong.accounts.choices import OrgKind, Role
from xinrong.accounts.models import Organisation, User, UserRole
from xinrong.credit.choices import Purpose, Scope
from xinrong.credit.features import feature_matrix
from xinrong.credit.models import Authorisation, LoanWatch
from xinrong.credit.synthetic import outcomes
from xinrong.datahub.services.sources import platform_loan_events_record
from xinrong.enterprises.choices import EntityType
from xinrong.enterprises.models import MarketEntity
from xinrong.marketplace.choices import (
    LENDER_KINDS,
    DemandEventKind,
    DemandPurpose,
    DemandStatus,
    DemandUrgency,
    LoanStatus,
    ProductStatus,
    RejectReason,
)
from xinrong.marketplace.choices import (
    ApplicationEventKind as K,
)
from xinrong.marketplace.choices import (
    ApplicationStatus as S,
)
from xinrong.marketplace.eligibility import entity_facts, evaluate
from xinrong.marketplace.models import (
    ApplicationEvent,
    Demand,
    DemandEvent,
    Loan,
    LoanApplication,
    LoanInstalment,
    Product,
    ProductVersion,
    Repayment,
)
from xinrong.marketplace.schedule import schedule
from xinrong.marketplace.services.demands import demand_hold_hours

BORROWER_SHARE = 0.5  # of entities, at the demo scale; capped by MAX_BORROWERS
MAX_BORROWERS = 6_000  # the article: 5,200+ financings by Aug 2022
HISTORY_DAYS = 1095  # loans disbursed over the last three years
BAD_RATE = 0.15
DEFAULT_AFTER_DAYS = 90
# share of borrowers whose application is still in the pipeline, by status
PIPELINE = (
    (S.SUBMITTED, 0.05),
    (S.ACCEPTED, 0.04),
    (S.UNDER_REVIEW, 0.04),
    (S.APPROVED, 0.02),
    (S.CONTRACT_SIGNED, 0.02),
    (S.REJECTED, 0.06),
    (S.WITHDRAWN, 0.03),
)
DEMAND_SHARE = 0.06
DEMO_BORROWERS = ("ent_owner", "ib_owner")
FEN = Decimal("0.01")


@dataclass
class FinancingReport:
    """What the financing seed wrote."""

    applications: int = 0
    loans: int = 0
    bad_loans: int = 0
    repayments: int = 0
    demands: int = 0
    users: int = 0
    loan_events: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Plan:
    entity_id: int
    org_id: int
    version: ProductVersion
    product: Product
    status: str
    submitted: dt.datetime
    amount: Decimal
    term: int
    bad: bool = False
    renewal_of: Loan | None = None
    first_loan: bool = True


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
    facts = entity_facts(entity_ids=borrowers)
    now = timezone.now()
    today = timezone.localdate()
    plans: list[_Plan] = []
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
        if rng.random() < pipeline_share or age < 200:
            status = rng.choices([s for s, _w in PIPELINE], weights)[0]
            submitted = now - dt.timedelta(days=rng.uniform(0.2, 12))
        else:
            status = S.DISBURSED
            submitted = now - dt.timedelta(days=rng.uniform(10, min(HISTORY_DAYS, age - 180)))
        term = rng.randint(version.term_min_months, version.term_max_months)
        plans.append(
            _Plan(entity_id, 0, version, product, status, submitted, _amount(rng, version), term)
        )
    with transaction.atomic():
        org_of, owner_of, report.users = _owners([p.entity_id for p in plans], make_password(None))
        for p in plans:
            p.org_id = org_of[p.entity_id]
        _draw_outcomes(plans, seed_value)
        loans = _write(plans, owner_of, rng, now, today, report)
        # repeat borrowers: a good loan repaid at maturity is followed by another with the same
        # lender, half of them as a renewal (续贷) of the old loan; none is a first loan
        again = _follow_ons(loans, rng, now)
        _draw_outcomes(again, seed_value + 1)
        _write(again, owner_of, rng, now, today, report, first=len(plans))
        report.demands = _seed_demands(rng, owner_of, now)
        _record_loan_facts(report)
        _watch_open_loans()
    progress(
        f"financing: {report.applications} applications, {report.loans} loans "
        f"({report.bad_loans} bad), {report.repayments} repayments, {report.demands} demands"
    )
    return report


REPEAT_SHARE = 0.45


def _follow_ons(
    loans: list[tuple[Loan, list[Any], _Plan]], rng: random.Random, now: dt.datetime
) -> list[_Plan]:
    """Plan the next loan of borrowers whose loan was repaid on time and matured a while ago."""
    plans = []
    for loan, _lines, p in loans:
        if loan.status != LoanStatus.SETTLED or rng.random() >= REPEAT_SHARE:
            continue
        submitted = _at(loan.maturity_on) - dt.timedelta(days=rng.uniform(3, 30))
        if submitted > now - dt.timedelta(days=10):
            continue
        v = p.version
        term = min(max(p.term, v.term_min_months), v.term_max_months)
        plans.append(
            _Plan(
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


def _draw_outcomes(plans: list[_Plan], seed_value: int) -> None:
    """Draw each loan's default from the synthetic process on its features at disbursement."""
    by_month: dict[dt.date, list[_Plan]] = {}
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


def _event(
    app: LoanApplication, kind: str, at: dt.datetime, before: str, after: str, **kw: Any
) -> ApplicationEvent:
    return ApplicationEvent(
        application=app,
        kind=kind,
        created_at=at,
        from_status=before,
        to_status=after,
        note=kw.pop("note", ""),
        data=kw.pop("data", {}),
        actor_id=kw.pop("actor_id", None),
        organisation_id=kw.pop("organisation_id", None),
    )


def _write(
    plans: list[_Plan],
    owner_of: dict[int, int],
    rng: random.Random,
    now: dt.datetime,
    today: dt.date,
    report: FinancingReport,
    *,
    first: int = 0,
) -> list[tuple[Loan, list[Any], _Plan]]:
    """Write applications (with consent, timeline, loan, schedule, repayments); add the counts
    to the report and return the loans. ``first`` numbers the applications after earlier ones."""
    auths = Authorisation.objects.bulk_create(
        [
            Authorisation(
                entity_id=p.entity_id,
                institution_id=p.product.institution_id,
                scope=Scope.FULL,
                categories=[],
                purpose=Purpose.LOAN_APPLICATION,
                purpose_note=f"贷款申请：{p.product.name}",
                granted_by_id=owner_of[p.entity_id],
                expires_at=p.submitted + dt.timedelta(days=180),
                created_at=p.submitted,
                updated_at=p.submitted,
            )
            for p in plans
        ],
        batch_size=1000,
    )
    _backdate(auths, [p.submitted for p in plans])
    apps: list[LoanApplication] = []
    for i, (p, auth) in enumerate(zip(plans, auths, strict=True)):
        v = p.version
        app = LoanApplication(
            number=f"SQ{timezone.localtime(p.submitted):%Y%m%d}{first + i:08X}",
            renewal_of=p.renewal_of,
            entity_id=p.entity_id,
            product=p.product,
            product_version=v,
            institution_id=p.product.institution_id,
            authorisation=auth,
            amount=p.amount,
            term_months=p.term,
            repayment_method=(v.repayment_methods or ["equal_instalment"])[0],
            purpose=rng.choice(["采购原材料", "补充流动资金", "购置设备", "扩大经营", "支付货款"]),
            status=p.status,
            submitted_by_id=owner_of[p.entity_id],
            submitted_at=p.submitted,
            created_at=p.submitted,
            updated_at=p.submitted,
        )
        apps.append(app)
    LoanApplication.objects.bulk_create(apps, batch_size=1000)
    _backdate(apps, [p.submitted for p in plans])
    events: list[ApplicationEvent] = []
    loans: list[tuple[Loan, list[Any], _Plan]] = []
    for app, p in zip(apps, plans, strict=True):
        _history(app, p, rng, now, today, events, loans)
    LoanApplication.objects.bulk_update(
        apps,
        [
            "status",
            "accepted_at",
            "decided_at",
            "sla_due_at",
            "approved_amount",
            "approved_rate",
            "approved_term_months",
            "reject_reason",
            "reject_note",
            "contract_no",
            "contract_signed_on",
            "closed_at",
        ],
        batch_size=1000,
    )
    Loan.objects.bulk_create([loan for loan, _l, _p in loans], batch_size=1000)
    _backdate([loan for loan, _l, _p in loans], [_at(loan.disbursed_on) for loan, _l, _p in loans])
    instalments: list[LoanInstalment] = []
    repayments: list[Repayment] = []
    for loan, lines, p in loans:
        _repay(loan, lines, p, rng, today, instalments, repayments, report)
    Loan.objects.bulk_update(
        [loan for loan, _l, _p in loans],
        ["outstanding", "overdue_days", "max_overdue_days", "status", "settled_on", "defaulted_on"],
        batch_size=1000,
    )
    LoanInstalment.objects.bulk_create(instalments, batch_size=2000)
    Repayment.objects.bulk_create(repayments, batch_size=2000)
    repaid = {id(r.loan) for r in repayments}
    for loan, _lines, _p in loans:
        app = loan.application
        if loan.status == LoanStatus.SETTLED:
            app.status = S.SETTLED
            assert loan.settled_on is not None
            at = _at(loan.settled_on)
            events.append(_event(app, K.SETTLED, at, S.REPAYING, S.SETTLED))
            app.closed_at = at
        elif loan.status == LoanStatus.DEFAULTED:
            assert loan.defaulted_on is not None
            at = _at(loan.defaulted_on)
            first_late = loan.defaulted_on - dt.timedelta(days=DEFAULT_AFTER_DAYS)
            events.append(
                _event(
                    app,
                    K.OVERDUE,
                    _at(first_late + dt.timedelta(days=1)),
                    S.REPAYING,
                    S.OVERDUE,
                    data={"overdue_days": 1},
                )
            )
            events.append(
                _event(
                    app, K.DEFAULTED, at, S.OVERDUE, S.DEFAULTED, note="逾期超过 90 天，认定违约"
                )
            )
            app.status = S.DEFAULTED
            app.closed_at = at
        elif loan.status == LoanStatus.OVERDUE:
            events.append(
                _event(
                    app,
                    K.OVERDUE,
                    now,
                    S.REPAYING,
                    S.OVERDUE,
                    data={"overdue_days": loan.overdue_days},
                )
            )
            app.status = S.OVERDUE
        elif id(loan) not in repaid:
            app.status = S.DISBURSED  # nothing due yet
        else:
            app.status = S.REPAYING
    LoanApplication.objects.bulk_update(
        [loan.application for loan, _l, _p in loans], ["status", "closed_at"], batch_size=1000
    )
    ApplicationEvent.objects.bulk_create(events, batch_size=2000)
    report.applications += len(apps)
    report.loans += len(loans)
    report.bad_loans += sum(1 for _l, _x, p in loans if p.bad)
    report.repayments += len(repayments)
    return loans


def _at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(10, 0)))


STEPS = (
    (S.ACCEPTED, K.ACCEPTED),
    (S.UNDER_REVIEW, K.REVIEW_STARTED),
    (S.APPROVED, K.APPROVED),
    (S.CONTRACT_SIGNED, K.CONTRACT_SIGNED),
    (S.DISBURSED, K.DISBURSED),
)
ORDER: list[str] = [S.SUBMITTED, *[s for s, _k in STEPS]]


def _history(
    app: LoanApplication,
    p: _Plan,
    rng: random.Random,
    now: dt.datetime,
    today: dt.date,
    events: list[ApplicationEvent],
    loans: list[tuple[Loan, list[Any], _Plan]],
) -> None:
    """Fill the application's fields and timeline up to its planned status."""
    v = p.version
    owner = app.submitted_by_id
    events.append(
        _event(
            app,
            K.SUBMITTED,
            p.submitted,
            "",
            S.SUBMITTED,
            actor_id=owner,
            note="同时授权机构查询本企业信用信息（全部信息）",
        )
    )
    at = p.submitted
    reached = S.SUBMITTED
    target = p.status
    stops: dict[str, str] = {S.REJECTED: S.UNDER_REVIEW, S.WITHDRAWN: S.ACCEPTED}
    stop = stops.get(target, target)
    app.sla_due_at = at + dt.timedelta(days=v.days_to_accept)
    for status, kind in STEPS:
        if ORDER.index(status) > ORDER.index(stop):
            break
        at = min(at + dt.timedelta(hours=rng.uniform(4, 24 * max(1, v.days_to_accept))), now)
        data: dict[str, Any] = {}
        if status == S.ACCEPTED:
            app.accepted_at = at
            app.sla_due_at = at + dt.timedelta(days=v.days_to_decide)
        elif status == S.APPROVED:
            rate = Decimal(str(round(rng.uniform(float(v.rate_min), float(v.rate_max)), 2)))
            app.approved_amount, app.approved_rate, app.approved_term_months = (
                p.amount,
                rate,
                p.term,
            )
            app.decided_at = at
            app.sla_due_at = None
            data = {"amount": str(p.amount), "rate": str(rate), "term_months": p.term}
        elif status == S.CONTRACT_SIGNED:
            app.contract_no = f"HT{app.number[2:]}"
            app.contract_signed_on = timezone.localtime(at).date()
        elif status == S.DISBURSED:
            day = timezone.localtime(at).date()
            assert app.approved_rate is not None
            lines = schedule(
                principal=p.amount,
                annual_rate=app.approved_rate,
                term_months=p.term,
                method=app.repayment_method,
                start=day,
            )
            loan = Loan(
                application=app,
                entity_id=p.entity_id,
                institution_id=app.institution_id,
                number=f"DK{app.number[2:]}",
                principal=p.amount,
                annual_rate=app.approved_rate,
                term_months=p.term,
                repayment_method=app.repayment_method,
                disbursed_on=day,
                maturity_on=lines[-1].due_on,
                outstanding=p.amount,
                first_loan=p.first_loan,
                renewal=p.renewal_of is not None,
            )
            loans.append((loan, lines, p))
            data = {"loan": loan.number, "amount": str(p.amount), "disbursed_on": day.isoformat()}
        events.append(
            _event(app, kind, at, reached, status, data=data, organisation_id=app.institution_id)
        )
        reached = status
    if target == S.REJECTED:
        at = min(at + dt.timedelta(days=rng.uniform(0.5, 3)), now)
        app.reject_reason = rng.choice(RejectReason.values)
        app.reject_note = "经审查，暂不符合本行授信要求"
        app.decided_at = app.closed_at = at
        app.sla_due_at = None
        events.append(
            _event(
                app,
                K.REJECTED,
                at,
                reached,
                S.REJECTED,
                note=app.reject_note,
                data={"reason": app.reject_reason},
                organisation_id=app.institution_id,
            )
        )
    elif target == S.WITHDRAWN:
        at = min(at + dt.timedelta(days=rng.uniform(0.5, 2)), now)
        app.closed_at = at
        app.sla_due_at = None
        events.append(
            _event(
                app,
                K.WITHDRAWN,
                at,
                reached,
                S.WITHDRAWN,
                actor_id=owner,
                note="已从其他渠道获得资金",
            )
        )
    app.status = target


def _repay(
    loan: Loan,
    lines: list[Any],
    p: _Plan,
    rng: random.Random,
    today: dt.date,
    instalments: list[LoanInstalment],
    repayments: list[Repayment],
    report: FinancingReport,
) -> None:
    """Pay the schedule up to today: good loans on time, bad ones stop within the first year."""
    # a bad loan stops paying early enough to be in default within its first year
    stop_after = loan.disbursed_on + dt.timedelta(days=rng.randint(30, 260)) if p.bad else None
    paid_principal = Decimal("0")
    facts = report.loan_events

    def fact(event: str, on: dt.date, **kw: Any) -> None:
        facts.append({"loan": loan, "event": event, "occurred_on": on, **kw})

    fact("disbursed", loan.disbursed_on, amount=loan.principal, outstanding=loan.principal)
    last_paid: dt.date | None = None
    first_unpaid: dt.date | None = None
    for line in lines:
        inst = LoanInstalment(
            loan=loan,
            seq=line.seq,
            due_on=line.due_on,
            principal_due=line.principal,
            interest_due=line.interest,
        )
        instalments.append(inst)
        if line.due_on > today:
            continue
        if stop_after is not None and line.due_on >= stop_after:
            first_unpaid = first_unpaid or line.due_on
            continue
        late = rng.choice([0] * 18 + [3, 7])
        paid_on = min(line.due_on + dt.timedelta(days=late), today)
        inst.principal_paid, inst.interest_paid, inst.paid_on = (
            line.principal,
            line.interest,
            paid_on,
        )
        paid_principal += line.principal
        fact(
            "repaid",
            paid_on,
            amount=line.total,
            outstanding=loan.principal - paid_principal,
            overdue_days=late,
        )
        last_paid = max(last_paid or paid_on, paid_on)
        repayments.append(
            Repayment(
                loan=loan,
                paid_on=paid_on,
                amount=line.total,
                principal=line.principal,
                interest=line.interest,
                created_at=_at(paid_on),
            )
        )
        loan.max_overdue_days = max(loan.max_overdue_days, late)
    loan.outstanding = loan.principal - paid_principal
    if first_unpaid is not None:
        days = (today - first_unpaid).days
        for milestone in (1, 30, 60, DEFAULT_AFTER_DAYS):
            if milestone <= days:
                fact(
                    "overdue",
                    first_unpaid + dt.timedelta(days=milestone),
                    outstanding=loan.principal - paid_principal,
                    overdue_days=milestone,
                )
        loan.max_overdue_days = max(loan.max_overdue_days, min(days, DEFAULT_AFTER_DAYS))
        if days >= DEFAULT_AFTER_DAYS:
            loan.status = LoanStatus.DEFAULTED
            loan.defaulted_on = first_unpaid + dt.timedelta(days=DEFAULT_AFTER_DAYS)
            loan.overdue_days = DEFAULT_AFTER_DAYS
            fact(
                "defaulted",
                loan.defaulted_on,
                outstanding=loan.principal - paid_principal,
                overdue_days=DEFAULT_AFTER_DAYS,
            )
        else:
            loan.status = LoanStatus.OVERDUE
            loan.overdue_days = days
    elif loan.outstanding == 0:
        loan.status = LoanStatus.SETTLED
        loan.settled_on = last_paid
        assert last_paid is not None
        fact("settled", last_paid, outstanding=Decimal("0"))


def _seed_demands(rng: random.Random, owner_of: dict[int, int], now: dt.datetime) -> int:
    """Publish demands of registered entities: most open, some closed or withdrawn."""
    registered = list(
        MarketEntity.objects.filter(organisation__isnull=False)
        .order_by("pk")
        .values_list("pk", "division_code")
    )
    if not registered:
        return 0
    n = max(20, int(len(registered) * DEMAND_SHARE))
    chosen = rng.sample(registered, min(n, len(registered)))
    demands = []
    for pk, division in chosen:
        created = now - dt.timedelta(days=rng.uniform(0.1, 20))
        status = rng.choices(
            [DemandStatus.OPEN, DemandStatus.CLOSED, DemandStatus.WITHDRAWN], [0.8, 0.12, 0.08]
        )[0]
        demands.append(
            Demand(
                entity_id=pk,
                amount=Decimal(rng.choice([10, 20, 30, 50, 80, 100, 200, 300, 500]) * 10_000),
                term_months=rng.choice([6, 12, 12, 24, 36]),
                purpose_category=rng.choice(DemandPurpose.values),
                purpose=rng.choice(
                    ["旺季备货", "购置设备", "支付工资", "扩大养殖规模", "门店装修"]
                ),
                collateral_modes=rng.choice([["none"], ["none", "guarantor"], []]),
                max_rate=Decimal(rng.choice(["4.5", "5", "6", "7.5", "8"])),
                urgency=rng.choice(DemandUrgency.values),
                status=status,
                division_code=division,
                created_by_id=owner_of.get(pk),
                closed_at=None if status == DemandStatus.OPEN else created + dt.timedelta(days=3),
                created_at=created,
                updated_at=created,
            )
        )
    # a third of the open ones are held by a lender (抢单) whose products serve the region
    lenders = list(
        Organisation.objects.filter(kind__in=LENDER_KINDS, is_active=True).order_by("pk")
    )
    events: list[DemandEvent] = []
    for d in demands:
        events.append(
            DemandEvent(demand=d, kind=DemandEventKind.PUBLISHED, created_at=d.created_at)
        )
        if d.status == DemandStatus.OPEN and lenders and rng.random() < 0.33:
            lender = rng.choice(lenders)
            hold = demand_hold_hours()
            # taken within the hold period, so the hold is still running today
            taken = max(now - dt.timedelta(hours=rng.uniform(1, hold - 1)), d.created_at)
            d.held_by, d.held_until = lender, taken + dt.timedelta(hours=hold)
            events.append(
                DemandEvent(
                    demand=d,
                    kind=DemandEventKind.TAKEN,
                    organisation=lender,
                    created_at=taken,
                    note=f"承接至 {timezone.localtime(d.held_until):%Y-%m-%d %H:%M}",
                )
            )
        elif d.status != DemandStatus.OPEN:
            kind = (
                DemandEventKind.CLOSED
                if d.status == DemandStatus.CLOSED
                else DemandEventKind.WITHDRAWN
            )
            assert d.closed_at is not None
            events.append(DemandEvent(demand=d, kind=kind, created_at=d.closed_at))
    Demand.objects.bulk_create(demands, batch_size=1000)
    _backdate(demands, [d.created_at for d in demands])
    DemandEvent.objects.bulk_create(events, batch_size=1000)
    return len(demands)


def _record_loan_facts(report: FinancingReport) -> None:
    """Deliver every seeded loan event to datahub as one platform batch (what credit reads)."""
    if not report.loan_events:
        return
    loans = {id(e["loan"]): e["loan"] for e in report.loan_events}.values()
    uscc = dict(
        MarketEntity.objects.filter(pk__in={loan.entity_id for loan in loans}).values_list(
            "pk", "uscc"
        )
    )
    names = dict(
        Organisation.objects.filter(pk__in={loan.institution_id for loan in loans}).values_list(
            "pk", "name"
        )
    )
    rows = []
    for e in report.loan_events:
        loan = e.pop("loan")
        rows.append(
            {
                "uscc": uscc[loan.entity_id],
                "loan_no": loan.number,
                "institution": names[loan.institution_id],
                "maturity_on": loan.maturity_on,
                "first_loan": loan.first_loan,
                "renewal": loan.renewal,
                **e,
            }
        )
    platform_loan_events_record(rows=rows, note="演示数据：平台贷款历史")
    report.loan_events = []


def _watch_open_loans() -> None:
    """Lenders of loans not yet settled receive their borrowers' early warnings."""
    LoanWatch.objects.bulk_create(
        [
            LoanWatch(entity_id=e, institution_id=i, reference=n)
            for e, i, n in Loan.objects.exclude(status=LoanStatus.SETTLED).values_list(
                "entity_id", "institution_id", "number"
            )
        ],
        batch_size=2000,
        ignore_conflicts=True,
    )


def _backdate(objs: list[Any], when: list[dt.datetime]) -> None:
    """Give bulk-created rows their historical timestamps (auto_now_add set them to now)."""
    for obj, at in zip(objs, when, strict=True):
        obj.created_at = obj.updated_at = at
    if objs:
        type(objs[0]).objects.bulk_update(objs, ["created_at", "updated_at"], batch_size=1000)


__all__ = ["FinancingReport", "seed_financing"]
