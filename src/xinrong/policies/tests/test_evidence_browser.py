"""The evidence page in a real Chromium at 1366 and 390 px: charts draw, no script error, plain
Chinese, nothing wider than the phone. Screenshots go to /tmp/shots-evidence/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from xinrong.accounts.tests.support import browser_login
from xinrong.common.tests.plain_words import problems
from xinrong.policies.tests.test_evidence import world  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path("/tmp/shots-evidence")  # noqa: S108 (screenshots for a person to look at)


def _open(browser: Any, base: str, username: str, width: int) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "response",
        lambda r: (
            errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    browser_login(page, base, username)
    page.goto(f"{base}/policies/evidence/")
    page.wait_for_load_state("networkidle")
    return context, page, errors


def test_evidence_page_in_a_browser(browser, live_server, world):  # noqa: F811
    SHOTS.mkdir(parents=True, exist_ok=True)
    for who in ("operator", "publisher"):
        username = world[who].username
        for width in (1366, 390):
            context, page, errors = _open(browser, live_server.url, username, width)
            assert "政策落地成效" in page.locator("h1").first.inner_text()
            for chart in ("chart-funnel", "chart-budget"):
                assert page.locator(f"#{chart} canvas").count() >= 1, (who, chart)
            found = problems(page.locator("main").inner_html())
            assert not found, (who, width, found)
            overflow = page.evaluate(
                "() => Math.max(0, document.querySelector('main').scrollWidth - window.innerWidth)"
            )
            assert overflow <= 1, (who, width, overflow)
            page.screenshot(path=str(SHOTS / f"{who}-{width}.png"), full_page=True)
            assert errors == [], (who, width, errors)
            context.close()
