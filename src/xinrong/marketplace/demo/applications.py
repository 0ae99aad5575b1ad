"""Loan applications of the demo history: consent, the timeline up to each planned status, loans."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.utils import timezone

from xinrong.credit.choices import Purpose, Scope
from xinrong.credit.models import Authorisation
from xinrong.marketplace.choices import (
    ApplicationEventKind as K,
)
from xinrong.marketplace.choices import (
    ApplicationStatus as S,
)
from xinrong.marketplace.choices import (
    LoanStatus,
    RejectReason,
)
from xinrong.marketplace.demo.base import (
    DEFAULT_AFTER_DAYS,
    TEXTS,
    FinancingReport,
    Plan,
    at_ten,
    backdate,
)
from xinrong.marketplace.demo.repayments import repay
from xinrong.marketplace.lifecycle import schedule
from xinrong.marketplace.models import (
    ApplicationEvent,
    Loan,
    LoanApplication,
    LoanInstalment,
    Repayment,
)

_TEXTS = TEXTS["applications"]


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


def write_applications(
    plans: list[Plan],
    owner_of: dict[int, int],
    rng: random.Random,
    now: dt.datetime,
    today: dt.date,
    report: FinancingReport,
    *,
    first: int = 0,
) -> list[tuple[Loan, list[Any], Plan]]:
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
                purpose_note=_TEXTS["consent_purpose"].format(product=p.product.name),
                granted_by_id=owner_of[p.entity_id],
                expires_at=p.submitted + dt.timedelta(days=180),
                created_at=p.submitted,
                updated_at=p.submitted,
            )
            for p in plans
        ],
        batch_size=1000,
    )
    backdate(auths, [p.submitted for p in plans])
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
            purpose=rng.choice(_TEXTS["purposes"]),
            status=p.status,
            submitted_by_id=owner_of[p.entity_id],
            submitted_at=p.submitted,
            created_at=p.submitted,
            updated_at=p.submitted,
        )
        apps.append(app)
    LoanApplication.objects.bulk_create(apps, batch_size=1000)
    backdate(apps, [p.submitted for p in plans])
    events: list[ApplicationEvent] = []
    loans: list[tuple[Loan, list[Any], Plan]] = []
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
    backdate(
        [loan for loan, _l, _p in loans], [at_ten(loan.disbursed_on) for loan, _l, _p in loans]
    )
    instalments: list[LoanInstalment] = []
    repayments: list[Repayment] = []
    for loan, lines, p in loans:
        repay(loan, lines, p, rng, today, instalments, repayments, report)
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
            at = at_ten(loan.settled_on)
            events.append(_event(app, K.SETTLED, at, S.REPAYING, S.SETTLED))
            app.closed_at = at
        elif loan.status == LoanStatus.DEFAULTED:
            assert loan.defaulted_on is not None
            at = at_ten(loan.defaulted_on)
            first_late = loan.defaulted_on - dt.timedelta(days=DEFAULT_AFTER_DAYS)
            events.append(
                _event(
                    app,
                    K.OVERDUE,
                    at_ten(first_late + dt.timedelta(days=1)),
                    S.REPAYING,
                    S.OVERDUE,
                    data={"overdue_days": 1},
                )
            )
            events.append(
                _event(app, K.DEFAULTED, at, S.OVERDUE, S.DEFAULTED, note=_TEXTS["defaulted_note"])
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
    p: Plan,
    rng: random.Random,
    now: dt.datetime,
    today: dt.date,
    events: list[ApplicationEvent],
    loans: list[tuple[Loan, list[Any], Plan]],
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
            note=_TEXTS["submitted_note"],
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
        app.reject_note = _TEXTS["rejected_note"]
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
                note=_TEXTS["withdrawn_note"],
            )
        )
    app.status = target
