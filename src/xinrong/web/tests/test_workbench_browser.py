"""Every demo login's workbench in a real Chromium, on the seeded demo world, at 1366 and 390 px.

Screenshots go to /tmp/shots-home/ for a person to look at. The test fails on a script error, on a
chart that does not draw, on a page wider than the phone, on an English word or a raw status code
in the workbench, and when a queue figure disagrees with the list it links to.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from xinrong.accounts.tests.support import browser_login
from xinrong.common.tests.plain_words import problems
from xinrong.web.seed import DEMO_PASSWORD
from xinrong.web.tests.seeded import demo_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SEED = 20221  # the demo seed value, as ``xinrong seed --scale demo`` uses
SHOTS = Path("/tmp/shots-home")  # noqa: S108 (screenshots for a person to look at)
# Each demo login, the workbench heading it lands on, and the sections it must show.
ROLES = {
    "ent_owner": (
        "企业中心",
        [
            "wb-grade",
            "wb-todo",
            "wb-applications",
            "wb-demands",
            "wb-matches",
            "wb-cases",
            "wb-notifications",
        ],
    ),
    "ent_agent": ("企业中心", ["wb-applications", "wb-demands", "wb-cases"]),
    "ib_owner": ("企业中心", ["wb-applications", "wb-demands"]),
    "loan_officer": ("机构工作台", ["wb-queue", "wb-book", "wb-alerts", "wb-hall"]),
    "reviewer": ("机构工作台", ["wb-queue", "wb-book", "wb-alerts"]),
    "bank_admin": ("机构工作台", ["wb-queue", "wb-book", "wb-members", "wb-monthly"]),
    "gov_data": ("政府工作台", ["wb-deliveries", "wb-cases", "wb-conflicts"]),
    "gov_policy": ("政府工作台", ["wb-notifications", "wb-policy"]),
    "gov_fund": ("政府工作台", ["wb-notifications", "wb-funds"]),
    "operator": ("运营驾驶舱", ["wb-attention", "wb-monthly"]),
    "auditor": ("运营驾驶舱", ["wb-attention", "wb-monthly"]),
    "golmud": ("运营驾驶舱", ["wb-attention", "wb-monthly"]),
}
CHARTS = {
    "ent_owner": ["chart-grade-trend"],
    "bank_admin": ["chart-monthly", "chart-prefecture"],
    "operator": ["chart-monthly", "chart-prefecture"],
    "golmud": ["chart-monthly"],
}


def _login(browser: Any, base: str, username: str, width: int) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    # a loaded two-core CI machine serves a workbench (page, charts' data, static) slowly
    context.set_default_timeout(60_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    # a missing resource (but the browser's own favicon request) is an error
    page.on(
        "response",
        lambda r: (
            errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    browser_login(page, base, username, DEMO_PASSWORD)
    return context, page, errors


def _figure(page: Any, selector: str) -> int:
    return int(page.locator(selector).first.inner_text().replace(",", "").strip())


def test_every_role_finds_its_work_on_its_workbench(browser, live_server):
    demo_world(seed_value=SEED)
    base = live_server.url
    SHOTS.mkdir(parents=True, exist_ok=True)
    for username, (heading, sections) in ROLES.items():
        for width in (1366, 390):
            context, page, errors = _login(browser, base, username, width)
            page.wait_for_load_state("load")
            for chart in CHARTS.get(username, []):  # drawn once its data has arrived
                page.locator(f"#{chart} canvas").first.wait_for()
            page.wait_for_load_state("networkidle")
            main = page.locator("main")
            assert heading in page.locator("h1").first.inner_text(), username
            for section in sections:
                assert page.locator(f"#{section}").count() == 1, (username, section)
            for chart in CHARTS.get(username, []):
                assert page.locator(f"#{chart} canvas").count() >= 1, (username, chart)
            found = problems(main.inner_html())
            assert not found, (username, width, found)
            overflow = page.evaluate(
                "() => Math.max(0, document.querySelector('main').scrollWidth - window.innerWidth)"
            )
            assert overflow <= 1, (username, width, overflow)
            page.screenshot(path=str(SHOTS / f"{username}-{width}.png"), full_page=True)
            assert errors == [], (username, width, errors)
            context.close()
    _officer_queue_agrees_with_the_lists(browser, base)


def _officer_queue_agrees_with_the_lists(browser: Any, base: str) -> None:
    """The loan officer's queue figures equal the list chips and rows they link to."""
    context, page, errors = _login(browser, base, "loan_officer", 1366)
    links = page.locator("#wb-queue [data-queue]")
    wanted = []
    for i in range(links.count()):
        link = links.nth(i)
        wanted.append((link.get_attribute("data-queue"), int(link.locator("strong").inner_text())))
    assert sum(n for _s, n in wanted) == _figure(page, '[data-stat="queue"]') > 0
    for status, n in wanted:
        page.goto(f"{base}/")
        with page.expect_navigation():
            page.click(f'#wb-queue [data-queue="{status}"]')
        shown = page.locator("#applications tbody tr[data-number]").count()
        chip = page.locator(f'#status-filter [data-status="{status}"] .badge')
        listed = int(chip.inner_text()) if chip.count() else 0
        assert listed == n and (shown == n or shown == 20), (status, n, listed, shown)
    page.goto(f"{base}/")
    late = _figure(page, '[data-stat="late"]')
    with page.expect_navigation():
        page.click("#wb-queue >> text=本机构超出服务时限的申请")
    assert page.locator("#applications tbody tr[data-number]").count() == min(late, 20)
    assert errors == []
    context.close()
