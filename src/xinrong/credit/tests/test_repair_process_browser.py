"""The operator changes the repair approval process in the modeler; repairs follow their version.

The journey of issue 11: the operator opens the repair process in the bpmn-js modeler, adds a
second review lane, saves; the check refuses the version while the lane has nobody; mapped to a
role it is activated; a new repair then goes through the new lane while one already running
finishes on the old version.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from xinrong.accounts.tests.support import browser_login
from xinrong.credit.models import RepairApplication
from xinrong.credit.services import repair as repair_services
from xinrong.credit.tests.conftest import pdf
from xinrong.workflows.services import ensure_default_processes
from xinrong.workflows.tests.test_bpmn_browser import ADD_LANE_JS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(os.environ.get("XINRONG_SHOTS", "var/screens/bpmn"))


def _logout(page: Any) -> None:
    page.click("#user-menu")
    with page.expect_navigation():
        page.click("#logout-button")


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in ((1366, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(300)
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})


def _agree(page: Any, base: str, application: RepairApplication, note: str) -> None:
    page.goto(f"{base}/credit/repairs/{application.pk}/")
    page.fill("#approve_note", note)
    with page.expect_navigation():
        page.click("#approve-button")


def _steps(page: Any) -> list[str]:
    return [li.get_attribute("data-step") or "" for li in page.locator("#repair-steps li").all()]


def test_a_new_repair_follows_the_new_version_a_running_one_the_old(
    page: Any,
    live_server: Any,
    make_user: Any,
    enterprise_user: Any,
    tax_clerk: Any,
    make_penalty: Any,
) -> None:
    ensure_default_processes()
    make_user("operator", ["operator_admin"], username="op_admin")
    make_user("government", ["fund_approver"], username="leader")
    base = live_server.url
    running = repair_services.repair_apply(
        actor=enterprise_user,
        fact=make_penalty("general", "2020-01-01"),
        statement="罚款已缴清",
        evidence=[pdf()],
    )

    # 1. the operator adds a review lane in the modeler; unmapped, the version is refused
    browser_login(page, base, "op_admin")
    page.goto(f"{base}/workflows/processes/")
    with page.expect_navigation():
        page.click("#edit-credit\\.repair_approval")
    page.wait_for_selector('#bpmn-canvas[data-ready="1"]', state="attached")
    added = page.evaluate(ADD_LANE_JS)
    page.fill("#element-name", "分管领导")
    page.press("#element-name", "Tab")
    with page.expect_navigation():
        page.click("#save-button")
    report = page.locator("#validation-report")
    assert "泳道「分管领导」尚未配置办理人" in report.inner_text()
    assert added["lane"] not in report.inner_text()  # named by its name, never its id
    assert page.locator("#activate-button").is_disabled()
    _shot(page, "10-repair-process-refused")

    # 2. mapped to the fund approvers' role, it passes and is activated
    page.locator(f'[data-lane="{added["lane"]}"]').get_by_label("资金审批人").check()
    with page.expect_navigation():
        page.click("#save-button")
    assert page.locator("#validation-report").get_attribute("data-count") == "0"
    with page.expect_navigation():
        page.click("#activate-button")
    assert page.locator('tr[data-version="2"]').get_attribute("data-status") == "active"
    _logout(page)

    # 3. a new repair goes through the new lane; the running one keeps version 1
    new = repair_services.repair_apply(
        actor=enterprise_user,
        fact=make_penalty("general", "2020-01-02"),
        statement="已整改",
        evidence=[pdf()],
    )
    browser_login(page, base, "tax_clerk")
    _agree(page, base, new, "整改到位")
    assert _steps(page) == [added["task"]]
    _shot(page, "11-repair-new-version")
    _agree(page, base, running, "整改到位")
    assert _steps(page) == ["operator_confirm"]
    _logout(page)

    browser_login(page, base, "leader")
    page.goto(f"{base}/credit/repairs/{new.pk}/")
    assert "分管领导复核" in page.locator("#repair-steps").inner_text()
    _shot(page, "12-repair-leader")
    _agree(page, base, new, "同意")
    assert _steps(page) == ["operator_confirm"]
    _logout(page)

    browser_login(page, base, "op_admin")
    for application in (new, running):
        _agree(page, base, application, "确认")
        assert page.locator("#repair-status").get_attribute("data-status") == "approved"
    _shot(page, "13-repair-approved")
    timeline = page.locator("#timeline").inner_text()
    assert "审核同意，转下一环节" in timeline and "准予修复" in timeline
