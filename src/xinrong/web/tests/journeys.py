"""What every browser journey checks on each page a person reaches, in one place.

A journey logs in as a demo user at a given width, moves only by the links and buttons the pages
offer (the sidebar, or its drawer on a phone), and on every page it reaches checks what a person
would: every visible word Chinese (the plain-words checks of ``test_plain_words``), nothing wider
than the screen, no script error or failed request; and it saves a screenshot for a person to look
at, under ``var/screenshots/journeys/<role>/`` (kept by CI) and ``/tmp/shots-journeyA/``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

from xinrong.accounts.tests.support import browser_login
from xinrong.common.tests.plain_words import problems
from xinrong.web.seed import DEMO_PASSWORD

TMP_SHOTS = Path("/tmp/shots-journeyA")  # noqa: S108 (screenshots for a person to look at)
LONG_PAGE = 5000  # px: a longer page is shot as the screen a person sees, not as a strip


@dataclass
class Journey:
    """One person's session in the browser, with what went wrong on the way."""

    page: Any
    context: Any
    role: str
    width: int
    base: str
    errors: list[str] = field(default_factory=list)
    step: int = 0

    @property
    def phone(self) -> bool:
        return self.width < 992

    def shot(self, name: str) -> None:
        """Check the page as a person would and save its screenshot."""
        self.step += 1
        self.page.wait_for_load_state("networkidle")
        where = f"{self.role} {self.width}px step {self.step} {name} ({self.page.url})"
        words = problems(self.page.content())
        assert not words, f"{where}: raw or English words {sorted(set(words))}"
        wide = self.page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert wide[0] <= wide[1], f"{where}: page {wide[0]} px wide on a {wide[1]} px screen"
        assert self.errors == [], f"{where}: {self.errors}"
        height = self.page.evaluate("() => document.documentElement.scrollHeight")
        if height <= LONG_PAGE:  # from the top, or the sticky header is drawn mid-page
            self.page.evaluate("() => window.scrollTo(0, 0)")
        filename = f"{self.width}-{self.step:02d}-{name}.png"
        for folder in (
            Path(settings.VAR_DIR) / "screenshots" / "journeys" / self.role,
            TMP_SHOTS / self.role,
        ):
            folder.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(folder / filename), full_page=height <= LONG_PAGE)

    def menu(self, label: str) -> None:
        """Follow a sidebar item (opening the drawer first on a phone)."""
        if self.phone:
            self.page.click("#menu-toggle")
            self.page.locator("#mainnav.show").wait_for()
        link = self.page.locator("#mainnav a", has_text=re.compile(rf"^\s*{label}\s*$")).first
        with self.page.expect_navigation():
            link.click()

    def home(self) -> None:
        """Back to the workbench from the sidebar."""
        self.menu("首页")

    def follow(self, selector: str) -> None:
        """Click a link or button that loads another page."""
        target = self.page.locator(selector).first
        target.scroll_into_view_if_needed()
        with self.page.expect_navigation():
            target.click()

    def figure(self, selector: str) -> int:
        """An integer shown on the page (thousands separators allowed)."""
        text = self.page.locator(selector).first.inner_text()
        return int(re.sub(r"[^\d]", "", text) or "0")

    def close(self) -> None:
        self.context.close()


def login(browser: Any, base: str, role: str, width: int) -> Journey:
    """A fresh browser at ``width`` px, logged in as the demo user ``role``, on its home page."""
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    page = context.new_page()
    journey = Journey(page=page, context=context, role=role, width=width, base=base)
    page.on("pageerror", lambda exc: journey.errors.append(str(exc)))
    page.on(
        "response",
        lambda r: (
            journey.errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    browser_login(page, base, role, DEMO_PASSWORD)
    return journey
