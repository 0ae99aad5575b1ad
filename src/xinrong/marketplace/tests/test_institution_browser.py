"""Non-bank institutions in a real Chromium, desktop and phone (issue 12): the enterprise asks a
guarantor to back its loan application, the guarantor approves with its fee and issues the letter,
the bank sees it on the application; an investor browses the reserve and expresses interest."""

from decimal import Decimal

import pytest

from xinrong.accounts.tests.support import browser_login
from xinrong.marketplace.models import GuaranteeRequest, InvestorInterest
from xinrong.marketplace.services import applications as application_services
from xinrong.marketplace.services import capital_market as capital_market_services
from xinrong.marketplace.tests.factories import published_product

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = ((1366, 900), (390, 844))


def _login(page, base, user):
    page.context.clear_cookies()
    browser_login(page, base, user.username)


@pytest.mark.parametrize("size", SIZES, ids=["desktop", "phone"])
def test_guarantee_request_from_application_to_letter(
    page, live_server, size, enterprise_user, bank_officer, operator, make_user
):
    page.set_viewport_size({"width": size[0], "height": size[1]})
    base = live_server.url
    guarantor = make_user("guarantor", ["loan_officer"])
    published_product(
        guarantor,
        operator,
        code="BR-G",
        name="信用担保",
        product_type="guarantee",
        rate_min="0.5",
        rate_max="1.5",
        collateral_modes=["guarantee_company"],
    )
    app = application_services.application_submit(
        actor=enterprise_user,
        entity=enterprise_user.organisation.market_entity,
        product=published_product(bank_officer, operator, code="BR-L"),
        data={"amount": "500000", "term_months": 12},
    )
    # the enterprise attaches a guarantee request on its application page
    _login(page, base, enterprise_user)
    page.goto(f"{base}/marketplace/applications/{app.pk}/")
    page.select_option("#id_guarantee-product", label="信用担保 · " + guarantor.organisation.name)
    with page.expect_navigation():
        page.click("#guarantee-submit")
    assert page.locator("#guarantees li[data-status=pending]").count() == 1
    # the guarantor finds it in its queue, tries a wrong fee, then approves and issues
    _login(page, base, guarantor)
    page.goto(f"{base}/marketplace/guarantees/")
    link = "#guarantees tbody a.btn" if size[0] > 700 else "#guarantee-cards a"
    with page.expect_navigation():
        page.locator(link).first.click()
    page.fill("#id_approve-fee_rate", "abc")
    with page.expect_navigation():
        page.click("#action-approve button[name=do]")
    assert page.locator("#action-approve .invalid-feedback, #action-approve .alert").count() >= 1
    page.fill("#id_approve-fee_rate", "1.2")
    page.fill("#id_approve-fee_amount", "")
    with page.expect_navigation():
        page.click("#action-approve button[name=do]")
    assert page.locator("#guarantee-fee").count() == 1
    page.fill("#id_issue-letter_no", "BH-2026-001")
    with page.expect_navigation():
        page.click("#action-issue button[name=do]")
    request = GuaranteeRequest.objects.get()
    assert request.status == "issued" and request.fee_amount == Decimal("6000.00")
    # the lender sees the issued letter on the application
    _login(page, base, bank_officer)
    page.goto(f"{base}/marketplace/applications/{app.pk}/")
    assert page.locator("#guarantees li[data-status=issued]").count() == 1


@pytest.mark.parametrize("size", SIZES, ids=["desktop", "phone"])
def test_investor_browses_the_reserve_and_expresses_interest(
    page, live_server, size, enterprise_user, operator, make_user
):
    page.set_viewport_size({"width": size[0], "height": size[1]})
    base = live_server.url
    investor = make_user("investor", ["loan_officer"])
    entry = capital_market_services.reserve_add(
        actor=operator, entity=enterprise_user.organisation.market_entity, criteria={}
    )
    _login(page, base, investor)
    page.goto(f"{base}/marketplace/capital-market/")
    link = "#reserve tbody a" if size[0] > 700 else "#reserve-cards a"
    with page.expect_navigation():
        page.locator(link).first.click()
    page.fill("#interest-form textarea, #interest-form input[name=note]", "拟参与A轮融资")
    with page.expect_navigation():
        page.click("#interest-form button")
    assert page.locator("#interest-pending").count() == 1
    assert InvestorInterest.objects.get().candidate == entry
