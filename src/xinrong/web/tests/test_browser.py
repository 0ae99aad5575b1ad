"""User journeys in a real Chromium (Debian's /usr/bin/chromium) driven by Playwright."""

import pytest

from conftest import PASSWORD
from xinrong.accounts.tests.support import browser_login
from xinrong.enterprises.tests.factories import MarketEntityFactory, valid_id_number, valid_uscc

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROLES = [
    # (fixture, organisation kind, roles, heading)
    ("operator", "operator", ["operator_admin"], "运营驾驶舱"),
    ("auditor", "operator", ["auditor"], "运营驾驶舱"),
    ("golmud", "substation", ["operator_admin"], "运营驾驶舱"),
    ("bank_admin", "bank", ["institution_admin"], "机构工作台"),
    ("loan_officer", "bank", ["loan_officer"], "机构工作台"),
    ("reviewer", "bank", ["reviewer"], "机构工作台"),
    ("guarantor", "guarantor", ["institution_admin"], "机构工作台"),
    ("gov_data", "government", ["data_provider"], "政府工作台"),
    ("gov_policy", "government", ["policy_publisher"], "政府工作台"),
    ("gov_fund", "government", ["fund_approver"], "政府工作台"),
]


def _submit_registration(page, uscc, name, *, seed):
    """Fill the rest of the registration form (region already chosen) and submit it."""
    page.fill("#id_uscc", uscc)
    page.fill("#id_name", name)
    page.select_option("#id_industry_code", "F52")
    page.fill("#id_legal_rep_name", "马明")
    page.fill("#id_legal_rep_id_number", valid_id_number(seed=seed))
    page.fill("#id_phone", "13800002222")
    page.fill("#id_username", f"owner{seed}")
    page.fill("#id_password", PASSWORD)
    page.fill("#id_password_again", PASSWORD)
    page.check("#id_agree")
    with page.expect_navigation():
        page.click("#register-button")


@pytest.mark.parametrize(("username", "kind", "roles", "heading"), ROLES)
def test_each_role_logs_in_and_sees_its_chinese_dashboard(
    page, live_server, make_user, username, kind, roles, heading
):
    MarketEntityFactory(division_code="632801")
    MarketEntityFactory(division_code="630102", entity_type="individual_business")
    region = "632801" if kind == "substation" else ""
    make_user(kind, roles, username=username, region_code=region)
    browser_login(page, live_server.url, username)
    assert page.locator("h1").first.inner_text().startswith(heading)
    assert page.evaluate("document.documentElement.lang") == "zh-hans"
    if kind != "enterprise":
        expected = "1" if kind == "substation" else "2"
        assert page.locator('[data-stat="total"]').inner_text().strip() == expected


def test_enterprise_owner_registers_and_sees_enterprise_centre(page, live_server, db):
    page.goto(f"{live_server.url}/enterprises/register/")
    # cascading picker: province → prefecture → county
    picker = page.locator("[data-region-picker] select")
    picker.nth(0).select_option("630000")
    page.locator("[data-region-picker] select").nth(1).wait_for()
    picker.nth(1).select_option("630100")
    page.locator("[data-region-picker] select").nth(2).wait_for()
    picker.nth(2).select_option("630102")
    _submit_registration(page, valid_uscc(seed=41), "西宁浏览器测试有限公司", seed=41)
    assert page.locator("h1").first.inner_text() == "企业中心"
    assert "西宁浏览器测试有限公司" in page.content()


def test_registration_error_is_shown_in_chinese_next_to_the_field(page, live_server, db):
    page.goto(f"{live_server.url}/enterprises/register/")
    page.evaluate("document.getElementById('id_division_code').value = '630102'")
    code = valid_uscc(seed=42)
    bad = code[:-1] + ("0" if code[-1] != "0" else "1")
    _submit_registration(page, bad, "错误代码公司", seed=42)
    feedback = page.locator(".invalid-feedback").first.inner_text()
    assert "校验位错误" in feedback


def test_registry_search_with_region_picker_and_language_switch(page, live_server, make_user):
    MarketEntityFactory(name="格尔木枸杞有限公司", division_code="632801")
    MarketEntityFactory(name="城东拉面有限公司", division_code="630102")
    make_user("operator", ["operator_admin"], username="op2")
    browser_login(page, live_server.url, "op2")
    page.goto(f"{live_server.url}/enterprises/")
    picker = page.locator("[data-region-picker] select")
    picker.nth(0).select_option("630000")
    page.locator("[data-region-picker] select").nth(1).wait_for()
    picker.nth(1).select_option("632800")
    with page.expect_navigation():
        page.click("#search-form button[type=submit]")
    table = page.locator("#entity-table").inner_text()
    assert "格尔木枸杞有限公司" in table
    assert "城东拉面有限公司" not in table
    with page.expect_navigation():
        page.select_option("#language-form select", "en")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.documentElement.lang") == "en"


@pytest.mark.parametrize("role", ["enterprise_owner", "enterprise_agent"])
def test_enterprise_roles_log_in_and_see_their_own_archive(
    page, live_server, enterprise_user, role
):
    from xinrong.accounts.services.users import user_create

    username = enterprise_user.username
    if role == "enterprise_agent":
        username = "ent_agent_browser"
        user_create(
            username=username,
            password=PASSWORD,
            organisation=enterprise_user.organisation,
            roles=[role],
        )
    browser_login(page, live_server.url, username)
    assert page.locator("h1").first.inner_text() == "企业中心"
    with page.expect_navigation():
        page.click("text=查看登记档案")
    assert "西宁测试商贸有限公司" in page.locator("h1").first.inner_text()
    # the legal representative's name and ID number are masked on the page
    import re

    from xinrong.enterprises.tests.factories import valid_id_number as id_for

    text = page.locator("dd", has_text="马").first.inner_text()
    assert re.search(r"马\*.*\d{3}\*{11}\d{3}[\dX]", text)
    assert id_for(seed=1) not in page.content()


def test_dashboard_fits_a_phone_screen(browser, live_server, make_user):
    make_user("bank", ["loan_officer"], username="mobile_officer")
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    try:
        browser_login(page, live_server.url, "mobile_officer")
        assert page.locator(".navbar-toggler").is_visible()
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0
        page.click(".navbar-toggler")
        page.locator("#mainnav a", has_text="市场主体库").wait_for(state="visible")
    finally:
        context.close()
