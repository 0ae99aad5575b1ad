"""Shared test support: log a real browser in through the login page.

Every browser test logs in through here, so a change to the login flow (a second factor, a
sign-on button) changes one function, not every test.
"""

from __future__ import annotations

from typing import Any

from conftest import PASSWORD


def browser_login(page: Any, base: str, username: str, password: str = PASSWORD) -> None:
    """Log ``page`` in as ``username`` through the login form and wait for the next page."""
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("#login-button")
