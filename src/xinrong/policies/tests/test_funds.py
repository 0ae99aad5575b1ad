"""Special funds: apply with materials, approve on the BPMN process, commit, pay, follow."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from xinrong.common.errors import ConflictError, PermissionDeniedError
from xinrong.notifications.models import Notification
from xinrong.policies.choices import Delivery, FundApplicationStatus, GrantStatus, MeasureKind
from xinrong.policies.models import FundApplication, FundEvent, Grant
from xinrong.policies.services import budget
from xinrong.policies.services.funds import (
    fund_apply,
    fund_decide,
    fund_disburse,
    fund_open_steps,
    fund_step_for,
    fund_withdraw,
)
from xinrong.policies.tests.funds_support import apply, eligible, enterprise, pdf, world

pytestmark = pytest.mark.django_db(transaction=False)
S = FundApplicationStatus


def _setup(**kw):
    w = world(**kw)
    owner = enterprise(101)
    entity = owner.organisation.market_entity
    eligible(w.measure, entity)
    return w, owner, entity


def test_apply_approve_disburse_closed_loop(django_capture_on_commit_callbacks):
    w, owner, _entity = _setup()
    with django_capture_on_commit_callbacks(execute=True):
        app = apply(w, owner)
    assert app.status == S.SUBMITTED
    assert app.materials.count() == 2
    assert [t.element_id for t in fund_open_steps(application=app)] == ["department_review"]
    assert Notification.objects.filter(
        recipient=w.publisher, kind="policies.fund_awaiting"
    ).exists()
    # finance may not take the department's step
    assert fund_step_for(application=app, user=w.finance) is None
    with pytest.raises(PermissionDeniedError):
        fund_decide(application=app, actor=w.finance, approved=True, amount="1")
    with django_capture_on_commit_callbacks(execute=True):
        fund_decide(application=app, actor=w.publisher, approved=True, amount="25000.00")
    app.refresh_from_db()
    assert app.status == S.IN_REVIEW and app.approved == Decimal("25000.00")
    assert [t.element_id for t in fund_open_steps(application=app)] == ["finance_review"]
    assert Notification.objects.filter(recipient=w.finance, kind="policies.fund_awaiting").exists()
    with django_capture_on_commit_callbacks(execute=True):
        fund_decide(application=app, actor=w.finance, approved=True, amount="20000.00")
    app.refresh_from_db()
    assert app.status == S.APPROVED and app.approved == Decimal("20000.00")
    grant = Grant.objects.get(application=app)
    assert grant.amount == Decimal("20000.00") and grant.status == GrantStatus.COMMITTED
    assert budget.budget_use(measure=w.measure).left == Decimal("80000.00")
    with django_capture_on_commit_callbacks(execute=True):
        fund_disburse(application=app, actor=w.finance, voucher_no="CZ2026-001")
    app.refresh_from_db()
    assert app.status == S.DISBURSED and app.disbursed_at is not None
    grant.refresh_from_db()
    assert grant.status == GrantStatus.DISBURSED and grant.voucher_no == "CZ2026-001"
    kinds = list(FundEvent.objects.filter(application=app).values_list("kind", flat=True))
    assert kinds == ["filed", "reviewed", "approved", "disbursed"]
    told = set(Notification.objects.filter(recipient=owner).values_list("kind", flat=True))
    assert {"policies.fund_reviewed", "policies.fund_approved", "policies.fund_disbursed"} <= told


def test_department_reject_ends_process():
    w, owner, _entity = _setup()
    app = apply(w, owner)
    with pytest.raises(ValidationError) as exc:
        fund_decide(application=app, actor=w.publisher, approved=False, note="")
    assert "note" in exc.value.message_dict
    fund_decide(application=app, actor=w.publisher, approved=False, note="材料不全")
    app.refresh_from_db()
    assert app.status == S.REJECTED and app.decision_note == "材料不全"
    assert fund_open_steps(application=app) == []
    assert not Grant.objects.filter(application=app).exists()


def test_finance_reject_route():
    w, owner, _entity = _setup()
    app = apply(w, owner)
    fund_decide(application=app, actor=w.publisher, approved=True, amount="10000")
    fund_decide(application=app, actor=w.finance, approved=False, note="预算不足")
    app.refresh_from_db()
    assert app.status == S.REJECTED
    steps = list(app.events.values_list("data__step", flat=True))
    assert steps[1:] == ["department_review", "finance_review"]


def test_other_department_publisher_cannot_review():
    w, owner, _entity = _setup()
    other = world()
    app = apply(w, owner)
    with pytest.raises(PermissionDeniedError):
        fund_decide(application=app, actor=other.publisher, approved=True, amount="100")


def test_apply_reports_every_error_at_once():
    w, owner, _entity = _setup()
    with pytest.raises(ValidationError) as exc:
        fund_apply(
            actor=owner,
            measure=w.measure,
            requested="60000.001",
            purpose="",
            materials={"营业执照": SimpleUploadedFile("a.exe", b"MZ\x90\x00", "application/x")},
        )
    errors = exc.value.message_dict
    assert set(errors) == {"requested", "purpose", "material_0", "material_1"}
    assert "两位小数" in errors["requested"][0]
    assert "项目申报书" in errors["material_1"][0]
    assert not FundApplication.objects.exists()


def test_apply_over_cap_and_not_eligible_and_closed_window():
    w = world()
    owner = enterprise(102)
    w.measure.window_end = w.measure.window_start
    w.measure.save()
    with pytest.raises(ValidationError) as exc:
        apply(w, owner, requested="50000.01")
    msgs = exc.value.message_dict
    assert any("不符合" in m for m in msgs["measure"])
    assert any("截止" in m for m in msgs["measure"])
    assert "上限" in msgs["requested"][0]


def test_automatic_or_non_money_measure_takes_no_application():
    for kw in ({"delivery": Delivery.AUTOMATIC}, {"kind": MeasureKind.TAX_RELIEF}):
        w = world(**kw)
        owner = enterprise(110 + len(kw["delivery" if "delivery" in kw else "kind"]))
        eligible(w.measure, owner.organisation.market_entity)
        with pytest.raises(ValidationError) as exc:
            apply(w, owner)
        assert "measure" in exc.value.message_dict


def test_no_duplicate_application_and_withdraw():
    w, owner, _entity = _setup()
    app = apply(w, owner)
    with pytest.raises(ValidationError):
        apply(w, owner)
    fund_withdraw(application=app, actor=owner, note="重新准备材料")
    app.refresh_from_db()
    assert app.status == S.WITHDRAWN
    again = apply(w, owner)
    assert again.pk != app.pk


def test_approval_refused_past_budget_writes_nothing():
    w = world(budget=Decimal("30000.00"))
    apps = []
    for seed in (121, 122):
        owner = enterprise(seed)
        eligible(w.measure, owner.organisation.market_entity)
        app = apply(w, owner, requested="20000.00")
        fund_decide(application=app, actor=w.publisher, approved=True, amount="20000.00")
        apps.append(app)
    fund_decide(application=apps[0], actor=w.finance, approved=True)
    with pytest.raises(ConflictError) as exc:
        fund_decide(application=apps[1], actor=w.finance, approved=True)
    assert exc.value.code == "budget_exceeded"
    apps[1].refresh_from_db()
    assert apps[1].status == S.IN_REVIEW
    assert [t.element_id for t in fund_open_steps(application=apps[1])] == ["finance_review"]
    # finance lowers the amount so it fits
    fund_decide(application=apps[1], actor=w.finance, approved=True, amount="10000.00")
    assert budget.budget_use(measure=w.measure).left == Decimal("0.00")


def test_approved_amount_cannot_exceed_request():
    w, owner, _entity = _setup()
    app = apply(w, owner, requested="1000.00")
    with pytest.raises(ValidationError) as exc:
        fund_decide(application=app, actor=w.publisher, approved=True, amount="1000.01")
    assert "申请金额" in exc.value.message_dict["amount"][0]


def test_enterprise_cannot_apply_for_another(make_user):
    w, _owner, _entity = _setup()
    stranger = make_user("government", ["policy_publisher"])
    with pytest.raises(PermissionDeniedError):
        fund_apply(
            actor=stranger,
            measure=w.measure,
            requested="1",
            purpose="x",
            materials={"营业执照": pdf(), "项目申报书": pdf()},
        )


def test_the_shipped_special_fund_process_is_valid():
    from xinrong.accounts.choices import Role
    from xinrong.workflows import bpmn
    from xinrong.workflows.services import DEFAULT_PROCESSES, PROCESS_DIR

    default = next(d for d in DEFAULT_PROCESSES if d.key == "policies.special_fund_approval")
    problems = bpmn.validate(
        (PROCESS_DIR / default.filename).read_text(encoding="utf-8"),
        lane_map={k: dict(v) for k, v in default.lane_map.items()},
        variables=default.variables,
        known_roles=Role.values,
    )
    assert problems == []


def test_a_completed_step_gives_no_lasting_right_and_finance_alone_takes_its_step(make_user):
    """Once the department's agreement is applied, its publisher no longer passes the kernel's
    approve/reject; a department's own fund approver (not finance) cannot take finance's step."""
    from xinrong.common.errors import PermissionDeniedError as Refused
    from xinrong.policies.services.funds import fund_decide
    from xinrong.policies.tests.funds_support import apply, eligible, enterprise, world
    from xinrong.policies.workflows.funds import FUND

    w = world()
    owner = enterprise(931)
    eligible(w.measure, owner.organisation.market_entity)
    application = apply(w, owner)
    assert FUND.may(w.publisher, application, "review")
    application = fund_decide(
        application=application, actor=w.publisher, approved=True, amount="30000.00"
    )
    for action in ("approve", "reject", "review"):
        assert not FUND.may(w.publisher, application, action), action
    own_approver = make_user("government", ["fund_approver"], org=w.department)
    assert not FUND.may(own_approver, application, "approve")
    with pytest.raises(Refused):
        fund_decide(application=application, actor=own_approver, approved=True, amount="30000.00")
    assert FUND.may(w.finance, application, "approve")
    fund_decide(application=application, actor=w.finance, approved=True, amount="30000.00")


def test_a_sub_station_cannot_grant_a_subsidy_batch(make_user):
    from xinrong.policies.rules.pboc import subsidy_manager

    station = make_user("substation", ["operator_admin"], region_code="632801")
    operator = make_user("operator", ["operator_admin"])
    assert not subsidy_manager.test(station)
    assert subsidy_manager.test(operator)
