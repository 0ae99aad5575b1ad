"""The financing journey in a real Chromium: demand → matches → apply with consent → the bank
accepts, reviews, approves, signs and disburses → the enterprise follows it on the timeline."""

import datetime as dt

import pytest
from django.utils import timezone

from xinrong.accounts.tests.support import browser_login
from xinrong.marketplace.models import Loan, LoanApplication
from xinrong.marketplace.tests.factories import published_product

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(page, base, user):
    page.context.clear_cookies()
    browser_login(page, base, user.username)


def _act(page, action, fields=None):
    """Open an action's panel on the application page, fill it and submit."""
    page.click(f"#action-{action} summary")
    for name, value in (fields or {}).items():
        page.fill(f"#id_{action}-{name}", value)
    with page.expect_navigation():
        page.click(f"#action-{action} button[name=do]")
    assert page.locator(".alert-success").count() == 1, page.locator("body").inner_text()[:500]


def test_demand_to_disbursed_loan_with_a_visible_timeline(
    page, live_server, enterprise_user, bank_officer, operator, make_user
):
    reviewer = make_user("bank", ["reviewer"], org=bank_officer.organisation)
    published_product(bank_officer, operator, code="JR-1", name="低息首贷", rate_min="3.85")
    base = live_server.url

    # the enterprise publishes a demand and applies to its best match, consenting in the same form
    _login(page, base, enterprise_user)
    page.goto(f"{base}/marketplace/demands/new/")
    page.fill("#id_amount", "500000")
    page.fill("#id_term_months", "24")
    page.select_option("#id_purpose_category", "working_capital")
    page.check('input[name="collateral_modes"][value="none"]')
    page.fill("#id_max_rate", "6")
    page.select_option("#id_urgency", "urgent")
    with page.expect_navigation():
        page.click("#demand-form button.btn-primary")
    assert page.locator('#matches li[data-code="JR-1"]').count() == 1
    with page.expect_navigation():
        page.click('#matches li[data-code="JR-1"] .apply-match')
    assert page.locator("#id_amount").input_value() == "500000.00"
    page.check("#id_consent")
    with page.expect_navigation():
        page.click("#submit-application")
    app = LoanApplication.objects.get()
    assert page.locator("#app-status").get_attribute("data-status") == "submitted"
    assert app.demand_id is not None and app.authorisation.institution_id == app.institution_id

    # the bank's officer accepts and passes it to review; the reviewer approves
    _login(page, base, bank_officer)
    page.goto(f"{base}/marketplace/applications/")
    with page.expect_navigation():
        page.click(f'#applications tr[data-number="{app.number}"] a')
    _act(page, "accept", {"note": "资料齐全"})
    _act(page, "review")
    assert page.locator("#action-approve").count() == 0  # 审贷分离: not the officer's to approve
    _login(page, base, reviewer)
    page.goto(f"{base}/marketplace/applications/{app.pk}/")
    _act(page, "approve", {"amount": "450000", "rate": "4.10", "term_months": "24"})
    assert "450000.00" in page.locator("#approved").inner_text().replace(",", "")

    # the officer records the contract and the disbursement
    _login(page, base, bank_officer)
    page.goto(f"{base}/marketplace/applications/{app.pk}/")
    today = timezone.localdate().isoformat()
    _act(page, "sign", {"contract_no": "HT-2026-001", "signed_on": today})
    _act(page, "disburse", {"amount": "450000", "disbursed_on": today})
    loan = Loan.objects.get()
    assert loan.first_loan and loan.instalments.count() == 24
    assert page.locator("#first-loan").count() == 1

    # the enterprise follows every step on its timeline; the demand is closed
    _login(page, base, enterprise_user)
    page.goto(f"{base}/marketplace/applications/{app.pk}/")
    kinds = page.locator("#timeline li").evaluate_all("els => els.map(e => e.dataset.kind)")
    assert kinds == [
        "submitted",
        "accepted",
        "review_started",
        "approved",
        "contract_signed",
        "disbursed",
    ]
    assert page.locator("#progress [aria-current=step]").inner_text() == "6. 放款"
    assert page.locator("#schedule tbody tr").count() == 24
    first_due = loan.instalments.order_by("seq").first().due_on
    assert first_due > timezone.localdate() and first_due - timezone.localdate() < dt.timedelta(32)
    page.goto(f"{base}/marketplace/demands/{app.demand_id}/")
    assert page.locator("#demand-status").inner_text() == "已关闭"
