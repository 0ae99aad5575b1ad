"""The operator's process pages: who may open them, saving with a report, activating."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from xinrong.workflows import services
from xinrong.workflows.choices import VersionStatus
from xinrong.workflows.models import ProcessDefinition, ProcessVersion
from xinrong.workflows.tests import bpmn_edit

pytestmark = pytest.mark.django_db
KEY = "credit.repair_approval"


@pytest.fixture(autouse=True)
def _shipped_processes(request: Any) -> None:
    """The shipped processes (a flushed database, after a transactional test, lost them)."""
    if request.node.get_closest_marker("django_db") or "db" in request.fixturenames:
        request.getfixturevalue("db")
        services.ensure_default_processes()


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _lane_post(version: ProcessVersion, xml: str, **lanes: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {"bpmn_xml": xml, "note": "测试"}
    mapping = {**version.lane_map, **lanes}
    for lane_id, entry in mapping.items():
        data[f"lane__{lane_id}__roles"] = entry.get("roles", [])
        data[f"lane__{lane_id}__users"] = entry.get("users_text", "")
        data[f"lane__{lane_id}__org_kind"] = entry.get("org_kind", "")
    return data


def test_only_the_central_operator_admin_manages_processes(
    operator: Any, substation_operator: Any, gov_reviewer: Any
) -> None:
    url = reverse("workflows:process_list")
    response = _client(operator).get(url)
    assert response.status_code == 200
    listing = response.content.decode()
    assert "信用修复审核" in listing and '<h1 class="h4 mb-2">流程管理</h1>' in listing
    for user in (substation_operator, gov_reviewer):
        assert _client(user).get(url).status_code == 403
    definition = ProcessDefinition.objects.get(key=KEY)
    edit = reverse("workflows:process_edit", args=[definition.pk])
    assert _client(substation_operator).post(edit).status_code == 403
    assert not ProcessVersion.objects.filter(status=VersionStatus.DRAFT).exists()


def test_the_menu_shows_processes_to_the_operator_admin(operator: Any, gov_reviewer: Any) -> None:
    url = reverse("workflows:process_list")
    assert url in _client(operator).get(reverse("web:home")).content.decode()
    assert url not in _client(gov_reviewer).get(reverse("web:home")).content.decode()


def test_edit_saves_a_draft_with_all_problems_then_activates(operator: Any) -> None:
    client = _client(operator)
    definition = ProcessDefinition.objects.get(key=KEY)
    response = client.post(reverse("workflows:process_edit", args=[definition.pk]))
    draft = ProcessVersion.objects.get(definition=definition, status=VersionStatus.DRAFT)
    assert response.status_code == 302 and response["Location"].endswith(f"/versions/{draft.pk}/")
    page = client.get(response["Location"]).content.decode()
    assert 'id="bpmn-canvas"' in page and "bpmn-modeler.production.min.js" in page
    assert "<script>" not in page  # the page's script is a static file (CSP)
    assert "process-editor-i18n.js" in page  # the modeler's Chinese labels
    # lane cards are titled by the lanes' names, not their technical ids
    assert "数据提供部门" in page and "平台运营方" in page
    assert ">Lane_department<" not in page and "Lane_department</span>" not in page

    broken = bpmn_edit.unlane(draft.bpmn_xml, "second_review")
    data = _lane_post(draft, broken, Lane_operator={"roles": []})
    response = client.post(reverse("workflows:version_edit", args=[draft.pk]), data, follow=True)
    page = response.content.decode()
    assert "检查发现 2 个问题" in page
    assert "「部门复核」不在任何泳道中" in page
    assert "泳道「平台运营方」尚未配置办理人" in page
    assert 'data-element="second_review">在图中定位' in page  # the editor locates it
    response = client.post(reverse("workflows:version_activate", args=[draft.pk]))
    assert response.status_code == 400
    assert "未通过检查" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT

    fixed = bpmn_edit.add_user_task(
        bpmn_edit.unlane(broken, "second_review"),
        "leader_review",
        "分管领导复核",
        lane="Lane_leader",
        after_flow="flow_to_operator",
    )
    fixed = fixed.replace(
        "<bpmn:flowNodeRef>gw_second</bpmn:flowNodeRef>",
        "<bpmn:flowNodeRef>gw_second</bpmn:flowNodeRef><bpmn:flowNodeRef>second_review</bpmn:flowNodeRef>",
    )
    data = _lane_post(
        draft,
        fixed,
        Lane_operator={"roles": ["operator_admin"]},
        Lane_leader={"roles": ["fund_approver"], "org_kind": "government"},
    )
    response = client.post(reverse("workflows:version_edit", args=[draft.pk]), data, follow=True)
    assert "检查通过" in response.content.decode()
    draft.refresh_from_db()
    assert draft.lane_map["Lane_leader"] == {
        "roles": ["fund_approver"],
        "users": [],
        "org_kind": "government",
    }
    response = client.post(reverse("workflows:version_activate", args=[draft.pk]), follow=True)
    assert "第 2 版已启用" in response.content.decode()
    assert dict(definition.versions.values_list("number", "status")) == {
        1: VersionStatus.RETIRED,
        2: VersionStatus.ACTIVE,
    }


def test_a_named_person_is_given_by_login_name(operator: Any, gov_reviewer: Any) -> None:
    client = _client(operator)
    definition = ProcessDefinition.objects.get(key=KEY)
    client.post(reverse("workflows:process_edit", args=[definition.pk]))
    draft = ProcessVersion.objects.get(definition=definition, status=VersionStatus.DRAFT)
    data = _lane_post(
        draft, draft.bpmn_xml, Lane_operator={"roles": [], "users_text": "nobody，x2"}
    )
    response = client.post(reverse("workflows:version_edit", args=[draft.pk]), data)
    assert response.status_code == 400
    assert "找不到这些登录名" in response.content.decode()
    data = _lane_post(
        draft, draft.bpmn_xml, Lane_operator={"roles": [], "users_text": gov_reviewer.username}
    )
    client.post(reverse("workflows:version_edit", args=[draft.pk]), data)
    draft.refresh_from_db()
    assert draft.lane_map["Lane_operator"]["users"] == [gov_reviewer.pk] and draft.is_valid


def test_an_active_version_cannot_be_changed(operator: Any) -> None:
    active = ProcessVersion.objects.get(definition__key=KEY, status=VersionStatus.ACTIVE)
    client = _client(operator)
    page = client.get(reverse("workflows:version_edit", args=[active.pk])).content.decode()
    assert 'id="save-button"' not in page
    response = client.post(
        reverse("workflows:version_edit", args=[active.pk]), _lane_post(active, "<x/>")
    )
    assert response.status_code == 409
    active.refresh_from_db()
    assert active.bpmn_xml.startswith("<?xml")
