"""The supermarket journey in a real Chromium: browse, filter, open a product, compare."""

import pytest

from xinrong.accounts.tests.support import browser_login
from xinrong.marketplace.tests.factories import published_product

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_enterprise_filters_opens_a_product_and_compares_two(
    page, live_server, enterprise_user, bank_officer, operator
):
    published_product(
        bank_officer,
        operator,
        code="PW-1",
        name="青银银税贷",
        tags=["银税贷"],
        tax_grades=["A", "B"],
        rate_min="3.45",
    )
    published_product(
        bank_officer, operator, code="PW-2", name="首贷通", tags=["首贷"], rate_min="3.80"
    )
    published_product(
        bank_officer,
        operator,
        code="PW-3",
        name="拉面贷",
        tags=["拉面贷"],
        rate_min="4.10",
        entity_types=["individual_business"],
    )
    base = live_server.url
    browser_login(page, base, enterprise_user.username)

    page.goto(f"{base}/marketplace/")
    assert page.locator("#products tbody tr[data-code]").count() == 3
    page.select_option("#f-tag", "银税贷")
    with page.expect_navigation():
        page.click("#f-submit")
    assert page.locator("#products tbody tr[data-code]").count() == 1

    with page.expect_navigation():
        page.click('#products tr[data-code="PW-1"] a')
    verdict = page.locator("#eligibility")
    assert verdict.get_attribute("data-eligible") == "false"
    assert page.locator('[data-reason="tax_grade_missing"]').count() == 1
    assert "纳税信用等级" in verdict.inner_text()

    page.goto(f"{base}/marketplace/?sort=rate")
    page.check('#products tr[data-code="PW-1"] input[name="ids"]')
    page.check('#products tr[data-code="PW-2"] input[name="ids"]')
    with page.expect_navigation():
        page.click("#compare-submit")
    headers = page.locator("#compare thead th[data-code]")
    assert [headers.nth(i).get_attribute("data-code") for i in range(headers.count())] == [
        "PW-1",
        "PW-2",
    ]
    assert "3.45%" in page.locator("#compare").inner_text()


def test_enterprise_publishes_a_demand_and_sees_ranked_matches(
    page, live_server, enterprise_user, bank_officer, operator
):
    published_product(bank_officer, operator, code="PD-1", name="普通经营贷", rate_min="5.20")
    published_product(bank_officer, operator, code="PD-2", name="低息首贷", rate_min="3.85")
    published_product(
        bank_officer, operator, code="PD-3", name="抵押大额贷", collateral_modes=["mortgage"]
    )
    base = live_server.url
    browser_login(page, base, enterprise_user.username)

    with page.expect_navigation():
        page.click("text=我的需求")
    with page.expect_navigation():
        page.click("text=发布融资需求")
    page.fill("#id_amount", "500000")
    page.fill("#id_term_months", "24")
    page.select_option("#id_purpose_category", "working_capital")
    page.fill("#id_purpose", "采购原材料")
    page.check('input[name="collateral_modes"][value="none"]')
    page.fill("#id_max_rate", "6")
    page.select_option("#id_urgency", "urgent")
    with page.expect_navigation():
        page.click("#demand-form button.btn-primary")

    matches = page.locator("#matches li[data-code]")
    assert [matches.nth(i).get_attribute("data-code") for i in range(matches.count())] == [
        "PD-2",
        "PD-1",
    ]
    assert "低于您可接受的 6%" in matches.first.inner_text()
    with page.expect_navigation():
        matches.first.locator("a").first.click()
    assert "/marketplace/p/PD-2/" in page.url
