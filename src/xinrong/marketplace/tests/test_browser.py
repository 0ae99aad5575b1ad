"""The supermarket journey in a real Chromium: browse, filter, open a product, compare."""

import pytest

from conftest import PASSWORD
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
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", enterprise_user.username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("#login-button")

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
