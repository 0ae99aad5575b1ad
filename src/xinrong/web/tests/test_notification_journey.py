"""Notifications seen by the people who wait for them, on the seeded demo world, in a real Chromium.

The enterprise owner applies for a 青海银行 product from the marketplace; the bank's loan officer
finds the application in the inbox (the bell's count goes up) and accepts it; the enterprise's
inbox gains the notice; the officer then opens and exports the enterprise's credit archive and the
enterprise is told of both. Each step compares the bell with the inbox page, so a notice that is
not sent, or a count that disagrees, fails the test.
"""

from __future__ import annotations

from typing import Any

import pytest

from xinrong.accounts.tests.support import browser_login
from xinrong.web.seed import DEMO_PASSWORD
from xinrong.web.tests.seeded import demo_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PRODUCT = "青海银行·普惠快贷"
SEED = 20221  # the demo seed value, as ``xinrong seed --scale demo`` uses


def _seed_demo_world() -> None:
    """The demo world without the generated loan history (nothing below depends on it)."""
    demo_world(seed_value=SEED, history=False)


def _open(browser: Any, base: str, username: str) -> Any:
    """A fresh browser context logged in as a demo user, on its home page."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    browser_login(page, base, username, DEMO_PASSWORD)
    return page


def _bell(page: Any, base: str) -> int:
    """The unread count on the bell, read from the home page (0 when no badge is shown)."""
    page.goto(f"{base}/")
    badge = page.locator("#notification-badge")
    return int(badge.get_attribute("data-count")) if badge.count() else 0


def _inbox(page: Any) -> tuple[int, list[str]]:
    """Open the inbox from the bell; return its unread figure and the unread notices' titles."""
    with page.expect_navigation():
        page.click("#notification-bell")
    header = page.locator("#inbox-unread")
    unread = int(header.inner_text()) if header.count() else 0
    items = page.locator('#notification-list [data-read="0"] h2')
    return unread, [items.nth(i).inner_text() for i in range(items.count())]


def test_application_acceptance_and_archive_export_reach_the_right_inboxes(browser, live_server):
    _seed_demo_world()
    base = live_server.url
    officer = _open(browser, base, "loan_officer")
    owner = _open(browser, base, "ent_owner")
    officer_before = _bell(officer, base)
    owner_before = _bell(owner, base)

    # the enterprise owner goes from the home page to the marketplace and applies
    with owner.expect_navigation():
        owner.click("#mainnav >> text=金融产品超市")
    owner.fill("input[name=q]", "青海银行")
    with owner.expect_navigation():
        owner.press("input[name=q]", "Enter")
    with owner.expect_navigation():
        owner.click(f"main >> text={PRODUCT}")
    with owner.expect_navigation():
        owner.click("main >> text=申请贷款")
    owner.fill("#id_amount", "300000")
    owner.fill("#id_purpose", "购买种子化肥")
    owner.check("main form input[type=checkbox] >> nth=-1")  # the consent box
    with owner.expect_navigation():
        owner.click("button:has-text('提交申请并授权')")
    assert "/marketplace/applications/" in owner.url, owner.locator("main").inner_text()[:500]
    enterprise = owner.locator("#user-menu").inner_text().split("·")[-1].strip()

    # the officer's bell goes up by one and the inbox says which enterprise applied for what
    assert _bell(officer, base) == officer_before + 1
    unread, titles = _inbox(officer)
    assert unread == officer_before + 1
    assert any("新的贷款申请" in t and PRODUCT in t for t in titles), titles
    assert any(enterprise[:6] in t for t in titles), (enterprise, titles)

    # 查看详情 leads to the application, where the officer accepts it
    with officer.expect_navigation():
        officer.locator("#notification-list button:has-text('查看详情')").first.click()
    assert "/marketplace/applications/" in officer.url
    officer.click("#action-accept summary")
    officer.fill("#id_accept-note", "已受理，请准备营业执照")
    with officer.expect_navigation():
        officer.click("#action-accept button[name=do]")
    assert officer.locator("#timeline").inner_text().count("受理") >= 1

    # the enterprise is told, with the officer's note
    assert _bell(owner, base) == owner_before + 1
    unread, titles = _inbox(owner)
    assert unread == owner_before + 1
    assert any("已受理您的贷款申请" in t for t in titles), titles
    assert "已受理，请准备营业执照" in owner.locator("#notification-list").inner_text()

    # the officer exports the enterprise's archive from the application page
    officer.go_back()
    officer.reload()
    with officer.expect_navigation():
        officer.click("main >> text=查看信用档案")
    assert "/credit/archive/" in officer.url
    with officer.expect_download() as download:
        officer.click("main >> text=导出 Excel")
    assert download.value.suggested_filename.endswith(".xlsx")

    # opening the archive and exporting it are each told to the enterprise
    assert _bell(owner, base) == owner_before + 3
    unread, titles = _inbox(owner)
    assert unread == owner_before + 3
    assert any("青海银行" in t and "导出了本企业的信用信息" in t for t in titles), titles
    assert any("青海银行" in t and "查询了本企业的信用信息" in t for t in titles), titles

    officer.context.close()
    owner.context.close()
