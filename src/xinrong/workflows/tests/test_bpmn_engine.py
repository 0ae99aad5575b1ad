"""Running cases on BPMN processes: routing, lane permissions, versions."""

from __future__ import annotations

from typing import Any

import pytest

from xinrong.common.errors import ApplicationError, ConflictError, PermissionDeniedError
from xinrong.workflows import engine, services
from xinrong.workflows.choices import InstanceStatus, VersionStatus
from xinrong.workflows.models import ProcessDefinition, ProcessInstance, ProcessVersion
from xinrong.workflows.tests import bpmn_edit

pytestmark = pytest.mark.django_db

KEY = "credit.repair_approval"


@pytest.fixture(autouse=True)
def _shipped_processes(request: Any) -> None:
    """The shipped processes (a flushed database, after a transactional test, lost them)."""
    if request.node.get_closest_marker("django_db") or "db" in request.fixturenames:
        request.getfixturevalue("db")
        services.ensure_default_processes()


@pytest.fixture
def people(make_user: Any) -> dict[str, Any]:
    dept = make_user("government", ["data_provider"])
    dept2 = make_user("government", ["data_provider"], org=dept.organisation)
    op = make_user("operator", ["operator_admin"])
    bank = make_user("bank", ["loan_officer"])
    return {"dept": dept, "dept2": dept2, "op": op, "bank": bank}


def _walk(instance: ProcessInstance, *steps: tuple[Any, bool]) -> list[str]:
    names = []
    for user, approved in steps:
        (task,) = engine.open_tasks(instance)
        names.append(task.element_id)
        instance = engine.task_complete(instance, task.id, user=user, data={"approved": approved})
    return names


def test_default_process_is_installed_active() -> None:
    definition = ProcessDefinition.objects.get(key=KEY)
    active = definition.active_version
    assert active is not None and active.number == 1
    assert services.version_problems(active) == []


def test_few_records_go_from_department_to_operator(people: dict[str, Any]) -> None:
    instance = engine.process_start(
        KEY, subject=("credit.repairapplication", 1), data={"records": 2}
    )
    steps = _walk(instance, (people["dept"], True), (people["op"], True))
    instance.refresh_from_db()
    assert steps == ["department_review", "operator_confirm"]
    assert instance.is_completed and instance.status == InstanceStatus.COMPLETED
    assert instance.result["approved"] is True and instance.end_event == "end_approved"


def test_many_records_need_a_second_reviewer(people: dict[str, Any]) -> None:
    instance = engine.process_start(KEY, subject=("x.y", 2), data={"records": 6})
    steps = _walk(instance, (people["dept"], True), (people["dept2"], True), (people["op"], True))
    assert steps == ["department_review", "second_review", "operator_confirm"]


def test_boundary_of_the_threshold_is_not_second_review(people: dict[str, Any]) -> None:
    instance = engine.process_start(KEY, subject=("x.y", 3), data={"records": 5})
    (task,) = engine.open_tasks(instance)
    instance = engine.task_complete(instance, task.id, user=people["dept"], data={"approved": True})
    assert [t.element_id for t in engine.open_tasks(instance)] == ["operator_confirm"]


def test_the_first_reviewer_cannot_do_the_second_review(people: dict[str, Any]) -> None:
    instance = engine.process_start(KEY, subject=("x.y", 4), data={"records": 9})
    (task,) = engine.open_tasks(instance)
    instance = engine.task_complete(instance, task.id, user=people["dept"], data={"approved": True})
    (second,) = engine.open_tasks(instance)
    with pytest.raises(PermissionDeniedError, match="另一位"):
        engine.task_complete(instance, second.id, user=people["dept"], data={"approved": True})


def test_a_rejection_ends_the_case_rejected(people: dict[str, Any]) -> None:
    instance = engine.process_start(KEY, subject=("x.y", 5), data={"records": 1})
    _walk(instance, (people["dept"], False))
    instance.refresh_from_db()
    assert instance.is_completed and instance.result["approved"] is False
    assert instance.end_event == "end_rejected"
    assert engine.open_tasks(instance) == []


def test_only_the_lane_may_complete_its_task(people: dict[str, Any]) -> None:
    instance = engine.process_start(KEY, subject=("x.y", 6), data={"records": 1})
    (task,) = engine.open_tasks(instance)
    assert task.lane == "数据提供部门" and task.roles == ("data_provider", "operator_admin")
    for outsider in (people["bank"],):
        refused = r"「部门审核」这一步由.*办理，您不是办理人"
        with pytest.raises(PermissionDeniedError, match=refused):
            engine.task_complete(instance, task.id, user=outsider, data={"approved": True})
    assert [u for _i, t in engine.tasks_for(people["dept"], key=KEY) for u in [t.element_id]] == [
        "department_review"
    ]
    assert engine.tasks_for(people["bank"], key=KEY) == []


