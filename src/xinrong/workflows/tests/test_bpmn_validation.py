"""Checking a process version before it may be activated: each rule has a failing case."""

from __future__ import annotations

from typing import Any

import pytest

from xinrong.accounts.choices import Role
from xinrong.common.errors import ApplicationError, ConflictError
from xinrong.workflows import bpmn, services
from xinrong.workflows.choices import VersionStatus
from xinrong.workflows.models import ProcessDefinition
from xinrong.workflows.services import DEFAULT_PROCESSES, PROCESS_DIR
from xinrong.workflows.tests import bpmn_edit

DEFAULT = DEFAULT_PROCESSES[0]
XML = (PROCESS_DIR / DEFAULT.filename).read_text(encoding="utf-8")
LANES = {k: dict(v) for k, v in DEFAULT.lane_map.items()}


@pytest.fixture(autouse=True)
def _shipped_processes(request: Any) -> None:
    """The shipped processes (a flushed database, after a transactional test, lost them)."""
    if request.node.get_closest_marker("django_db") or "db" in request.fixturenames:
        request.getfixturevalue("db")
        services.ensure_default_processes()


def _problems(xml: str = XML, lanes: Any = None, variables: Any = None) -> list[bpmn.Problem]:
    return bpmn.validate(
        xml,
        lane_map=LANES if lanes is None else lanes,
        variables=DEFAULT.variables if variables is None else variables,
        known_roles=Role.values,
    )


def _messages(problems: list[bpmn.Problem]) -> str:
    return "\n".join(p.message for p in problems)


def test_the_default_process_is_valid() -> None:
    assert _problems() == []


def test_not_xml_is_refused_in_chinese() -> None:
    (problem,) = _problems("<bpmn:definitions")
    assert "不是合法的 XML" in problem.message


def test_entities_are_refused() -> None:
    xml = (
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        + XML.split("?>", 1)[1]
    )
    (problem,) = _problems(xml)
    assert "DOCTYPE" in problem.message
    (problem,) = _problems(xml.replace('name="部门审核"', 'name="&x;"'))
    assert "external entity" in problem.message  # never read


def test_not_bpmn_is_refused() -> None:
    (problem,) = _problems("<root/>")
    assert "不是 BPMN 2.0 文件" in problem.message


def test_an_unmapped_lane_is_refused_naming_it() -> None:
    lanes = {**LANES, "Lane_operator": {"roles": [], "users": []}}
    problems = _problems(lanes=lanes)
    assert [(p.element_id, p.element_name) for p in problems] == [("Lane_operator", "平台运营方")]
    assert "泳道「平台运营方」尚未配置办理人" in problems[0].message
    assert "Lane_operator" not in problems[0].message  # a clerk never sees an element's id


def test_an_unknown_role_is_refused() -> None:
    lanes = {**LANES, "Lane_operator": {"roles": ["boss"], "users": []}}
    assert "角色「boss」不存在" in _messages(_problems(lanes=lanes))


def test_a_user_task_outside_any_lane_is_refused() -> None:
    problems = _problems(bpmn_edit.unlane(XML, "second_review"))
    assert any(p.element_id == "second_review" and "不在任何泳道中" in p.message for p in problems)
    assert "「部门复核」不在任何泳道中" in _messages(problems)
    assert "second_review" not in _messages(problems)


def test_an_unreachable_task_is_refused() -> None:
    # the gateway no longer leads to the second review: it hangs unreachable
    xml = bpmn_edit.retarget(XML, "flow_needs_second", "operator_confirm")
    problems = _problems(xml)
    assert any(p.element_id == "second_review" and "无法到达" in p.message for p in problems)


def test_a_dead_end_is_refused() -> None:
    xml = bpmn_edit.remove(XML, "flow_to_gw_second")
    problems = _problems(xml)
    assert any(p.element_id == "second_review" and "没有出口" in p.message for p in problems)


def test_a_path_that_never_ends_is_refused() -> None:
    # operator confirmation loops back to itself on approval: no end after it
    xml = bpmn_edit.retarget(XML, "flow_operator_approve", "operator_confirm")
    xml = bpmn_edit.retarget(xml, "flow_operator_reject", "operator_confirm")
    problems = _problems(xml)
    assert any(
        p.element_id == "operator_confirm" and "走不到结束事件" in p.message for p in problems
    )


