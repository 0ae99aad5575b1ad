"""Shared test support: log a real browser in through the login page.

Every browser test logs in through here, so a change to the login flow (a second factor, a
sign-on button) changes one function, not every test.
"""

from __future__ import annotations

import time
from typing import Any

from conftest import PASSWORD


def totp_code_for(username: str) -> str:
    """A code the user's authenticator would show now and the server has not yet accepted.

    django-otp refuses a code used before (replay); a second login within the same 30 seconds
    takes the next step's code (accepted within the device's tolerance), or waits for it.
    """
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from xinrong.accounts.services.twofactor import totp_unused_code

    device = TOTPDevice.objects.get(user__username=username, confirmed=True)
    while not (code := totp_unused_code(device)):
        time.sleep(1)
        device.refresh_from_db()
    return code


def second_factor_ready(username: str) -> None:
    """Give a user who must use two-factor login an authenticator, if it has none yet.

    A test shortcut like the seed's pre-enrolment: enrolment itself is tested in
    accounts/tests/test_twofactor*.py; other tests log in with a code.
    """
    from xinrong.accounts import permissions
    from xinrong.accounts.models import User
    from xinrong.accounts.services import twofactor

    user = User.objects.filter(username=username).select_related("organisation").first()
    if (
        user is not None
        and twofactor.totp_device_confirmed(user) is None
        and permissions.needs_second_factor(user)
    ):
        twofactor.totp_device_demo_enrol(user=user)


def browser_second_step(page: Any, username: str) -> None:
    """On the second step of a login, type the user's current code and wait for the next page."""
    if "/accounts/two-factor/verify/" in page.url:
        from django_otp.plugins.otp_totp.models import TOTPDevice

        try:
            code = totp_code_for(username)
        except TOTPDevice.DoesNotExist:  # a demo site elsewhere (XINRONG_JOURNEY_BASE)
            code = page.locator("#demo-code strong").inner_text().strip()
        page.fill("#id_code", code)
        with page.expect_navigation():
            page.click("#second-factor-button")


def browser_login(page: Any, base: str, username: str, password: str = PASSWORD) -> None:
    """Log ``page`` in as ``username`` through the login form and wait for the next page.

    A user who must use two-factor login gets an authenticator first if it has none (see
    ``second_factor_ready``); when the second step appears, its current code is typed.
    """
    second_factor_ready(username)
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("#login-button")
    browser_second_step(page, username)
