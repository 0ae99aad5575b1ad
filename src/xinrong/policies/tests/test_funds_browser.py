"""The special-fund journey in a browser: apply, the department and finance approve, finance
pays, the enterprise follows; a 免申即享 list is confirmed and the firm sees 已为您兑现."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from xinrong.accounts.tests.support import browser_login
from xinrong.policies.choices import Delivery, FundApplicationStatus
from xinrong.policies.models import FundApplication
from xinrong.policies.tests.funds_support import PDF, eligible, enterprise, world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(os.environ.get("XINRONG_SHOTS", "var/screens/policies"))


def _login(page: Any, base: str, username: str) -> None:
    page.context.clear_cookies()
    browser_login(page, base, username)


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in ((1366, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(200)
        overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")
        assert not overflow, f"{name} scrolls sideways at {width}px"
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})


def _file(name: str) -> dict[str, Any]:
    return {"name": name, "mimeType": "application/pdf", "buffer": PDF}


def test_apply_approve_pay_and_granted_without_applying(page: Any, live_server: Any) -> None:
    base = live_server.url
    w = world()
    owner = enterprise(801)
    entity = owner.organisation.market_entity
    eligible(w.measure, entity)
    auto = world(delivery=Delivery.AUTOMATIC, amount=Decimal("2000.00"))
    eligible(auto.measure, entity)

    _login(page, base, owner.username)
    page.goto(f"{base}/policies/funds/mine/")
    with page.expect_navigation():
        page.click(f'[data-apply="{w.measure.pk}"]')
    page.fill("#id_requested", "20000")
    page.fill("#id_purpose", "购置检测设备")
    page.set_input_files("#id_material_0", _file("执照.pdf"))
    page.set_input_files("#id_material_1", _file("申报书.pdf"))
    _shot(page, "fund-apply")
    with page.expect_navigation():
        page.click("#apply-submit")
    app = FundApplication.objects.get()
    assert page.locator("#fund-steps [data-step]").get_attribute("data-step") == "department_review"

    _login(page, base, w.publisher.username)
    page.goto(f"{base}/policies/funds/review/")
    with page.expect_navigation():
        page.click(f'#waiting [data-application="{app.pk}"] a')
    page.fill("#decide_amount", "18000")
    page.fill("#decide_note", "材料齐全，同意")
    with page.expect_navigation():
        page.click("#approve-button")
    assert page.locator("#fund-status").get_attribute("data-status") == "in_review"

    _login(page, base, w.finance.username)
    page.goto(f"{base}/policies/funds/{app.pk}/")
    _shot(page, "fund-finance-review")
    with page.expect_navigation():
        page.click("#approve-button")
    assert page.locator("#fund-status").get_attribute("data-status") == "approved"
    page.fill("#voucher_voucher_no", "CZ2026-0088")
    with page.expect_navigation():
        page.click("#disburse-button")
    app.refresh_from_db()
    assert app.status == FundApplicationStatus.DISBURSED

    _login(page, base, auto.publisher.username)
    page.goto(f"{base}/policies/funds/auto/{auto.measure.pk}/")
    with page.expect_navigation():
        page.click("#draw-button")
    _shot(page, "auto-list")
    with page.expect_navigation():
        page.click("#confirm-button")
    assert page.locator("#list-status").get_attribute("data-status") == "confirmed"

    _login(page, base, owner.username)
    page.goto(f"{base}/policies/funds/{app.pk}/")
    timeline = page.locator("#timeline").inner_text()
    assert "资金已拨付" in timeline and "CZ2026-0088" in timeline
    page.goto(f"{base}/policies/funds/mine/")
    assert "已为您兑现" in page.locator("#grants").inner_text()
    _shot(page, "fund-mine")
