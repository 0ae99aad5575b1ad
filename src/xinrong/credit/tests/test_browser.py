"""The information-aggregation journey in a real Chromium: deliver, archive, authorise, log."""

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import load_workbook

from xinrong.accounts.tests.support import browser_login
from xinrong.datahub.services.sources import source_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _logout(page):
    page.click("#user-menu")
    with page.expect_navigation():
        page.click("#logout-button")


def test_tax_data_reaches_the_archive_only_under_authorisation(
    page, live_server, make_user, enterprise_user, tmp_path
):
    base = live_server.url
    entity = enterprise_user.organisation.market_entity
    tax_clerk = make_user("government", ["data_provider"], username="tax_clerk")
    source_create(
        code="tax",
        name="国家税务总局青海省税务局",
        organisation=tax_clerk.organisation,
        categories=["tax"],
    )
    officer = make_user("bank", ["loan_officer"], username="officer")

    # 1. the tax clerk downloads the template, fills it with one good and one bad row
    browser_login(page, base, "tax_clerk")
    page.goto(f"{base}/datahub/")
    with page.expect_download() as dl:
        page.click('[data-template="tax"]')
    template = Path(tmp_path) / "template.xlsx"
    dl.value.save_as(template)
    wb = load_workbook(template)
    ws = wb.worksheets[0]
    ws.delete_rows(2)
    ws.append([entity.uscc, "", "", "2024-06", 8800, "A", 0, "", "", 9])
    ws.append([entity.uscc, "", "", "2024-6月", -1, "Z", 0, "", "", 9])
    wb.save(template)
    page.select_option("#id_source", label="国家税务总局青海省税务局")
    page.select_option("#id_category", "tax")
    page.set_input_files("#id_file", str(template))
    with page.expect_navigation():
        page.click("#upload-button")
    assert page.locator('[data-stat="accepted"]').inner_text() == "1"
    assert page.locator('[data-stat="rejected"]').inner_text() == "1"
    with page.expect_download() as dl:
        page.click("#errors-download")
    errors = Path(tmp_path) / "errors.xlsx"
    dl.value.save_as(errors)
    rows = list(load_workbook(errors).worksheets[0].iter_rows(values_only=True))
    problems = rows[1][rows[0].index("错误说明")]
    assert "实缴税额（元）：" in problems and "纳税信用等级：" in problems
    _logout(page)

    # 2. the enterprise sees the new fact in its own archive
    browser_login(page, base, enterprise_user.username)
    page.goto(f"{base}/credit/archive/{entity.uscc}/")
    assert "8,800.00" in page.locator('[data-category="tax"]').inner_text()
    _logout(page)

    # 3. a bank officer without authorisation sees no tax data
    browser_login(page, base, "officer")
    page.goto(f"{base}/credit/archive/{entity.uscc}/")
    assert page.locator("#no-auth-banner").is_visible()
    assert page.locator('[data-category="tax"]').count() == 0
    _logout(page)

    # 4. the enterprise authorises the bank
    browser_login(page, base, enterprise_user.username)
    page.goto(f"{base}/credit/authorisations/")
    page.select_option("#id_institution", label=officer.organisation.name)
    page.select_option("#id_scope", "full")
    page.select_option("#id_purpose", "loan_application")
    page.fill("#id_expires_on", (dt.date.today() + dt.timedelta(days=30)).isoformat())
    with page.expect_navigation():
        page.click("#grant-button")
    assert "有效" in page.locator("#auth-table").inner_text()
    _logout(page)

    # 5. now the officer sees it, and the read lands in the enterprise's query log
    browser_login(page, base, "officer")
    page.goto(f"{base}/credit/archive/{entity.uscc}/")
    assert page.locator("#auth-banner").is_visible()
    assert "8,800.00" in page.locator('[data-category="tax"]').inner_text()
    _logout(page)
    browser_login(page, base, enterprise_user.username)
    page.goto(f"{base}/credit/query-log/")
    log = page.locator("#query-log").inner_text()
    assert "贷款审批" in log and "纳税" in log


def test_enterprise_sees_its_relationship_graph_with_its_guarantee_circle(
    page, live_server, enterprise_user
):
    from decimal import Decimal

    from xinrong.enterprises.services import relationship_add
    from xinrong.enterprises.tests.factories import MarketEntityFactory

    base = live_server.url
    entity = enterprise_user.organisation.market_entity
    partner = MarketEntityFactory(name="互保伙伴有限公司")
    third = MarketEntityFactory(name="循环担保第三方有限公司")
    for guarantor, debtor in ((entity, partner), (partner, third), (third, entity)):
        relationship_add(
            entity=debtor,
            kind="guarantor",
            holder_entity=guarantor,
            guaranteed_amount=Decimal("1000000"),
        )
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    browser_login(page, base, enterprise_user.username)
    page.goto(f"{base}/")
    with page.expect_navigation():
        page.click("#home-graph-link")
    assert page.url.endswith(f"/credit/graph/{entity.uscc}/")
    page.wait_for_selector("#graph-chart canvas")
    page.wait_for_selector("#circle-list li")
    circle = page.locator("#circle-list li").first.inner_text()
    assert "互保伙伴有限公司" in circle and "循环担保第三方有限公司" in circle
    assert page.locator("#circle-count").inner_text() == "1"
    assert "处于担保圈" in page.locator("#risk-list").inner_text()
    assert page.locator("#own-banner").is_visible()
    # fewer hops: the page reloads its data and says how many nodes it shows
    page.click("label[for=hops-1]")
    # a selector wait, not wait_for_function: the page's CSP forbids the eval that polling uses
    page.wait_for_selector("#graph-chart[data-loaded='1']", state="attached")
    assert "节点" in page.locator("#graph-summary").inner_text()
    assert "hops=1" in page.url
    assert errors == []
