"""Two-factor login in Chromium, 1366 and 390 px: enrol, a code, a recovery code, a wrong code."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import PASSWORD
from xinrong.accounts.services import twofactor
from xinrong.accounts.tests.support import browser_login, totp_code_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(os.environ.get("XINRONG_SHOTS", "var/screens/twofactor"))
SIZES = ((1366, 900), (390, 844))


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _password(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("#login-button")


@pytest.mark.parametrize("size", SIZES, ids=["desktop", "phone"])
def test_enrol_then_code_recovery_code_and_wrong_code(browser, live_server, make_user, size):
    width, height = size
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    base = live_server.url
    admin = make_user("bank", ["institution_admin"], username=f"bankadmin{width}")

    # enrolment before any other page: QR code, secret, confirm with a code
    _password(page, base, admin.username)
    assert "/accounts/two-factor/enrol/" in page.url
    assert page.locator("#totp-qr svg").is_visible()
    secret = page.locator("#totp-secret").inner_text()
    device = TOTPDevice.objects.get(user=admin, confirmed=False)
    assert secret.replace(" ", "") == twofactor.totp_secret_text(device).replace(" ", "")
    _shot(page, f"enrol-{width}")
    page.fill("#id_code", twofactor.totp_current_code(device))
    with page.expect_navigation():
        page.click("#totp-confirm-button")
    codes = [c.strip() for c in page.locator("#recovery-codes li").all_inner_texts()]
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z2-7]{8}", c) for c in codes)
    _shot(page, f"recovery-codes-{width}")
    with page.expect_download() as download:
        page.click("#recovery-download")
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert all(c in text for c in codes)
    with page.expect_navigation():
        page.click("#recovery-done")
    assert "/accounts/two-factor/" not in page.url

    # log in again with a code (browser_login types it)
    context.clear_cookies()
    browser_login(page, base, admin.username)
    assert page.locator("#user-menu").is_visible() or page.locator("#mainnav").count()
    assert "/accounts/" not in page.url

    # a wrong code is refused with a Chinese message, then a recovery code works
    context.clear_cookies()
    _password(page, base, admin.username)
    assert "/accounts/two-factor/verify/" in page.url
    _shot(page, f"verify-{width}")
    page.fill("#id_code", "000000" if totp_code_for(admin.username) != "000000" else "111111")
    with page.expect_navigation():
        page.click("#second-factor-button")
    error = page.locator(".invalid-feedback, .alert-danger").first.inner_text()
    assert "验证码不正确" in error
    _shot(page, f"verify-wrong-{width}")
    page.fill("#id_code", codes[0])
    with page.expect_navigation():
        page.click("#second-factor-button")
    assert "/accounts/two-factor/verify/" not in page.url
    assert "还剩 9 个" in page.content()
    _shot(page, f"after-recovery-code-{width}")

    # the account security page
    page.goto(f"{base}/accounts/two-factor/")
    assert "已开启" in page.locator("#second-factor-status").inner_text()
    _shot(page, f"security-{width}")
    assert errors == []
    context.close()
