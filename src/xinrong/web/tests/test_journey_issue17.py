"""Issue 17 as its users meet it, in a real Chromium at 1366 and 390 px, on the demo world.

- Someone tries the department clerk's login (``gov_data``) with a wrong password.
- The platform's auditor (``auditor``) logs in with the second factor (password, then the
  six-digit code), finds today's audit card on the home page, follows 登录失败 to the very entry
  (the name, the source address, Beijing time), exports the filtered list to Excel (read back with
  openpyxl: the same rows), and then finds the export itself in the trail.
- The operator opens 两步验证 from the user menu and sees its authenticator on.
- Afterwards the whole chain still verifies (``audit_chain_verify``).

Screenshots are kept under ``var/screenshots/journeys/issue17/`` and ``/tmp/journey-issue17/``.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import load_workbook

from xinrong.audit.services import audit_chain_verify
from xinrong.web.tests.journey_support import Person, demo_site_fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

demo_site = demo_site_fixture()

ISSUE = "issue17"


def _wrong_password(browser: Any, base: str, username: str) -> None:
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "not-the-password-1")
    with page.expect_navigation():
        page.click("#login-button")
    assert "用户名或密码不正确" in page.locator("main").inner_text()
    context.close()


def test_issue17_the_auditor_follows_a_failed_login_and_exports_the_trail(
    browser: Any, demo_site: str
):
    base = demo_site
    _wrong_password(browser, base, "gov_data")
    auditor = Person(browser, base, "auditor", issue=ISSUE)  # password, then the code
    operator = Person(browser, base, "operator", issue=ISSUE)
    try:
        home = auditor.look("01-home")
        assert "审计日志 · 今日" in home
        failures = int(auditor.page.locator("[data-stat=audit-login-failures]").inner_text())
        assert failures >= 1

        auditor.click("[data-stat=audit-login-failures]")
        listed = auditor.look("02-failed-logins")
        rows = auditor.page.locator("main table tbody tr")
        assert rows.count() == failures  # the card's figure is the list's
        first = rows.first.inner_text()
        assert "登录失败" in first and "gov_data" in first and "127.0.0.1" in first
        assert f"共 {failures} 条" in listed

        with auditor.page.expect_download() as download:
            auditor.page.locator("a:has-text('导出 Excel')").first.click()
        sheet = load_workbook(io.BytesIO(download.value.path().read_bytes())).active
        values = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
        exported = [r for r in values[1:] if r and r[0] is not None]
        assert len(exported) == failures
        assert any("gov_data" in str(cell) for cell in exported[0])

        auditor.page.goto(f"{base}/audit/?category=export")
        exports = auditor.look("03-exports")
        assert "auditor" in exports and "下载文件" in exports  # the export is itself audited

        operator.page.locator("#user-menu").click()
        operator.click("a[href='/accounts/two-factor/']")
        security = operator.look("01-two-factor")
        assert "已开启" in security
    finally:
        auditor.close()
        operator.close()
    result = audit_chain_verify()
    assert result.ok, result
