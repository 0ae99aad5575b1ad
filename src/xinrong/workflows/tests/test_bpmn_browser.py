"""The operator edits the repair approval process in the bpmn-js modeler, in a real Chromium."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import PASSWORD
from xinrong.workflows.services import ensure_default_processes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path("/tmp/shots-bpmn")


def _login(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("#login-button")


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
    _login(page, base, "op_admin")
    page.goto(f"{base}/workflows/processes/")
    _shot(page, "01-list")
    with page.expect_navigation():
        page.click("#edit-credit\\.repair_approval")
    page.wait_for_selector('#bpmn-canvas[data-ready="1"]', state="attached")
    _shot(page, "02-modeler")
    assert errors == []
