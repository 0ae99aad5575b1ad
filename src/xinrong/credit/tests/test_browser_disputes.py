"""The issue's journey in a real Chromium: portrait, report download, dispute with evidence,
the department corrects it, the enterprise sees the outcome."""

from pathlib import Path

import pytest

from xinrong.accounts.tests.support import browser_login as _login
from xinrong.credit.models import ScoreModel
from xinrong.credit.services.scoring import model_activate, profiles_score
from xinrong.credit.tests.conftest import PDF_BYTES
from xinrong.credit.tests.test_browser import _logout
from xinrong.credit.tests.test_scoring import _card

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_enterprise_disputes_a_fact_and_sees_the_department_correct_it(
    page, live_server, enterprise_user, entity, tax_fact, tax_clerk, tmp_path
):
    base = live_server.url
    evidence = Path(tmp_path) / "完税证明.pdf"
    evidence.write_bytes(PDF_BYTES)

    # 0. the enterprise opens its portrait and downloads its credit report from there
    model = ScoreModel.objects.create(version=1, name="测试评分卡", card=_card().to_json())
    model_activate(model=model, actor=None)
    profiles_score(entity_ids=[entity.pk])
    _login(page, base, enterprise_user.username)
    page.goto(f"{base}/credit/portrait/")
    assert page.locator("#score").inner_text().strip().isdigit()
    assert page.locator("#grade").inner_text().strip()
    with page.expect_download() as download:
        page.click("#report-download")
    report = Path(download.value.path()).read_bytes()
    assert report.startswith(b"%PDF")

    # 1. the enterprise opens its archive and files a correction with an evidence file
    page.goto(f"{base}/credit/archive/{entity.uscc}/")
    row = page.locator(f'tr[data-fact="{tax_fact.pk}"]')
    assert "1,000.00" in row.inner_text()
    with page.expect_navigation():
        row.locator('[data-action="dispute"]').click()
    page.select_option("#id_kind", "correction")
    page.fill("#id_claim", "2024年6月实缴税额应为800元，附完税证明")
    page.fill("#id_value_tax_paid", "800")
    page.set_input_files("#id_evidence", str(evidence))
    with page.expect_navigation():
        page.click("#dispute-submit")
    assert page.locator("#dispute-status").get_attribute("data-status") == "submitted"
    assert "完税证明.pdf" in page.locator("#evidence-list").inner_text()
    due = page.locator("#due-on").inner_text()
    page.goto(f"{base}/credit/archive/{entity.uscc}/")
    assert page.locator(f'tr[data-fact="{tax_fact.pk}"] [data-badge="disputed"]').is_visible()
    _logout(page)

    # 2. the tax department's data provider is notified and corrects the amount
    _login(page, base, tax_clerk.username)
    assert page.locator("#notification-badge").get_attribute("data-count") == "1"
    page.goto(f"{base}/credit/disputes/")
    assert "西宁测试商贸有限公司" in page.locator("#dispute-table").inner_text()
    assert due[:10] in page.locator("#dispute-table").inner_text()
    with page.expect_navigation():
        page.locator("#dispute-table a").first.click()
    assert page.locator("#correct_value_tax_paid").input_value() == "800.00"
    page.fill("#correct_note", "经核对申报表，予以更正")
    with page.expect_navigation():
        page.click("#correct-button")
    assert page.locator("#dispute-status").get_attribute("data-status") == "corrected"
    _logout(page)

    # 3. the enterprise sees the outcome: a notification, the timeline, the corrected archive
    _login(page, base, enterprise_user.username)
    assert page.locator("#notification-badge").get_attribute("data-count") == "1"
    page.click("#notification-bell")
    page.wait_for_url(f"{base}/notifications/")
    inbox = page.locator("#notification-list").inner_text()
    assert "异议已办结：信息已更正" in inbox and "1000.00 → 800.00" in inbox
    with page.expect_navigation():
        page.get_by_role("button", name="查看详情").first.click()
    timeline = page.locator("#timeline").inner_text()
    assert "提交异议" in timeline and "更正信息" in timeline and "经核对申报表" in timeline
    assert page.locator("#notification-badge").count() == 0  # read by opening it
    page.goto(f"{base}/credit/archive/{entity.uscc}/")
    row = page.locator(f'tr[data-fact="{tax_fact.pk}"]')
    assert "800.00" in row.inner_text() and "1,000.00" not in row.inner_text()
    assert row.locator('[data-badge="disputed"]').count() == 0
