"""Issue 15's loop of risk compensation as its users meet it, in a real Chromium: every step is
looked at on a 1366 px desktop and on a 390 px phone.

On the seeded demo world, moving only by the links, forms and buttons the pages offer:

- the demo bank's loan officer (``loan_officer``, 青海银行) opens 风险补偿申请 from the menu, picks
  its defaulted loan to a small firm that the rules cover, sees the figures worked out (the
  government's 30% of the loss), attaches a real PDF and files the claim;
- the platform office (``operator``) agrees at 受理审核, finance (``gov_fund``) agrees at 财政审核;
  the claim is paid and the provincial fund's balance falls by exactly the government share;
- the officer reports a recovery; the office confirms it; the fund receives 30% of it, to the
  cent;
- the operator runs the simulator with the ¥10 m scenarios and exports the run to Excel, read back
  with openpyxl.

Screenshots are kept under ``var/screenshots/journeys/issue15/`` and ``/tmp/journey-issue15/``.
"""

from __future__ import annotations

import io
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from xinrong.web.tests.journey_support import Person, demo_site_fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

demo_site = demo_site_fixture()

ISSUE = "issue15"
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \n"
    b"0000000101 00000 n \ntrailer<</Size 4/Root 1 0 R>>\nstartxref\n166\n%%EOF\n"
)
CENT = Decimal("0.01")


def yuan(text: str) -> Decimal:
    """The first amount in ``text`` ("360,000.00 元" reads 360000.00)."""
    found = re.search(r"-?\d[\d,]*\.\d{2}", text)
    assert found, f"no amount in {text!r}"
    return Decimal(found.group(0).replace(",", ""))


def fund_year(p: Person) -> tuple[Decimal, Decimal, Decimal]:
    """(balance, compensated this year, returned this year) read off the fund's page."""
    balance = yuan(p.page.locator("[data-stat=balance]").first.get_attribute("title") or "")
    words = p.page.locator("#fund-year").inner_text()
    amounts = [Decimal(a.replace(",", "")) for a in re.findall(r"\d[\d,]*\.\d{2}", words)]
    assert len(amounts) >= 3, words
    return balance, amounts[1], amounts[2]


def open_fund(p: Person) -> tuple[Decimal, Decimal, Decimal]:
    p.menu("风险补偿基金")
    p.look("fund-hub")
    p.click("a[href='/riskfund/funds/qinghai/']")
    p.look("fund-page")
    return fund_year(p)


def test_issue15_a_claim_is_paid_and_recovered_and_the_fund_follows(browser: Any, demo_site: str):
    base = demo_site
    bank = Person(browser, base, "loan_officer", issue=ISSUE)
    office = Person(browser, base, "operator", issue=ISSUE)
    finance = Person(browser, base, "gov_fund", issue=ISSUE)
    try:
        # finance reads the fund before
        finance.look("01-home")
        before = open_fund(finance)

        # the bank files its claim from the menu
        home = bank.look("01-home")
        assert "风险补偿" in home
        bank.menu("风险补偿申请")
        bank.look("02-claims")
        bank.click("a[href='/riskfund/claims/new/']")
        picker = bank.look("03-pick-loan")
        assert "借款主体是个体工商户" in picker  # the reasons why other loans are not covered
        bank.click("tr[data-claimable=yes] a.btn")
        bank.look("04-claim-form")
        outstanding = yuan(bank.page.locator("#claim-figures").inner_text())
        assert outstanding > 0
        bank.page.fill("#id_note", "借款企业停产，经催收无果，已向法院起诉。")
        bank.page.set_input_files(
            "#id_evidence",
            files=[{"name": "起诉书.pdf", "mimeType": "application/pdf", "buffer": PDF}],
        )
        bank.click("#claim-submit")
        detail = bank.look("05-claim-filed")
        number = re.search(r"FX\d{8}[0-9A-F]{8}", detail)
        assert number, detail
        amount = yuan(bank.page.locator("#claim-amount").inner_text())
        base_line = bank.page.locator("#claim-words").inner_text()
        assert "30%" in base_line, base_line
        claim_url = bank.page.url

        # the office agrees at 受理审核
        office.look("01-home")
        office.menu("补偿审批")
        queue = office.look("02-queue")
        assert number.group(0) in queue
        office.click(f"a:has-text('{number.group(0)}')")
        office.look("03-claim")
        office.page.fill("#decide-form textarea", "材料齐全，同意报财政审核。")
        office.click("#approve-button")
        assert "审批中" in office.look("04-agreed")

        # finance agrees at 财政审核: the claim is paid from the fund
        finance.menu("补偿审批")
        finance.look("02-queue")
        finance.click(f"a:has-text('{number.group(0)}')")
        finance.look("03-claim")
        finance.page.fill("#decide-form textarea", "同意补偿。")
        finance.click("#approve-button")
        assert "已补偿" in finance.look("04-paid")
        after = open_fund(finance)
        assert after[0] == before[0] - amount, (before, after, amount)
        assert after[1] == before[1] + amount

        # the bank reports a recovery on the paid claim
        bank.page.goto(claim_url)
        bank.look("06-claim-paid")
        bank.click("#recovery-new-link")
        bank.look("07-recovery-form")
        recovered = Decimal("100000.00")
        bank.page.fill("#id_amount", f"{recovered}")
        bank.page.fill("#id_recovered_on", timezone.localdate().isoformat())
        bank.page.fill("#id_note", "法院强制执行款到账。")
        bank.click("#recovery-submit")
        assert "待审核" in bank.look("08-recovery-reported")

        # the office confirms it; the fund receives the government's 30%
        office.menu("补偿审批")
        office.look("05-queue-recovery")
        office.page.goto(claim_url)
        office.look("06-claim-recovery")
        office.click("[data-confirm-recovery]")
        back = office.look("07-recovery-confirmed")
        returned = (recovered * Decimal("0.3")).quantize(CENT)
        assert f"{returned:,.2f}" in back
        final = open_fund(finance)
        assert final[0] == after[0] + returned
        assert final[2] == after[2] + returned

        # the operator runs the ¥10 m scenarios and exports the run
        office.menu("资金充足性测算")
        office.look("08-simulator")
        office.page.fill("#id_name", "扩大至1000万元并覆盖个体工商户")
        office.page.fill("#id_paths", "1000")
        office.click("#sim-run")
        result = office.look("09-simulation")
        assert "1000" in result and "个体工商户" in result
        with office.page.expect_download() as download:
            office.page.click("#sim-export")
        data = Path(download.value.path()).read_bytes()
        book = load_workbook(io.BytesIO(data))
        words = " ".join(
            str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value
        )
        assert "1000" in words and "个体工商户" in words, words[:400]
    finally:
        for person in (bank, office, finance):
            person.close()
