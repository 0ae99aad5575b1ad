"""The operator edits the repair approval process in the bpmn-js modeler, in a real Chromium."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from xinrong.accounts.tests.support import browser_login
from xinrong.workflows.services import ensure_default_processes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(os.environ.get("XINRONG_SHOTS", "var/screens/bpmn"))  # /tmp/shots-bpmn when asked
ADD_LANE_JS = """
() => {
  const m = window.xinrongModeler;
  const reg = m.get("elementRegistry");
  const modeling = m.get("modeling");
  const lane = modeling.addLane(reg.get("Lane_operator"), "top");
  const participant = reg.get("Participant_repair");
  const shape = m.get("elementFactory").createShape({ type: "bpmn:UserTask" });
  const task = modeling.createShape(
    shape, { x: 300, y: lane.y + lane.height / 2 }, participant
  );
  modeling.updateLabel(task, "分管领导复核");
  modeling.reconnectEnd(reg.get("flow_to_operator"), task, { x: task.x, y: task.y + 40 });
  modeling.connect(task, reg.get("operator_confirm"));
  m.get("selection").select(lane);
  return { lane: lane.businessObject.id, task: task.businessObject.id };
}
"""


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in ((1366, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(300)
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})


def test_operator_edits_the_repair_process(page: Any, live_server: Any, make_user: Any) -> None:
    ensure_default_processes()
    make_user("operator", ["operator_admin"], username="op_admin")
    base = live_server.url
    errors: list[str] = []
    page.on(
        "response",
        lambda r: errors.append(r.url) if r.status >= 400 and "favicon" not in r.url else None,
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    browser_login(page, base, "op_admin")
    page.goto(f"{base}/workflows/processes/")
    assert page.inner_text("h1") == "流程管理"  # as in the menu
    _shot(page, "01-list")
    with page.expect_navigation():
        page.click("#edit-credit\\.repair_approval")
    page.wait_for_selector('#bpmn-canvas[data-ready="1"]', state="attached")
    _shot(page, "02-modeler")
    page.wait_for_timeout(400)  # the diagram is refitted after the viewport's last change
    # the modeler speaks Chinese, and its palette leaves the start event and lane titles free
    gateway = page.locator(".djs-palette .entry[data-action='create.exclusive-gateway']")
    assert gateway.get_attribute("title") == "添加网关"
    palette = page.locator(".djs-palette").bounding_box()
    for element in ("start", "Lane_department", "Lane_operator"):
        box = page.locator(f'[data-element-id="{element}"]').bounding_box()
        assert box["x"] >= palette["x"] + palette["width"], element
    page.evaluate(
        "() => { const m = window.xinrongModeler;"
        " m.get('selection').select(m.get('elementRegistry').get('department_review')); }"
    )
    assert page.inner_text("#element-title") == "部门审核"
    pad = [e.get_attribute("title") for e in page.locator(".djs-context-pad .entry").all()]
    assert "接上任务" in pad and "删除" in pad, pad

    # the operator adds a lane with a second review between the department and the operator
    added = page.evaluate(ADD_LANE_JS)
    page.fill("#element-name", "分管领导")  # the selected lane, renamed in the side panel
    page.press("#element-name", "Tab")
    with page.expect_navigation():
        page.click("#save-button")
    report = page.locator("#validation-report")
    assert report.get_attribute("data-count") == "1"
    assert "泳道「分管领导」尚未配置办理人" in report.inner_text()
    assert added["lane"] not in report.inner_text()
    # the problem locates its lane in the diagram
    report.get_by_role("button", name="在图中定位").click()
    assert page.inner_text("#element-kind") == "泳道"
    assert page.inner_text("#element-title") == "分管领导"
    assert page.locator("#activate-button").is_disabled()
    _shot(page, "03-refused")

    # mapped to a role, the version passes and is activated
    lane_card = page.locator(f'[data-lane="{added["lane"]}"]')
    lane_card.get_by_label("资金审批人").check()
    with page.expect_navigation():
        page.click("#save-button")
    assert page.locator("#validation-report").get_attribute("data-count") == "0"
    _shot(page, "04-valid")
    with page.expect_navigation():
        page.click("#activate-button")
    assert "第 2 版已启用" in page.content()
    # the list holds every process (the special-fund approval too): read the repair process's
    repair = page.locator("#process-credit\\.repair_approval")
    assert repair.locator('tr[data-version="2"]').get_attribute("data-status") == "active"
    assert repair.locator('tr[data-version="1"]').get_attribute("data-status") == "retired"
    assert errors == []
