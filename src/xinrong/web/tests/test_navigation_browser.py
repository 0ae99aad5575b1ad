"""The sidebar and the layout in a real Chromium at 1366, 1024 and 390 px, in Chinese and English.

No menu label wraps, no page is wider than the window, the bell stays in the header on a phone
and the drawer opens there. Screenshots go to /tmp/shots-nav/ (or $XINRONG_SHOTS).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from xinrong.accounts.tests.support import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("XINRONG_SHOTS", "/tmp/shots-nav"))  # noqa: S108 (screenshots only)

# each link's label: one line, and (in Chinese) shown whole
LABELS_JS = """() => Array.from(document.querySelectorAll('#mainnav .xr-nav-label')).map(el => {
  const style = getComputedStyle(el);
  const line = parseFloat(style.lineHeight) || parseFloat(style.fontSize) * 1.5;
  const box = el.getBoundingClientRect();
  return {text: el.textContent.trim(), height: box.height, line: line,
          cut: el.scrollWidth > el.clientWidth + 1, visible: box.width > 0};
})"""


def _pages(kind: str) -> list[str]:
    if kind == "bank":
        names = ["web:home", "marketplace:list", "marketplace:applications", "enterprises:list"]
    else:
        names = ["web:home", "marketplace:list", "credit:authorisations", "credit:query_log"]
    return [reverse(name) for name in names]


def _check_labels(page: Any, lang: str, where: str) -> None:
    labels = [label for label in page.evaluate(LABELS_JS) if label["visible"]]
    assert labels, where
    for label in labels:
        assert label["height"] <= label["line"] * 1.2, (where, label)
        if lang == "zh-hans":
            assert not label["cut"], (where, label)


@pytest.mark.parametrize("width", [1366, 1024, 390])
def test_sidebar_and_layout_fit_every_width(
    browser, live_server, make_user, enterprise_user, width
):
    from xinrong.enterprises.tests.factories import MarketEntityFactory

    MarketEntityFactory.create_batch(3)
    make_user("bank", ["loan_officer"], username="nav_officer")
    SHOTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url
    phone = width < 576
    for username, kind in (("nav_officer", "bank"), ("ent_test", "enterprise")):
        for lang in ("zh-hans", "en"):
            context = browser.new_context(
                viewport={"width": width, "height": 900}, locale="zh-CN", is_mobile=phone
            )
            page = context.new_page()
            try:
                browser_login(page, base, username)
                context.add_cookies([{"name": "django_language", "value": lang, "url": base}])
                for url in _pages(kind):
                    page.goto(base + url)
                    where = f"{username} {width}px {lang} {url}"
                    overflow = page.evaluate(
                        "document.documentElement.scrollWidth - window.innerWidth"
                    )
                    assert overflow <= 0, (where, overflow)
                    header = page.locator("header.xr-navbar")
                    bell = page.locator("#notification-bell")
                    assert bell.is_visible(), where
                    assert page.locator("#user-menu").is_visible(), where
                    box, head = bell.bounding_box(), header.bounding_box()
                    assert box is not None and head is not None
                    assert box["x"] + box["width"] <= width, where
                    user_box = page.locator("#user-menu").bounding_box()
                    assert user_box is not None
                    assert user_box["x"] + user_box["width"] <= width, where
                    if not phone:
                        assert page.locator("#mainnav").is_visible(), where
                        _check_labels(page, lang, where)
                name = f"{kind}-{width}-{lang}"
                page.goto(base + _pages(kind)[2])
                page.screenshot(path=str(SHOTS / f"{name}.png"))
                if phone:
                    # the drawer: closed, then opened from the header's button
                    assert not page.locator("#mainnav .nav-link").first.is_visible()
                    page.click("#menu-toggle")
                    page.locator("#mainnav.show").wait_for(state="visible")
                    page.locator("#mainnav .nav-link.active").wait_for(state="visible")
                    page.wait_for_timeout(400)  # the slide-in transition
                    _check_labels(page, lang, f"{name} drawer")
                    page.screenshot(path=str(SHOTS / f"{name}-drawer.png"))
                    overflow = page.evaluate(
                        "document.documentElement.scrollWidth - window.innerWidth"
                    )
                    assert overflow <= 0, name
            finally:
                context.close()


def test_tables_become_cards_on_a_phone(browser, live_server, bank_officer):
    from xinrong.enterprises.tests.factories import MarketEntityFactory

    MarketEntityFactory.create_batch(3)
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 390, "height": 900}, is_mobile=True)
    page = context.new_page()
    try:
        browser_login(page, live_server.url, bank_officer.username)
        page.goto(live_server.url + reverse("enterprises:list"))
        table = page.locator(".table-responsive > table.table").first
        cell = table.locator("tbody tr").first.locator("td").first
        header = table.locator("thead th").first.inner_text().strip()
        assert cell.get_attribute("data-label") == header
        assert (
            not table.locator("thead").is_visible()
            or table.locator("thead").bounding_box()["height"] <= 1
        )
        row = table.locator("tbody tr").first.bounding_box()
        assert row is not None and row["width"] <= 390
        # a header is read across, not one character per line
        label_height = page.evaluate(
            """(cell) => {
              const before = getComputedStyle(cell, '::before');
              return {content: before.content, display: getComputedStyle(cell).display};
            }""",
            cell.element_handle(),
        )
        assert label_height["display"] == "flex"
        assert header in label_height["content"]
        page.screenshot(path=str(SHOTS / "table-cards-390.png"), full_page=True)
    finally:
        context.close()
