"""What the browser journeys share: one seeded demo world and live server per module, a logged-in
Chromium page per role and width, and the checks a person makes on every page they reach.

A journey module declares ``demo_site = demo_site_fixture()``; each test then asks for
``demo_site`` (the server's address) and opens pages with :class:`Visit`. Every page a journey
reaches goes through :meth:`Visit.look`: its visible words are Chinese (``problems`` of the shared
plain-words checker: no English word, raw choice value, True/False or interval notation), nothing is
wider than the window, no script failed, and a screenshot is saved under
``settings.VAR_DIR/screenshots/journeys/<role>/`` and ``/tmp/shots-journeyB/<role>/`` for a
person to look at.

Set ``XINRONG_JOURNEY_BASE`` to an already running demo server (``xinrong serve``) to try the
journeys against it without seeding (the journeys pick whatever is waiting, so they may be rerun).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from xinrong.accounts.tests.support import browser_login
from xinrong.common.tests.plain_words import problems
from xinrong.web.seed import DEMO_PASSWORD

SEED = 20221  # the demo seed value, as ``xinrong seed --scale demo`` uses
EXTRA_SHOTS = Path("/tmp/shots-journeyB")  # noqa: S108 (screenshots for a person to look at)
PHONE = 390
DESKTOP = 1366
WIDTHS = (DESKTOP, PHONE)


def demo_site_fixture() -> Any:
    """Return a module-scoped fixture: the demo world seeded once, served live; its address."""

    @pytest.fixture(scope="module")
    def demo_site(django_db_setup: Any, django_db_blocker: Any) -> Iterator[str]:
        external = os.environ.get("XINRONG_JOURNEY_BASE")
        if external:
            yield external.rstrip("/")
            return
        from django.core.management import call_command
        from pytest_django.live_server_helper import LiveServer

        from xinrong.web.tests.seeded import demo_world

        with django_db_blocker.unblock():
            demo_world(seed_value=SEED)
            server = LiveServer("localhost")
            server._live_server_modified_settings.enable()
            try:
                yield server.url
            finally:
                server._live_server_modified_settings.disable()
                server.stop()
                call_command("flush", "--noinput")

    return demo_site


def figure(text: str) -> int:
    """Return the whole number a figure shows ("1,234" reads 1234)."""
    found = re.search(r"-?\d[\d,]*", text)
    assert found, f"no figure in {text!r}"
    return int(found.group(0).replace(",", ""))


@dataclass
class Visit:
    """One person in one browser window: logs in, moves through pages, looks at each."""

    browser: Any
    base: str
    username: str
    width: int
    role: str = ""
    page: Any = None
    errors: list[str] = field(default_factory=list)
    shots: list[Path] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.role = self.role or self.username
        context = self.browser.new_context(
            viewport={"width": self.width, "height": 900}, locale="zh-CN", accept_downloads=True
        )
        self.page = context.new_page()
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on(
            "response",
            lambda r: (
                self.errors.append(f"{r.status} {r.url}")
                if r.status >= 500 or (r.status >= 400 and "/static/" in r.url)
                else None
            ),
        )
        browser_login(self.page, self.base, self.username, DEMO_PASSWORD)

    @property
    def phone(self) -> bool:
        return self.width < 992

    def close(self) -> None:
        self.page.context.close()

    # -- moving -----------------------------------------------------------------------------

    def click(self, selector: str) -> None:
        """Follow a link or press a button that loads the next page."""
        with self.page.expect_navigation():
            self.page.locator(selector).first.click()

    def home(self) -> None:
        """Back to the home page by the brand link, as a person does."""
        self.click("header a.navbar-brand")

    def menu(self, label: str) -> None:
        """Open a menu item: the sidebar on a desktop, the drawer (☰) on a phone."""
        if self.phone:
            self.page.click("#menu-toggle")
            self.page.locator("#mainnav.show").wait_for()
        link = self.page.locator(f"#mainnav a.nav-link:has-text('{label}')").first
        if not link.is_visible():  # its group is folded
            group = link.locator("xpath=ancestor::div[contains(@class,'xr-nav-group')]")
            group.locator(".xr-nav-group-toggle").click()
        with self.page.expect_navigation():
            link.click()

    # -- looking ----------------------------------------------------------------------------

    def look(self, name: str) -> str:
        """Check the page as a person would and keep a screenshot; return the main text."""
        page = self.page
        page.wait_for_load_state("networkidle")
        words = problems(page.content())
        assert not words, f"{self.role} {self.width}px {name} {page.url}: {sorted(set(words))}"
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{self.role} {self.width}px {name}: {overflow}px wider"
        clipped = page.evaluate(
            "() => [...document.querySelectorAll('main .badge')]"
            ".filter(b => b.offsetParent && b.scrollWidth > b.clientWidth + 1)"
            ".map(b => b.textContent.trim())"
        )
        assert not clipped, f"{self.role} {self.width}px {name}: badges cut off {clipped}"
        assert not self.errors, f"{self.role} {self.width}px {name}: {self.errors}"
        filename = f"{self.width}-{len(self.shots) // 2 + 1:02d}-{name}.png"
        for folder in (Path(settings.VAR_DIR) / "screenshots" / "journeys", EXTRA_SHOTS):
            target = folder / self.role / filename
            target.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(target), full_page=True)
            self.shots.append(target)
        return str(page.locator("main").inner_text())

    def text(self, selector: str) -> str:
        return str(self.page.locator(selector).first.inner_text())

    def one_line(self, selector: str) -> bool:
        """Whether the element's text sits on one line (a code that wraps reads as two)."""
        return bool(
            self.page.locator(selector).first.evaluate("el => el.getClientRects().length === 1")
        )


