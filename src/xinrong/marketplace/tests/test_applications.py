"""Loan applications: submission with consent, every transition per role, timers, loans."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from xinrong.common.errors import ApplicationError, ConflictError, PermissionDeniedError
from xinrong.credit.models import Authorisation
from xinrong.marketplace.choices import ApplicationEventKind, ApplicationStatus, LoanStatus
from xinrong.marketplace.models import ApplicationEvent, LoanApplication
from xinrong.marketplace.schedule import add_months, schedule
from xinrong.marketplace.services import applications as application_services
from xinrong.marketplace.services import demands as demand_services
from xinrong.marketplace.services import loans as loan_services
from xinrong.marketplace.services import products as product_services
from xinrong.marketplace.tests.factories import published_product
from xinrong.marketplace.workflows import APPLICATION
from xinrong.notifications.models import Notification

S = ApplicationStatus


@pytest.fixture
def bank(bank_officer, make_user):
    """One bank with an officer, a reviewer and an admin."""
    org = bank_officer.organisation
    return {
        "loan_officer": bank_officer,
        "reviewer": make_user("bank", ["reviewer"], org=org),
        "institution_admin": make_user("bank", ["institution_admin"], org=org),
    }


@pytest.fixture
def product(bank, operator):
    return published_product(bank["loan_officer"], operator, code="LOAN-A", days_to_accept=2)


@pytest.fixture
def entity(enterprise_user):
    return enterprise_user.organisation.market_entity


def _apply(user, entity, product, **data):
    base = {"amount": "500000", "term_months": 12, "repayment_method": "equal_instalment"}
    base.update(data)
    return application_services.application_submit(
        actor=user, entity=entity, product=product, data=base
    )


def _to(app, status, bank):
    """Drive an application along the happy path to ``status``."""
    path = [
        (
            S.ACCEPTED,
            lambda a: application_services.application_accept(
                application=a, actor=bank["loan_officer"]
            ),
        ),
        (
            S.UNDER_REVIEW,
            lambda a: application_services.application_review_start(
                application=a, actor=bank["loan_officer"]
            ),
        ),
        (
            S.APPROVED,
            lambda a: application_services.application_approve(
                application=a,
                actor=bank["reviewer"],
                amount=Decimal("400000"),
                rate=Decimal("4.35"),
                term_months=12,
            ),
        ),
        (
            S.CONTRACT_SIGNED,
            lambda a: application_services.application_sign(
                application=a, actor=bank["loan_officer"], contract_no="HT-1"
            ),
        ),
    ]
    for _target, step in path:
        if app.status == status:
            return app
        app = step(app)
    if status == S.DISBURSED:
        loan_services.application_disburse(
            application=app, actor=bank["loan_officer"], amount=Decimal("400000")
        )
        app.refresh_from_db()
    return app


def test_submit_grants_consent_keeps_version_and_starts_the_accept_timer(
    enterprise_user, entity, product, bank, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        app = _apply(enterprise_user, entity, product, purpose="采购")
    assert app.status == S.SUBMITTED
    assert app.product_version_id == product.current_version_id
    auth = Authorisation.objects.get(pk=app.authorisation_id)
    assert auth.institution_id == product.institution_id and auth.purpose == "loan_application"
    assert auth.is_live()
    assert app.sla_due_at == app.submitted_at + dt.timedelta(days=2)
    assert ApplicationEvent.objects.filter(application=app, kind="submitted").count() == 1
    assert Notification.objects.filter(
        recipient=bank["loan_officer"], kind="loan_application"
    ).exists()


def test_application_keeps_its_version_when_the_product_terms_change(
    enterprise_user, entity, product, bank, operator
):
    app = _apply(enterprise_user, entity, product)
    from xinrong.marketplace.tests.factories import product_terms

    product_services.product_update(
        product=product,
        actor=bank["loan_officer"],
        name=product.name,
        terms=product_terms(rate_max="6.5"),
    )
    product_services.product_submit(product=product, actor=bank["loan_officer"])
    product_services.product_approve(product=product, actor=operator)
    product.refresh_from_db()
    app.refresh_from_db()
    assert app.product_version_id != product.current_version_id
    assert app.product_version.rate_max == Decimal("5.80")


@pytest.mark.parametrize(
    ("field", "data"),
    [
        ("amount", {"amount": "50000"}),
        ("amount", {"amount": "abc"}),
        ("term_months", {"term_months": 48}),
        ("repayment_method", {"repayment_method": "bullet"}),
    ],
)
def test_submit_names_the_field_of_bad_input_and_writes_nothing(
    enterprise_user, entity, product, field, data
):
    with pytest.raises(ValidationError) as exc:
        _apply(enterprise_user, entity, product, **data)
    assert field in exc.value.message_dict
    assert not LoanApplication.objects.exists() and not Authorisation.objects.exists()


def test_submit_refuses_an_ineligible_enterprise_with_the_reasons(
    enterprise_user, entity, bank, operator
):
    product = published_product(bank["loan_officer"], operator, code="LOAN-R", regions=["632801"])
    with pytest.raises(ApplicationError) as exc:
        _apply(enterprise_user, entity, product)
    assert exc.value.code == "not_eligible" and exc.value.extra["reasons"] == ["region"]
    assert not Authorisation.objects.exists()


def test_one_open_application_per_product(enterprise_user, entity, product):
    _apply(enterprise_user, entity, product)
    with pytest.raises(ConflictError):
        _apply(enterprise_user, entity, product)


def test_other_users_cannot_apply_for_the_entity(bank, entity, product, other_enterprise_user):
    for user in (bank["loan_officer"], other_enterprise_user):
        with pytest.raises(PermissionDeniedError):
            _apply(user, entity, product)


# ---------------------------------------------------------------- the transition matrix

CALLS = {
    "accept": lambda a, u: application_services.application_accept(application=a, actor=u),
    "review": lambda a, u: application_services.application_review_start(application=a, actor=u),
    "approve": lambda a, u: application_services.application_approve(
        application=a, actor=u, amount=Decimal("400000"), rate=Decimal("4.35"), term_months=12
    ),
    "reject": lambda a, u: application_services.application_reject(
        application=a, actor=u, reason="credit", note="信用不足"
    ),
    "sign": lambda a, u: application_services.application_sign(
        application=a, actor=u, contract_no="HT-9"
    ),
    "disburse": lambda a, u: loan_services.application_disburse(
        application=a, actor=u, amount=Decimal("400000")
    ),
    "withdraw": lambda a, u: application_services.application_withdraw(application=a, actor=u),
    "repay": lambda a, u: loan_services.loan_repayment_record(
        loan=_loan(a), actor=u, amount=Decimal("100")
    ),
    "overdue": lambda a, u: loan_services.loan_overdue_mark(loan=_loan(a), actor=u),
    "default": lambda a, u: loan_services.loan_default_declare(loan=_loan(a), actor=u, note="失联"),
}
ROLES = (
    "enterprise_owner",
    "enterprise_agent",
    "loan_officer",
    "reviewer",
    "institution_admin",
    "other_bank",
    "operator",
)


def _loan(app):
    from xinrong.marketplace.models import Loan

    loan = Loan.objects.filter(application=app).first()
    if loan is None:  # no loan yet: the service must refuse by status, as for any other action
        raise ConflictError("invalid_transition", "no loan")
    return loan


_codes = itertools.count()

# The application lifecycle as documented: who (which roles of which side) may take each action
# from which statuses, and where it goes. The workflow must agree (the two tests below).
OFFICER = {"loan_officer", "institution_admin"}
REVIEWER = {"reviewer", "institution_admin"}
ENTERPRISE = {"enterprise_owner", "enterprise_agent"}
TABLE = {
    "accept": ({"submitted"}, "accepted", OFFICER),
    "review": ({"accepted"}, "under_review", OFFICER),
    "approve": ({"under_review"}, "approved", REVIEWER),
    "reject": ({"submitted", "accepted", "under_review"}, "rejected", OFFICER | REVIEWER),
    "sign": ({"approved"}, "contract_signed", OFFICER),
    "disburse": ({"contract_signed"}, "disbursed", OFFICER),
    "repay": ({"disbursed", "repaying", "overdue", "defaulted"}, "repaying", OFFICER),
    "overdue": ({"disbursed", "repaying"}, "overdue", OFFICER),
    "default": ({"overdue"}, "defaulted", REVIEWER),
    "withdraw": ({"submitted", "accepted", "under_review"}, "withdrawn", ENTERPRISE),
}


def _build(status, user, entity, bank, operator):
    """Return an application in ``status``, on a product of its own (one open application per
    product). Loans are disbursed 40 days ago, so an instalment is past due in every loan status
    (the sweep has not run yet for disbursed and repaying ones)."""
    product = published_product(bank["loan_officer"], operator, code=f"MX-{next(_codes)}")
    app = _apply(user, entity, product)
    if status == S.WITHDRAWN:
        return application_services.application_withdraw(application=app, actor=user)
    if status == S.REJECTED:
        return application_services.application_reject(
            application=app, actor=bank["reviewer"], reason="credit", note="信用不足"
        )
    if status in (S.SUBMITTED, S.ACCEPTED, S.UNDER_REVIEW, S.APPROVED, S.CONTRACT_SIGNED):
        return _to(app, status, bank)
    app = _to(app, S.CONTRACT_SIGNED, bank)
    start = timezone.localdate() - dt.timedelta(days=40)
    app.contract_signed_on = start
    app.save(update_fields=["contract_signed_on"])
    officer = bank["loan_officer"]
    loan = loan_services.application_disburse(
        application=app, actor=officer, amount=Decimal("120000"), disbursed_on=start
    )
    if status in (S.OVERDUE, S.DEFAULTED):
        loan_services.loan_overdue_mark(loan=loan, actor=officer)
    if status == S.DEFAULTED:
        loan_services.loan_default_declare(loan=loan, actor=bank["reviewer"], note="失联")
    if status == S.REPAYING:  # the first instalment is paid, then time passes: the second is due
        first = loan.instalments.get(seq=1)
        loan_services.loan_repayment_record(loan=loan, actor=officer, amount=first.due_left)
        yesterday = timezone.localdate() - dt.timedelta(days=1)
        loan.instalments.filter(seq=2).update(due_on=yesterday)
    if status == S.SETTLED:
        owed = sum(i.due_left for i in loan.instalments.all())
        loan_services.loan_repayment_record(loan=loan, actor=officer, amount=owed)
    app.refresh_from_db()
    assert app.status == status
    return app


@pytest.mark.parametrize(
    ("action", "status"), list(itertools.product(TABLE, ApplicationStatus.values))
)
def test_every_transition_is_allowed_exactly_for_its_statuses_and_roles(
    action, status, enterprise_user, entity, bank, make_user, operator
):
    """Each action from each status by each kind of user: allowed exactly where the table says;
    a refusal changes nothing and writes no event."""
    actors = {
        "enterprise_owner": enterprise_user,
        "enterprise_agent": make_user(
            "enterprise", ["enterprise_agent"], org=enterprise_user.organisation
        ),
        "other_bank": make_user("bank", ["loan_officer", "reviewer", "institution_admin"]),
        "operator": operator,
        **bank,
    }
    sources, target, who = TABLE[action]
    refused_app = _build(status, enterprise_user, entity, bank, operator)
    for role in ROLES:
        side_ok = (role.startswith("enterprise_") or role in bank) and role in who
        if status in sources and side_ok:
            app = _build(status, enterprise_user, entity, bank, operator)
            CALLS[action](app, actors[role])
            app.refresh_from_db()
            expected = target
            if action == "repay":  # what remains decides: 100 yuan cures no past-due instalment
                expected = S.DEFAULTED if status == S.DEFAULTED else S.OVERDUE
            assert app.status == expected, (role, app.status)
            assert app.events.order_by("-id").first().to_status == expected
        else:
            events = refused_app.events.count()
            with pytest.raises((ConflictError, PermissionDeniedError)):
                CALLS[action](refused_app, actors[role])
            refused_app.refresh_from_db()
            assert refused_app.status == status and refused_app.events.count() == events


def test_the_lifecycle_table_is_the_documented_one():
    """The workflow declares the table the matrix test trusts (docs/marketplace.md)."""
    actual = {
        a: (set(APPLICATION.action(a).sources), str(APPLICATION.action(a).target)) for a in TABLE
    }
    assert actual == {a: (sources, target) for a, (sources, target, _who) in TABLE.items()}


def test_reviewer_separation_officer_cannot_approve(enterprise_user, entity, product, bank):
    app = _to(_apply(enterprise_user, entity, product), S.UNDER_REVIEW, bank)
    with pytest.raises(PermissionDeniedError) as exc:
        CALLS["approve"](app, bank["loan_officer"])
    assert "审批人员" in exc.value.message


def test_approval_outside_product_terms_names_the_fields(enterprise_user, entity, product, bank):
    app = _to(_apply(enterprise_user, entity, product), S.UNDER_REVIEW, bank)
    with pytest.raises(ValidationError) as exc:
        application_services.application_approve(
            application=app,
            actor=bank["reviewer"],
            amount=Decimal("9000000"),
            rate=Decimal("9"),
            term_months=60,
        )
    assert set(exc.value.message_dict) == {"amount", "rate", "term_months"}
    app.refresh_from_db()
    assert app.status == S.UNDER_REVIEW


def test_reject_needs_reason_and_note(enterprise_user, entity, product, bank):
    app = _apply(enterprise_user, entity, product)
    with pytest.raises(ValidationError):
        application_services.application_reject(
            application=app, actor=bank["reviewer"], reason="nope", note="x"
        )
    with pytest.raises(ValidationError):
        application_services.application_reject(
            application=app, actor=bank["reviewer"], reason="credit", note=" "
        )


def test_withdraw_revokes_the_consent(enterprise_user, entity, product):
    app = _apply(enterprise_user, entity, product)
    application_services.application_withdraw(application=app, actor=enterprise_user)
    assert not Authorisation.objects.get(pk=app.authorisation_id).is_live()


# ---------------------------------------------------------------- service levels


def test_sla_sweep_flags_late_acceptance_once_and_tells_both_sides(
    enterprise_user, entity, product, bank, django_capture_on_commit_callbacks
):
    app = _apply(enterprise_user, entity, product)
    assert (
        application_services.applications_sla_sweep(now=timezone.now() + dt.timedelta(days=1)) == 0
    )
    later = timezone.now() + dt.timedelta(days=3)
    with django_capture_on_commit_callbacks(execute=True):
        assert application_services.applications_sla_sweep(now=later) == 1
    assert application_services.applications_sla_sweep(now=later) == 0
    app.refresh_from_db()
    assert app.sla_breached_at == later
    assert app.events.filter(kind=ApplicationEventKind.SLA_BREACHED).count() == 1
    assert Notification.objects.filter(recipient=enterprise_user, title__contains="超时").exists()


def test_acceptance_restarts_the_timer_for_the_decision(enterprise_user, entity, product, bank):
    app = _to(_apply(enterprise_user, entity, product), S.ACCEPTED, bank)
    assert app.sla_due_at == app.accepted_at + dt.timedelta(days=5)
    assert (
        application_services.applications_sla_sweep(now=app.accepted_at + dt.timedelta(days=4)) == 0
    )
    assert (
        application_services.applications_sla_sweep(now=app.accepted_at + dt.timedelta(days=6)) == 1
    )


# ---------------------------------------------------------------- loans


def test_schedule_sums_to_the_principal_for_every_method():
    for method in ("equal_instalment", "equal_principal", "interest_first", "bullet", "flexible"):
        lines = schedule(
            principal=Decimal("100000"),
            annual_rate=Decimal("4.35"),
            term_months=12,
            method=method,
            start=dt.date(2026, 1, 31),
        )
        assert sum(line.principal for line in lines) == Decimal("100000")
        assert lines[-1].due_on == dt.date(2027, 1, 31)
    equal = schedule(
        principal=Decimal("100000"),
        annual_rate=Decimal("4.35"),
        term_months=12,
        method="equal_instalment",
        start=dt.date(2026, 1, 31),
    )
    # 等额本息: 100,000 at 4.35% over 12 months pays 8,530.99 a month (bank calculators agree)
    assert {line.total for line in equal[:-1]} == {Decimal("8530.99")}
    assert equal[0].due_on == dt.date(2026, 2, 28)
    assert add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)


def test_disbursement_creates_the_loan_with_first_loan_flag(enterprise_user, entity, product, bank):
    app = _to(_apply(enterprise_user, entity, product), S.CONTRACT_SIGNED, bank)
    loan = loan_services.application_disburse(
        application=app, actor=bank["loan_officer"], amount=Decimal("400000")
    )
    assert loan.first_loan and not loan.renewal
    assert loan.instalments.count() == 12 and loan.outstanding == Decimal("400000")
    app.refresh_from_db()
    assert app.status == S.DISBURSED
    # a second loan of the same entity is not a first loan
    other = published_product(bank["loan_officer"], services_operator(bank), code="LOAN-B")
    app2 = _to(_apply(enterprise_user, entity, other), S.CONTRACT_SIGNED, bank)
    loan2 = loan_services.application_disburse(
        application=app2, actor=bank["loan_officer"], amount=Decimal("100000")
    )
    assert not loan2.first_loan


def services_operator(bank):
    from xinrong.accounts.services.organisations import organisation_create
    from xinrong.accounts.services.users import user_create

    org = organisation_create(name="运营方X", kind="operator")
    return user_create(
        username="op_x",
        password="Operator-pass-2026",
        organisation=org,
        roles=["operator_admin"],
        display_name="运营",
    )


def test_repayments_overdue_and_settlement(enterprise_user, entity, product, bank):
    app = _to(_apply(enterprise_user, entity, product), S.CONTRACT_SIGNED, bank)
    start = timezone.localdate() - dt.timedelta(days=100)
    app.contract_signed_on = start
    app.save(update_fields=["contract_signed_on"])
    loan = loan_services.application_disburse(
        application=app, actor=bank["loan_officer"], amount=Decimal("120000"), disbursed_on=start
    )
    assert loan_services.loans_overdue_sweep() == 1
    loan.refresh_from_db()
    first = loan.instalments.get(seq=1)
    assert (
        loan.status == LoanStatus.OVERDUE
        and loan.overdue_days == (timezone.localdate() - first.due_on).days
    )
    app.refresh_from_db()
    assert app.status == S.OVERDUE
    # paying every past-due instalment cures the loan
    owed = sum(i.due_left for i in loan.instalments.filter(due_on__lt=timezone.localdate()))
    loan_services.loan_repayment_record(loan=loan, actor=bank["loan_officer"], amount=owed)
    loan.refresh_from_db()
    app.refresh_from_db()
    assert loan.status == LoanStatus.CURRENT and loan.overdue_days == 0 and app.status == S.REPAYING
    assert loan.max_overdue_days > 0
    # overpaying is refused, paying the rest settles
    rest = sum(i.due_left for i in loan.instalments.all())
    with pytest.raises(ValidationError):
        loan_services.loan_repayment_record(loan=loan, actor=bank["loan_officer"], amount=rest + 1)
    loan_services.loan_repayment_record(loan=loan, actor=bank["loan_officer"], amount=rest)
    loan.refresh_from_db()
    app.refresh_from_db()
    assert loan.status == LoanStatus.SETTLED and loan.outstanding == 0 and app.status == S.SETTLED
    assert sum(r.principal for r in loan.repayments.all()) == Decimal("120000")
    # every loan event is a platform fact that credit scores and trains on, once the coalesced
    # flush has run (the worker's task; here by hand, as the test's transaction never commits)
    from xinrong.datahub.models import Fact
    from xinrong.datahub.services.sources import platform_events_flush

    assert not Fact.objects.filter(category="loan", reference_no=loan.number).exists()
    assert platform_events_flush().recorded == 5
    events = list(
        Fact.objects.filter(entity=entity, category="loan", reference_no=loan.number)
        .order_by("id")
        .values_list("status", flat=True)
    )
    assert events == ["disbursed", "overdue", "repaid", "repaid", "settled"]
    # the lender received the borrower's early warnings while the loan was outstanding
    from xinrong.credit.models import LoanWatch

    watch = LoanWatch.objects.get(reference=loan.number)
    assert watch.institution_id == loan.institution_id and watch.ended_at is not None


def test_default_needs_overdue_and_a_reviewer(enterprise_user, entity, product, bank):
    app = _to(_apply(enterprise_user, entity, product), S.CONTRACT_SIGNED, bank)
    start = timezone.localdate() - dt.timedelta(days=200)
    app.contract_signed_on = start
    app.save(update_fields=["contract_signed_on"])
    loan = loan_services.application_disburse(
        application=app, actor=bank["loan_officer"], amount=Decimal("120000"), disbursed_on=start
    )
    with pytest.raises(ConflictError):
        loan_services.loan_default_declare(loan=loan, actor=bank["reviewer"], note="失联")
    loan_services.loans_overdue_sweep()
    with pytest.raises(PermissionDeniedError):
        loan_services.loan_default_declare(loan=loan, actor=bank["loan_officer"], note="失联")
    loan_services.loan_default_declare(loan=loan, actor=bank["reviewer"], note="失联")
    loan.refresh_from_db()
    assert loan.status == LoanStatus.DEFAULTED


# ---------------------------------------------------------------- referral


def test_rejected_application_is_referred_in_one_step(
    enterprise_user, entity, product, bank, make_user, operator
):
    other_bank = make_user("bank", ["loan_officer"])
    other = published_product(other_bank, operator, code="LOAN-O")
    app = _apply(enterprise_user, entity, product, purpose="周转")
    application_services.application_reject(
        application=app, actor=bank["reviewer"], reason="capacity", note="流水不足"
    )
    with pytest.raises(ValidationError):
        application_services.application_refer(
            application=app, actor=enterprise_user, products=[product]
        )
    new = application_services.application_refer(
        application=app, actor=enterprise_user, products=[other]
    )
    assert len(new) == 1
    ref = new[0]
    assert ref.referred_from_id == app.pk and ref.institution_id == other_bank.organisation_id
    assert ref.amount == app.amount and ref.purpose == "周转"
    assert ref.authorisation.institution_id == other_bank.organisation_id
    assert app.events.filter(kind=ApplicationEventKind.REFERRED).exists()


def test_only_rejected_applications_can_be_referred(
    enterprise_user, entity, product, bank, make_user, operator
):
    other = published_product(make_user("bank", ["loan_officer"]), operator, code="LOAN-P")
    app = _apply(enterprise_user, entity, product)
    with pytest.raises(ConflictError):
        application_services.application_refer(
            application=app, actor=enterprise_user, products=[other]
        )


def test_funding_an_application_closes_the_demand_it_came_from(
    enterprise_user, entity, product, bank
):
    from xinrong.marketplace.tests.factories import demand_in

    demand = demand_services.demand_publish(actor=enterprise_user, entity=entity, data=demand_in())
    app = application_services.application_submit(
        actor=enterprise_user,
        entity=entity,
        product=product,
        data={"amount": "500000", "term_months": 24},
        demand=demand,
    )
    app = _to(app, S.CONTRACT_SIGNED, bank)
    loan_services.application_disburse(
        application=app, actor=bank["loan_officer"], amount=Decimal("400000")
    )
    demand.refresh_from_db()
    assert demand.status == "closed"
    assert demand.events.filter(kind="closed").count() == 1


def test_renewal_flags_the_new_loan_and_without_principal_needs_the_tag(
    enterprise_user, entity, bank, operator
):
    first = published_product(bank["loan_officer"], operator, code="RN-1")
    app = _to(_apply(enterprise_user, entity, first), S.CONTRACT_SIGNED, bank)
    start = timezone.localdate() - dt.timedelta(days=300)  # a 12-month loan maturing in ~65 days
    app.contract_signed_on = start
    app.save(update_fields=["contract_signed_on"])
    old = loan_services.application_disburse(
        application=app, actor=bank["loan_officer"], amount=Decimal("400000"), disbursed_on=start
    )
    far = published_product(bank["loan_officer"], operator, code="RN-0", tags=["续贷"])
    young = _to(_apply(enterprise_user, entity, far), S.CONTRACT_SIGNED, bank)
    young_loan = loan_services.application_disburse(
        application=young, actor=bank["loan_officer"], amount=Decimal("100000")
    )
    with pytest.raises(ConflictError) as early:
        application_services.application_submit(
            actor=enterprise_user,
            entity=entity,
            product=far,
            data={"amount": "100000", "term_months": 12},
            renewal_of=young_loan,
        )
    assert early.value.code == "not_due_for_renewal"
    plain = published_product(bank["loan_officer"], operator, code="RN-2", tags=["续贷"])
    with pytest.raises(ValidationError) as exc:
        application_services.application_submit(
            actor=enterprise_user,
            entity=entity,
            product=plain,
            data={"amount": "400000", "term_months": 12, "without_principal_repayment": True},
            renewal_of=old,
        )
    assert "without_principal_repayment" in exc.value.message_dict
    tagged = published_product(
        bank["loan_officer"], operator, code="RN-3", tags=["续贷", "无还本续贷"]
    )
    renewal = application_services.application_submit(
        actor=enterprise_user,
        entity=entity,
        product=tagged,
        data={"amount": "400000", "term_months": 12, "without_principal_repayment": True},
        renewal_of=old,
    )
    assert renewal.without_principal_repayment and renewal.renewal_of_id == old.pk
    renewal = _to(renewal, S.CONTRACT_SIGNED, bank)
    new = loan_services.application_disburse(
        application=renewal, actor=bank["loan_officer"], amount=Decimal("400000")
    )
    assert new.renewal and not new.first_loan


def _disbursed(user, entity, bank, operator, *, days_ago, code, amount="120000"):
    product = published_product(bank["loan_officer"], operator, code=code)
    app = _to(_apply(user, entity, product), S.CONTRACT_SIGNED, bank)
    start = timezone.localdate() - dt.timedelta(days=days_ago)
    app.contract_signed_on = start
    app.save(update_fields=["contract_signed_on"])
    return loan_services.application_disburse(
        application=app, actor=bank["loan_officer"], amount=Decimal(amount), disbursed_on=start
    )


def test_a_late_repayment_records_how_late_it_was_paid(enterprise_user, entity, bank, operator):
    """The repaid fact carries the days past due on the payment day (the portrait's longest
    days overdue and the archive's 逾期还款 read it), not the days left after paying."""
    from xinrong.datahub.models import Fact
    from xinrong.datahub.services.sources import platform_events_flush

    loan = _disbursed(enterprise_user, entity, bank, operator, days_ago=45, code="LATE-7")
    first_due = loan.instalments.order_by("due_on").values_list("due_on", flat=True).first()
    paid_on = first_due + dt.timedelta(days=7)
    owed = loan.instalments.order_by("due_on").first().due_left
    loan_services.loan_repayment_record(
        loan=loan, actor=bank["loan_officer"], amount=owed, paid_on=paid_on
    )
    platform_events_flush()
    facts = [f.values() for f in Fact.objects.filter(category="loan", entity=entity)]
    repaid = [v for v in facts if v.get("event") == "repaid"]
    assert len(repaid) == 1 and repaid[0]["overdue_days"] == "7"
    loan.refresh_from_db()
    assert loan.max_overdue_days >= 7 and loan.overdue_days == 0


def test_a_partial_repayment_before_the_sweep_makes_the_loan_overdue_and_the_sweep_goes_on(
    enterprise_user, entity, bank, operator
):
    """A payment that leaves an instalment past due marks the loan overdue itself; the sweep
    then only advances its days and still reaches every other loan."""
    first = _disbursed(enterprise_user, entity, bank, operator, days_ago=40, code="SW-1")
    second = _disbursed(enterprise_user, entity, bank, operator, days_ago=40, code="SW-2")
    loan_services.loan_repayment_record(
        loan=first, actor=bank["loan_officer"], amount=Decimal("100")
    )
    first.refresh_from_db()
    assert first.status == LoanStatus.OVERDUE and first.max_overdue_days > 0
    assert loan_services.loans_overdue_sweep() == 1  # the second one
    second.refresh_from_db()
    assert second.status == LoanStatus.OVERDUE
    assert loan_services.loans_overdue_sweep() == 0
    # 30 days later the milestone is recorded once for each loan, in one platform batch
    later = timezone.localdate() + dt.timedelta(days=30)
    from xinrong.datahub.models import Fact

    before = Fact.objects.filter(category="loan", status="overdue").count()
    loan_services.loans_overdue_sweep(as_of=later)
    assert Fact.objects.filter(category="loan", status="overdue").count() == before + 2


def test_event_dates_must_lie_between_disbursement_and_today(
    enterprise_user, entity, bank, operator
):
    loan = _disbursed(enterprise_user, entity, bank, operator, days_ago=40, code="DT-1")
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    with pytest.raises(ValidationError) as exc:
        loan_services.loan_overdue_mark(loan=loan, actor=bank["loan_officer"], as_of=tomorrow)
    assert "as_of" in exc.value.message_dict
    loan_services.loan_overdue_mark(loan=loan, actor=bank["loan_officer"])
    with pytest.raises(ValidationError) as exc:
        loan_services.loan_default_declare(
            loan=loan, actor=bank["reviewer"], note="失联", on=dt.date(1990, 1, 1)
        )
    assert "on" in exc.value.message_dict


def test_renewal_settles_the_loan_it_replaces_and_ends_its_consent(
    enterprise_user, entity, bank, operator
):
    old = _disbursed(enterprise_user, entity, bank, operator, days_ago=300, code="RO-1")
    tagged = published_product(
        bank["loan_officer"], operator, code="RO-2", tags=["续贷", "无还本续贷"]
    )
    renewal = application_services.application_submit(
        actor=enterprise_user,
        entity=entity,
        product=tagged,
        data={"amount": "120000", "term_months": 12, "without_principal_repayment": True},
        renewal_of=old,
    )
    renewal = _to(renewal, S.CONTRACT_SIGNED, bank)
    new = loan_services.application_disburse(
        application=renewal, actor=bank["loan_officer"], amount=Decimal("120000")
    )
    old.refresh_from_db()
    assert old.status == LoanStatus.SETTLED and old.outstanding == 0
    assert old.settled_on == new.disbursed_on
    old_app = old.application
    old_app.refresh_from_db()
    assert old_app.status == S.SETTLED
    assert "无还本续贷" in old_app.events.order_by("-id").first().note
    assert not Authorisation.objects.get(pk=old_app.authorisation_id).is_live()
    # the overdue sweep leaves the settled loan alone even though its schedule was not paid
    assert loan_services.loans_overdue_sweep() == 0


def test_rejection_and_settlement_end_the_consent_given_with_the_application(
    enterprise_user, entity, bank, operator
):
    product = published_product(bank["loan_officer"], operator, code="CS-1")
    app = _apply(enterprise_user, entity, product)
    application_services.application_reject(
        application=app, actor=bank["reviewer"], reason="credit", note="信用不足"
    )
    assert not Authorisation.objects.get(pk=app.authorisation_id).is_live()
    loan = _disbursed(enterprise_user, entity, bank, operator, days_ago=10, code="CS-2")
    owed = sum(i.due_left for i in loan.instalments.all())
    loan_services.loan_repayment_record(loan=loan, actor=bank["loan_officer"], amount=owed)
    assert not Authorisation.objects.get(pk=loan.application.authorisation_id).is_live()


def test_first_loan_is_the_entitys_only_first_even_when_a_later_one_is_backdated(
    enterprise_user, entity, bank, operator
):
    recent = _disbursed(enterprise_user, entity, bank, operator, days_ago=5, code="FL-1")
    older = _disbursed(enterprise_user, entity, bank, operator, days_ago=60, code="FL-2")
    assert recent.first_loan and not older.first_loan


def test_a_recovery_after_default_is_recorded_and_a_full_one_settles(
    enterprise_user, entity, bank, operator
):
    loan = _disbursed(enterprise_user, entity, bank, operator, days_ago=40, code="RC-1")
    loan_services.loan_overdue_mark(loan=loan, actor=bank["loan_officer"])
    loan_services.loan_default_declare(loan=loan, actor=bank["reviewer"], note="失联")
    loan_services.loan_repayment_record(
        loan=loan, actor=bank["loan_officer"], amount=Decimal("5000")
    )
    loan.refresh_from_db()
    assert loan.status == LoanStatus.DEFAULTED and loan.application.status == S.DEFAULTED
    rest = sum(i.due_left for i in loan.instalments.all())
    loan_services.loan_repayment_record(loan=loan, actor=bank["loan_officer"], amount=rest)
    loan.refresh_from_db()
    assert loan.status == LoanStatus.SETTLED and loan.outstanding == 0


def test_a_renewal_must_come_from_the_same_lender_once_and_cover_the_balance(
    enterprise_user, entity, bank, operator, make_user
):
    old = _disbursed(enterprise_user, entity, bank, operator, days_ago=300, code="RX-1")
    other_bank = make_user("bank", ["loan_officer"])
    foreign = published_product(other_bank, operator, code="RX-2", tags=["续贷"])
    with pytest.raises(ConflictError) as exc:
        application_services.application_submit(
            actor=enterprise_user,
            entity=entity,
            product=foreign,
            data={"amount": "120000", "term_months": 12},
            renewal_of=old,
        )
    assert exc.value.code == "renewal_other_institution"
    own = published_product(bank["loan_officer"], operator, code="RX-3", tags=["续贷"])
    renewal = application_services.application_submit(
        actor=enterprise_user,
        entity=entity,
        product=own,
        data={"amount": "120000", "term_months": 12},
        renewal_of=old,
    )
    again = published_product(bank["loan_officer"], operator, code="RX-4", tags=["续贷"])
    with pytest.raises(ConflictError) as exc:
        application_services.application_submit(
            actor=enterprise_user,
            entity=entity,
            product=again,
            data={"amount": "120000", "term_months": 12},
            renewal_of=old,
        )
    assert exc.value.code == "renewal_pending"
    renewal = _to(renewal, S.CONTRACT_SIGNED, bank)
    with pytest.raises(ValidationError) as short:
        loan_services.application_disburse(
            application=renewal, actor=bank["loan_officer"], amount=Decimal("100000")
        )
    assert "amount" in short.value.message_dict
    old.refresh_from_db()
    assert old.status == LoanStatus.CURRENT and not old.application.loan.renewal


def test_a_concurrent_equal_bank_loan_number_is_a_conflict_not_a_500(
    enterprise_user, entity, bank, operator
):
    first = _disbursed(enterprise_user, entity, bank, operator, days_ago=3, code="BN-1")
    from xinrong.marketplace.models import Loan

    Loan.objects.filter(pk=first.pk).update(bank_loan_no="JJ-9")
    product = published_product(bank["loan_officer"], operator, code="BN-2")
    app = _to(_apply(enterprise_user, entity, product), S.CONTRACT_SIGNED, bank)
    with pytest.raises(ConflictError) as exc:
        loan_services.application_disburse(
            application=app, actor=bank["loan_officer"], amount=Decimal("1000"), loan_no="JJ-9"
        )
    assert exc.value.code == "duplicate_loan_no"


def test_the_enterprise_is_reminded_of_each_unpaid_instalment_three_days_before(
    enterprise_user, entity, bank, operator, django_capture_on_commit_callbacks
):
    from xinrong.notifications.models import Notification
    from xinrong.workflows.kernel import deadlines_remind

    loan = _disbursed(enterprise_user, entity, bank, operator, days_ago=0, code="RM-1")
    first, second = loan.instalments.order_by("seq")[:2]
    key = "marketplace.application.repayment"
    with django_capture_on_commit_callbacks(execute=True):
        assert deadlines_remind(today=first.due_on - dt.timedelta(days=4))[key] == 0
        assert deadlines_remind(today=first.due_on - dt.timedelta(days=3))[key] == 1
        assert deadlines_remind(today=first.due_on - dt.timedelta(days=1))[key] == 0  # once
    told = Notification.objects.filter(recipient=enterprise_user, title__startswith="还款日临近")
    assert [n.title for n in told] == [
        f"还款日临近：{loan.application}，应于 {first.due_on:%Y-%m-%d} 还款（还剩 3 天）"
    ]
    assert not Notification.objects.filter(
        recipient=bank["loan_officer"], title__startswith="还款日临近"
    ).exists()
    # once the first instalment is paid, the next one is reminded in its turn
    first.principal_paid, first.interest_paid = first.principal_due, first.interest_due
    first.paid_on = first.due_on
    first.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert deadlines_remind(today=second.due_on - dt.timedelta(days=2))[key] == 1
    assert loan.application.events.filter(kind="remind.repayment").count() == 2
