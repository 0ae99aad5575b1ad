"""Credit repair follows the configurable approval process (BPMN, xinrong.workflows)."""

import pytest

from xinrong.common.errors import PermissionDeniedError
from xinrong.credit.selectors import repair as repair_selectors
from xinrong.credit.services import repair as repair_services
from xinrong.credit.tests.conftest import pdf
from xinrong.notifications.models import Notification
from xinrong.workflows import engine, services
from xinrong.workflows.models import ProcessDefinition
from xinrong.workflows.tests import bpmn_edit

pytestmark = pytest.mark.django_db
KEY = "credit.repair_approval"


def _apply(user, fact):
    return repair_services.repair_apply(
        actor=user, fact=fact, statement="已整改", evidence=[pdf("缴款凭证.pdf")]
    )


def _steps(application):
    return [t.element_id for t in repair_services.repair_open_steps(application=application)]


def test_filing_starts_the_active_version_with_the_records_count(
    enterprise_user, make_penalty, tax_clerk, django_capture_on_commit_callbacks
):
    for day in ("2020-01-01", "2020-01-02", "2020-01-03"):
        make_penalty("general", day)
    fact = make_penalty("general", "2020-01-04")
    with django_capture_on_commit_callbacks(execute=True):
        application = _apply(enterprise_user, fact)
    instance = engine.instance_for(application)
    assert instance.version.number == 1
    assert instance.data["records"] == 4
    assert instance.data["division_code"] == application.entity.division_code
    assert _steps(application) == ["department_review"]
    notices = Notification.objects.filter(recipient=tax_clerk, kind="repair.filed")
    assert notices.count() == 1


def test_many_records_need_a_second_reviewer_of_the_department(
    enterprise_user,
    make_penalty,
    tax_clerk,
    make_user,
    operator,
    django_capture_on_commit_callbacks,
):
    facts = [make_penalty("general", f"2020-01-{d:02d}") for d in range(1, 8)]
    application = _apply(enterprise_user, facts[0])
    colleague = make_user("government", ["data_provider"], org=tax_clerk.organisation)
    with django_capture_on_commit_callbacks(execute=True):
        repair_services.repair_approve(application=application, actor=tax_clerk)
    assert _steps(application) == ["second_review"]
    with pytest.raises(PermissionDeniedError, match="另一位"):
        repair_services.repair_approve(application=application, actor=tax_clerk)
    assert Notification.objects.filter(recipient=colleague, kind="repair.awaiting").exists()
    # the first reviewer is not asked again: the second review needs another person
    assert not Notification.objects.filter(recipient=tax_clerk, kind="repair.awaiting").exists()
    repair_services.repair_approve(application=application, actor=colleague)
    assert _steps(application) == ["operator_confirm"]
    repair_services.repair_approve(application=application, actor=operator)
    application.refresh_from_db()
    assert application.status == "approved"
    steps = [e.data.get("step") for e in application.events.all()]
    assert steps == [None, "department_review", "second_review", "operator_confirm"]


def test_a_few_records_skip_the_second_review(enterprise_user, make_penalty, tax_clerk, operator):
    application = _apply(enterprise_user, make_penalty("general", "2020-01-01"))
    repair_services.repair_approve(application=application, actor=tax_clerk)
    assert _steps(application) == ["operator_confirm"]


def test_only_the_department_that_holds_the_record_reviews(
    enterprise_user, make_penalty, tax_clerk, make_user, substation_operator
):
    application = _apply(enterprise_user, make_penalty("general", "2020-01-01"))
    other_department = make_user("government", ["data_provider"])
    for outsider in (other_department, substation_operator):  # 632801 does not cover 630102
        with pytest.raises(PermissionDeniedError):
            repair_services.repair_approve(application=application, actor=outsider)
    assert repair_services.repair_step_for(application=application, user=tax_clerk) is not None
    assert repair_services.repair_step_for(application=application, user=other_department) is None


def test_a_rejection_at_the_operator_ends_rejected(
    enterprise_user, make_penalty, tax_clerk, operator
):
    application = _apply(enterprise_user, make_penalty("general", "2020-01-01"))
    repair_services.repair_approve(application=application, actor=tax_clerk)
    repair_services.repair_reject(application=application, actor=operator, reason="材料不全")
    application.refresh_from_db()
    assert (application.status, application.reason) == ("rejected", "材料不全")
    assert engine.instance_for(application).end_event == "end_operator_rejected"


def test_a_new_version_applies_to_new_repairs_only(
    enterprise_user, make_penalty, tax_clerk, operator, make_user
):
    running = _apply(enterprise_user, make_penalty("general", "2020-01-01"))
    leader = make_user("government", ["fund_approver"])
    services.ensure_default_processes()
    definition = ProcessDefinition.objects.get(key=KEY)
    draft = services.version_draft(definition=definition, user=operator)
    xml = bpmn_edit.add_user_task(
        draft.bpmn_xml,
        "leader_review",
        "分管领导复核",
        lane="Lane_leader",
        after_flow="flow_to_operator",
    )
    lanes = {**draft.lane_map, "Lane_leader": {"roles": ["fund_approver"]}}
    _draft, problems = services.version_save(
        version=draft, bpmn_xml=xml, lane_map=lanes, user=operator
    )
    assert problems == []
    services.version_activate(version=draft, user=operator)

    new = _apply(enterprise_user, make_penalty("general", "2020-01-02"))
    repair_services.repair_approve(application=new, actor=tax_clerk)
    assert _steps(new) == ["leader_review"]
    # the leader is named by the process only: the application is in their list and page
    assert [a.pk for a in repair_selectors.repair_list(user=leader)] == [new.pk]
    assert repair_selectors.repair_get(user=leader, pk=new.pk) == new
    repair_services.repair_approve(application=new, actor=leader)
    repair_services.repair_approve(application=new, actor=operator)
    new.refresh_from_db()
    assert new.status == "approved"

    repair_services.repair_approve(application=running, actor=tax_clerk)
    assert _steps(running) == ["operator_confirm"]  # version 1: no leader review
    repair_services.repair_approve(application=running, actor=operator)
    running.refresh_from_db()
    assert running.status == "approved"
    assert engine.instance_for(running).version.number == 1


def test_an_application_filed_before_processes_gets_its_case(
    client, enterprise_user, make_penalty, tax_clerk
):
    application = _apply(enterprise_user, make_penalty("general", "2020-01-01"))
    engine.instance_for(application).delete()  # as if filed before the process existed
    client.force_login(tax_clerk)
    page = client.get(f"/credit/repairs/{application.pk}/").content.decode()
    assert 'data-step="department_review"' in page and 'id="approve-button"' in page
    repair_services.repair_approve(application=application, actor=tax_clerk)
    assert _steps(application) == ["operator_confirm"]