class Person:
    """One demo user in their own browser window; ``look`` checks a page at 1366 and 390 px and
    keeps screenshots under ``/tmp/journey-<issue>/`` and the var directory."""

    def __init__(self, browser: Any, base: str, username: str, *, issue: str) -> None:
        self.username = username
        self.issue = issue
        self.base = base
        self.errors: list[str] = []
        self.context = browser.new_context(
            viewport={"width": 1366, "height": 900}, locale="zh-CN", accept_downloads=True
        )
        self.page = self.context.new_page()
        self.page.set_default_timeout(10_000)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on(
            "response",
            lambda r: (
                self.errors.append(f"{r.status} {r.url}")
                if r.status >= 400 and not r.url.endswith("/favicon.ico")
                else None
            ),
        )
        browser_login(self.page, base, username, DEMO_PASSWORD)

    def click(self, selector: str) -> None:
        """Follow a link or press a button that loads the next page."""
        target = self.page.locator(selector).first
        target.scroll_into_view_if_needed()
        with self.page.expect_navigation():
            target.click()

    def menu(self, label: str) -> None:
        """Follow a sidebar item by its words (unfolding its group if folded)."""
        link = self.page.locator("#mainnav a.nav-link", has_text=re.compile(rf"^\s*{label}\s*$"))
        link = link.first
        if not link.is_visible():
            group = link.locator("xpath=ancestor::div[contains(@class,'xr-nav-group')]")
            group.locator(".xr-nav-group-toggle").first.click()
        with self.page.expect_navigation():
            link.click()

    def look(self, step: str) -> str:
        """Check the page as its user would, at 1366 and 390 px; return the main text."""
        page = self.page
        page.wait_for_load_state("networkidle")
        where = f"{self.username} {step} ({page.url})"
        words = problems(page.content())
        assert not words, f"{where}: raw or English words {sorted(set(words))}"
        assert not self.errors, f"{where}: {self.errors}"
        for width, height in ((DESKTOP, 900), (PHONE, 844)):
            page.set_viewport_size({"width": width, "height": height})
            wide = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
            assert wide[0] <= wide[1], f"{where}: {wide[0]} px wide on a {wide[1]} px screen"
            name = f"{self.username}-{step}-{width}.png"
            folders = (
                Path("/tmp") / f"journey-{self.issue}",  # noqa: S108 (for a person to look at)
                Path(settings.VAR_DIR) / "screenshots" / "journeys" / self.issue,
            )
            for folder in folders:
                folder.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(folder / name), full_page=True)
        page.set_viewport_size({"width": 1366, "height": 900})
        return str(page.locator("main").inner_text())

    def close(self) -> None:
        self.context.close()