def test_a_dangling_flow_is_refused() -> None:
    xml = bpmn_edit.remove(XML, "end_operator_rejected")
    problems = _problems(xml)
    assert any(p.element_id == "flow_operator_reject" and "没有连到" in p.message for p in problems)


def test_a_branch_without_condition_is_refused() -> None:
    xml = bpmn_edit.set_condition(XML, "flow_needs_second", "")
    problems = _problems(xml)
    assert any(p.element_id == "flow_needs_second" and "没有条件" in p.message for p in problems)


def test_a_condition_with_an_undeclared_variable_is_refused() -> None:
    xml = bpmn_edit.set_condition(XML, "flow_needs_second", "approved and amount > 100")
    assert "未声明的变量 amount" in _messages(_problems(xml))
    variables = {**DEFAULT.variables, "amount": 1000}
    assert _problems(xml, variables=variables) == []


def test_a_condition_that_does_not_parse_is_refused() -> None:
    xml = bpmn_edit.set_condition(XML, "flow_needs_second", "approved and records >")
    assert "不是合法的表达式" in _messages(_problems(xml))


def test_a_condition_that_runs_code_is_refused() -> None:
    xml = bpmn_edit.set_condition(XML, "flow_needs_second", "__import__('os').system('x')")
    assert "不允许" in _messages(_problems(xml)) or "只能调用" in _messages(_problems(xml))


def test_a_condition_that_cannot_evaluate_is_refused() -> None:
    xml = bpmn_edit.set_condition(XML, "flow_needs_second", "division_code > 5")
    assert "无法计算" in _messages(_problems(xml))


def test_a_region_condition_is_allowed() -> None:
    xml = bpmn_edit.set_condition(
        XML, "flow_needs_second", 'approved and division_code.startswith("6301")'
    )
    xml = bpmn_edit.set_condition(
        xml, "flow_to_operator", 'approved and not division_code.startswith("6301")'
    )
    assert _problems(xml) == []


def test_unsupported_elements_are_refused() -> None:
    xml = XML.replace('<bpmn:userTask id="second_review"', '<bpmn:scriptTask id="second_review"')
    xml = xml.replace(
        '</bpmn:userTask>\n    <bpmn:exclusiveGateway id="gw_second"',
        '</bpmn:scriptTask>\n    <bpmn:exclusiveGateway id="gw_second"',
    )
    assert "不支持这种元素" in _messages(_problems(xml))


def test_all_problems_are_reported_at_once() -> None:
    xml = bpmn_edit.unlane(XML, "second_review")
    xml = bpmn_edit.set_condition(xml, "flow_needs_second", "approved and amount > 1")
    lanes = {**LANES, "Lane_operator": {}}
    problems = _problems(xml, lanes=lanes)
    ids = {p.element_id for p in problems}
    assert {"second_review", "flow_needs_second", "Lane_operator"} <= ids


@pytest.mark.django_db
def test_a_version_that_fails_cannot_be_activated(operator: Any) -> None:
    definition = ProcessDefinition.objects.get(key=DEFAULT.key)
    draft = services.version_draft(definition=definition, user=operator)
    assert draft.number == 2 and draft.bpmn_xml == XML
    draft, problems = services.version_save(
        version=draft,
        bpmn_xml=bpmn_edit.unlane(XML, "second_review"),
        lane_map=LANES,
        user=operator,
    )
    assert problems and draft.errors and not draft.is_valid
    with pytest.raises(ApplicationError, match="未通过检查") as exc:
        services.version_activate(version=draft, user=operator)
    assert exc.value.status == 400
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT
    active = definition.active_version
    assert active is not None and active.number == 1


@pytest.mark.django_db
def test_activating_retires_the_previous_version(operator: Any) -> None:
    definition = ProcessDefinition.objects.get(key=DEFAULT.key)
    draft = services.version_draft(definition=definition, user=operator)
    assert services.version_draft(definition=definition, user=operator) == draft
    services.version_activate(version=draft, user=operator)
    statuses = dict(definition.versions.values_list("number", "status"))
    assert statuses == {1: VersionStatus.RETIRED, 2: VersionStatus.ACTIVE}
    with pytest.raises(ConflictError):
        services.version_save(version=draft, bpmn_xml=XML, lane_map=LANES, user=operator)
    with pytest.raises(ConflictError):
        services.version_activate(version=draft, user=operator)
    assert services.version_draft(definition=definition, user=operator).number == 3
