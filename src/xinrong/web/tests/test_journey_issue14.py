"""Issue 14's closed loop of policy support as its users meet it, in a real Chromium: every step
is looked at on a 1366 px desktop and on a 390 px phone.

On the seeded demo world, moving only by the links, forms and buttons the pages offer:

- the policy publisher of 青海省工业和信息化厅 (``gov_policy``) records a policy document, adds a
  subsidy with a fixed amount, a budget, two materials and conditions built in the condition editor
  (read back as a sentence) that the demo enterprise meets, and publishes both;
- the enterprise (``ent_owner``) finds the new subsidy pushed to its inbox, in 我的政策 and in the
  policy calculator with the amount it may get, and applies with a real PDF;
- the publisher approves at the department step, 青海省财政厅 (``gov_fund``) approves at the
  finance step and records the payment with its voucher, and the enterprise reads the payment on
  its application;
- the publisher adds an automatic (免申即享) measure, draws its list, excludes one firm with a
  reason and confirms it; the enterprise reads 已为您兑现 without having applied.

On every page: every visible word Chinese and plain, nothing wider than the screen, no script
error or failed request, and a screenshot at both widths for a person to look at, under
``var/screenshots/journeys/issue14/`` and ``/tmp/journey-issue14/``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from typing import Any

import pytest

from xinrong.web.tests.journey_support import Person, demo_site_fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

demo_site = demo_site_fixture()

# a rerun against a running server (XINRONG_JOURNEY_BASE) adds its own, told apart by the minute
RUN = dt.datetime.now().strftime("（%H%M%S）") if os.environ.get("XINRONG_JOURNEY_BASE") else ""
TITLE = f"关于支持海西州企业设备更新的若干措施{RUN}"
SUBSIDY = f"设备更新定额补助{RUN}"
AUTO = f"海西州企业稳岗奖励{RUN}"
# the smallest valid PDF a reader opens: one empty page
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \n"
    b"0000000101 00000 n \ntrailer<</Size 4/Root 1 0 R>>\nstartxref\n166\n%%EOF\n"
)


def _yuan(text: str) -> str:
    """The first money figure in ``text`` without its separators ("30,000.00 元" reads
    30000.00)."""
    found = re.search(r"(\d[\d,]*\.\d{2})", text)
    assert found, f"no amount in {text!r}"
    return found.group(1).replace(",", "")


def test_issue14_a_policy_reaches_the_firm_and_the_money_follows(browser: Any, demo_site: str):
    base = demo_site
    today = dt.date.today()
    publisher = Person(browser, base, "gov_policy", issue="issue14")
    firm = Person(browser, base, "ent_owner", issue="issue14")
    finance = Person(browser, base, "gov_fund", issue="issue14")
    try:
        _publish(publisher, today)
        _firm_finds_and_applies(firm)
        _department_and_finance_decide(publisher, finance)
        _firm_reads_the_payment(firm)
        _granted_without_applying(publisher, firm)
    finally:
        for person in (publisher, firm, finance):
            person.close()


def _publish(p: Person, today: dt.date) -> None:
    page = p.page
    home = p.look("01-home")
    assert "政策" in home
    p.menu("政策管理")
    p.look("02-workspace")
    p.click("#new-document")
    page.fill("#id_title", TITLE)
    page.fill("#id_doc_number", f"青工信〔{today.year}〕88号")
    page.select_option("#id_level", label="省级")
    page.fill("#id_region_code", "632800")
    page.fill("#id_issued_on", today.isoformat())
    page.fill("#id_summary", "支持海西州企业更新生产设备、稳定就业。")
    p.look("03-document-form")
    p.click("main button:has-text('保存')")
    p.look("04-document")
    p.click("#new-measure")
    page.fill("#id_title", SUBSIDY)
    page.select_option("#id_kind", label="资金补贴")
    page.select_option("#id_delivery", label="申请办理")
    page.fill("#id_amount", "30000")
    page.fill("#id_budget", "3000000")
    page.fill("#id_window_start", today.isoformat())
    page.fill("#id_window_end", (today + dt.timedelta(days=90)).isoformat())
    page.fill("#id_materials", "设备购置发票\n项目申报书")
    page.fill("#id_contact", "0971-1234567")
    _conditions(p)
    p.click("#preview")
    sentence = p.look("05-measure-preview")
    assert "海西" in page.locator("#sentence").inner_text(), sentence
    p.click("#save-measure")
    p.look("06-measure-saved")
    p.click("main nav a:nth-of-type(2)")  # back to the document
    p.click("#doc-publish")
    assert "已发布" in page.locator("#doc-status").inner_text()
    p.click(f"#measures a:has-text('{SUBSIDY}')")
    p.click("#measure-publish")
    assert "已发布" in page.locator("#measure-status").inner_text()
    p.look("07-measure-published")


def _conditions(p: Person) -> None:
    """Build the conditions the demo enterprise meets in the editor's rows (two blank rows at a
    time: the preview offers two more)."""
    rows = [
        ("entity_type", "in", "企业"),
        ("region", "in", "632800"),
        ("dishonest", "is", "否"),
    ]
    for i, (field, op, value) in enumerate(rows):
        if not p.page.locator(f"#id_c-{i}-field").count():
            p.click("#preview")
        p.page.select_option(f"#id_c-{i}-field", field)
        p.page.select_option(f"#id_c-{i}-op", op)
        p.page.fill(f"#id_c-{i}-value", value)


def _firm_finds_and_applies(p: Person) -> None:
    page = p.page
    p.page.reload()
    p.look("08-home")
    p.menu("消息通知")
    inbox = p.look("09-inbox")
    assert SUBSIDY in inbox
    p.menu("我的政策")
    mine = p.look("10-my-policies")
    item = page.locator("#eligible-list [data-measure]", has_text=SUBSIDY)
    assert item.count() == 1, mine
    assert _yuan(item.inner_text()) == "30000.00"
    p.menu("政策计算器")
    p.look("11-calculator")
    item = page.locator("#own-eligible [data-measure]", has_text=SUBSIDY)
    assert item.count() == 1
    assert _yuan(item.inner_text()) == "30000.00"
    p.menu("我的政策资金")
    p.look("12-my-funds")
    p.click(f"#open-measures li:has-text('{SUBSIDY}') [data-apply]")
    p.look("13-apply-form")
    page.fill("#id_requested", "30000")
    page.fill("#id_purpose", "购置数控机床两台")
    files = page.locator("#apply-form input[type=file]")
    for i in range(files.count()):
        files.nth(i).set_input_files(
            {"name": f"材料{i + 1}.pdf", "mimeType": "application/pdf", "buffer": PDF}
        )
    p.click("#apply-submit")
    detail = p.look("14-applied")
    assert SUBSIDY in detail


def _department_and_finance_decide(publisher: Person, finance: Person) -> None:
    p = publisher
    p.page.goto(f"{p.base}/")
    p.menu("专项资金审批")
    p.look("15-review-queue")
    p.click(f"#waiting li:has-text('{SUBSIDY}') a")
    p.look("16-review")
    p.page.fill("#decide_amount", "30000")
    p.page.fill("#decide_note", "材料齐全，同意")
    p.click("#approve-button")
    p.look("17-department-approved")

    f = finance
    f.look("18-home")
    f.menu("专项资金审批")
    f.look("19-review-queue")
    f.click(f"#waiting li:has-text('{SUBSIDY}') a")
    f.look("20-review")
    f.click("#approve-button")
    assert f.page.locator("#fund-status").get_attribute("data-status") == "approved"
    f.look("21-finance-approved")
    f.page.fill("#voucher_voucher_no", "QHCZ-2026-0088")
    f.click("#disburse-button")
    text = f.look("22-paid")
    assert "QHCZ-2026-0088" in text
    f.menu("资金拨付")
    f.look("23-payments")


def _firm_reads_the_payment(p: Person) -> None:
    p.menu("我的政策资金")
    mine = p.look("24-my-funds")
    row = p.page.locator("#applications tr", has_text=SUBSIDY)
    assert row.count() == 1, mine
    p.click(f"#applications tr:has-text('{SUBSIDY}') a")
    detail = p.look("25-paid")
    assert "资金已拨付" in detail and "QHCZ-2026-0088" in detail
    assert _yuan(p.page.locator("#fund-approved").inner_text()) == "30000.00"


def _granted_without_applying(publisher: Person, firm: Person) -> None:
    p = publisher
    page = p.page
    p.menu("政策管理")
    p.click(f"#documents a:has-text('{TITLE}')")
    p.click("#new-measure")
    page.fill("#id_title", AUTO)
    page.select_option("#id_kind", label="奖励")
    page.select_option("#id_delivery", label="免申即享")
    page.fill("#id_amount", "5000")
    page.fill("#id_budget", "500000")
    _conditions(p)
    p.click("#save-measure")
    p.click("#measure-publish")
    p.look("26-auto-published")
    p.menu("免申即享")
    p.look("27-auto-measures")
    p.click(f"#auto-measures li:has-text('{AUTO}') a")
    p.click("#draw-button")
    drawn = p.look("28-auto-drawn")
    entries = page.locator("#entries tbody tr[data-entry]")
    assert entries.count() >= 2, drawn
    other = page.locator("#entries tbody tr[data-entry]:not(:has-text('乌兰达青种植专业合作社'))")
    other.first.locator("input[name=note]").fill("已享受同类奖励，不重复兑现")
    p.click("#entries tbody tr[data-entry]:not(:has-text('乌兰达青种植专业合作社')) [data-exclude]")
    assert page.locator("#entries tr[data-excluded='1']").count() == 1
    p.look("29-auto-excluded")
    p.click("#confirm-button")
    assert page.locator("#list-status").get_attribute("data-status") == "confirmed"
    p.look("30-auto-confirmed")

    f = firm
    f.menu("消息通知")
    inbox = f.look("31-inbox")
    assert AUTO in inbox
    f.menu("我的政策资金")
    f.look("32-my-funds")
    grants = f.page.locator("#grants tr", has_text=AUTO)
    assert grants.count() == 1
    assert "已为您兑现" in grants.inner_text()
    assert _yuan(grants.inner_text()) == "5000.00"
