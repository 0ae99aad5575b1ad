"""The credit report journey in a real Chromium: download from the archive, verify publicly."""

from pathlib import Path

import pytest

from xinrong.accounts.tests.support import browser_login
from xinrong.credit.models import CreditReport
from xinrong.credit.tests.reporting import deliver_facts, give_score

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_enterprise_downloads_its_report_and_verifies_it(
    page, live_server, enterprise_user, make_user, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    base = live_server.url
    entity = enterprise_user.organisation.market_entity
    deliver_facts(entity, make_user)
    give_score(entity)

    # 1. the enterprise downloads its report from the archive page
    browser_login(page, base, enterprise_user.username)
    page.goto(f"{base}/credit/archive/{entity.uscc}/")
    with page.expect_download() as dl:
        page.click("#report-download")
    download = dl.value
    saved = Path(tmp_path) / "report.pdf"
    download.save_as(saved)
    data = saved.read_bytes()
    assert data.startswith(b"%PDF")
    report = CreditReport.objects.get()
    assert download.suggested_filename == f"企业信用报告-{entity.name}-{report.number}.pdf"
    assert len(data) == report.size

    # 2. anyone opens /verify/<number> and checks the file
    page.click("#user-menu")
    with page.expect_navigation():
        page.click("#logout-button")
    page.goto(f"{base}/verify/{report.number}")
    record = page.locator("#verify-record").inner_text()
    assert entity.name in record and report.number in record
    assert page.locator("#verify-digest").inner_text().strip() == report.sm3
    page.set_input_files("#id_document", str(saved))
    with page.expect_navigation():
        page.click("#verify-button")
    assert "真实有效" in page.locator("#verify-ok").inner_text()

    # 3. a modified copy fails
    tampered = Path(tmp_path) / "tampered.pdf"
    tampered.write_bytes(data.replace(b"/Producer", b"/Pr0ducer", 1))
    page.set_input_files("#id_document", str(tampered))
    with page.expect_navigation():
        page.click("#verify-button")
    assert "核验未通过" in page.locator("#verify-failed").inner_text()