def test_the_object_check_of_the_domain_refuses(people: dict[str, Any]) -> None:
    instance = engine.process_start(KEY, subject=("x.y", 7), data={"records": 1})
    (task,) = engine.open_tasks(instance)
    with pytest.raises(PermissionDeniedError, match="无权办理"):
        engine.task_complete(
            instance, task.id, user=people["dept"], data={"approved": True}, may=lambda u: False
        )
    instance.refresh_from_db()
    assert instance.actors == []


def test_org_kind_of_a_lane_is_checked(
    people: dict[str, Any], operator: Any, substation_operator: Any
) -> None:
    version = services.version_draft(
        definition=ProcessDefinition.objects.get(key=KEY), user=operator
    )
    lane_map = dict(version.lane_map)
    lane_map["Lane_operator"] = {"roles": ["operator_admin"], "org_kind": "operator"}
    services.version_save(
        version=version, bpmn_xml=version.bpmn_xml, lane_map=lane_map, user=operator
    )
    services.version_activate(version=version, user=operator)
    instance = engine.process_start(KEY, subject=("x.y", 8), data={"records": 1})
    (task,) = engine.open_tasks(instance)
    instance = engine.task_complete(instance, task.id, user=people["dept"], data={"approved": True})
    (confirm,) = engine.open_tasks(instance)
    with pytest.raises(PermissionDeniedError):
        engine.task_complete(
            instance, confirm.id, user=substation_operator, data={"approved": True}
        )
    engine.task_complete(instance, confirm.id, user=people["op"], data={"approved": True})


def test_a_named_person_may_complete_a_lane(people: dict[str, Any], operator: Any) -> None:
    version = services.version_draft(
        definition=ProcessDefinition.objects.get(key=KEY), user=operator
    )
    lane_map = dict(version.lane_map)
    lane_map["Lane_department"] = {"roles": [], "users": [people["bank"].pk]}
    services.version_save(
        version=version, bpmn_xml=version.bpmn_xml, lane_map=lane_map, user=operator
    )
    services.version_activate(version=version, user=operator)
    instance = engine.process_start(KEY, subject=("x.y", 9), data={"records": 1})
    (task,) = engine.open_tasks(instance)
    with pytest.raises(PermissionDeniedError):
        engine.task_complete(instance, task.id, user=people["dept"], data={"approved": True})
    engine.task_complete(instance, task.id, user=people["bank"], data={"approved": True})


def test_a_completed_task_cannot_be_completed_twice(people: dict[str, Any]) -> None:
    instance = engine.process_start(KEY, subject=("x.y", 10), data={"records": 1})
    (task,) = engine.open_tasks(instance)
    engine.task_complete(instance, task.id, user=people["dept"], data={"approved": True})
    with pytest.raises(ConflictError):
        engine.task_complete(instance, task.id, user=people["dept2"], data={"approved": True})


def test_a_case_finishes_on_the_version_it_started(people: dict[str, Any], operator: Any) -> None:
    old = engine.process_start(KEY, subject=("x.y", 11), data={"records": 1})
    definition = ProcessDefinition.objects.get(key=KEY)
    draft = services.version_draft(definition=definition, user=operator)
    # v2: the department's approval goes straight to the end (no operator confirmation)
    xml = bpmn_edit.retarget(draft.bpmn_xml, "flow_to_operator", "end_approved")
    _v, problems = services.version_save(
        version=draft, bpmn_xml=xml, lane_map=draft.lane_map, user=operator
    )
    assert problems == []
    services.version_activate(version=draft, user=operator)
    assert (
        ProcessVersion.objects.get(definition=definition, number=1).status == VersionStatus.RETIRED
    )

    new = engine.process_start(KEY, subject=("x.y", 12), data={"records": 1})
    assert new.version.number == 2 and old.version.number == 1
    assert _walk(new, (people["dept"], True)) == ["department_review"]
    new.refresh_from_db()
    assert new.is_completed
    assert _walk(old, (people["dept"], True), (people["op"], True)) == [
        "department_review",
        "operator_confirm",
    ]
    old.refresh_from_db()
    assert old.is_completed and old.result["approved"] is True


def test_no_active_version_refuses_to_start() -> None:
    ProcessVersion.objects.filter(definition__key=KEY).update(status=VersionStatus.RETIRED)
    with pytest.raises(ApplicationError, match="没有启用中的版本"):
        engine.process_start(KEY, subject=("x.y", 13), data={})
