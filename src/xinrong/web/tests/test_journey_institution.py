"""The institutions' journeys in a real Chromium, at 1366 and 390 px, on the seeded demo world.

Each person starts on their workbench and reaches their work from it (its links, the sidebar, or
the drawer on a phone; never a typed address): the bank's loan officer accepts an application from
the queue and sees its next deadline, filters the demand hall and exports the applications; the
reviewer approves one; the institution admin reads the monthly figures and chart and disables then
re-enables a user with a reason; the guarantor approves a guarantee request with a fee; the
investor expresses interest in a reserve firm. Every page is looked at by ``Visit.look`` (plain
Chinese, nothing wider than the window, a screenshot), every home figure is compared with the list
it links to, and every action must leave a next step on the page.
"""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest

from xinrong.common.pagination import DEFAULT_PAGE_SIZE
from xinrong.web.tests.journey_support import (
    DESKTOP,
    PHONE,
    WIDTHS,
    Visit,
    demo_site_fixture,
    figure,
)

# django_db: the test database is created for these tests; each test runs in a transaction that
# is rolled back (on SQLite the live server shares the connection), the seeded world stays.
pytestmark = [pytest.mark.browser, pytest.mark.django_db]

demo_site = demo_site_fixture()
DEADLINE = re.compile(r"当前环节须在 \d{4}-\d{2}-\d{2} \d{2}:\d{2} 前办理")


def _queue(v: Visit) -> dict[str, int]:
    links = v.page.locator("#wb-queue [data-queue]")
    return {
        links.nth(i).get_attribute("data-queue"): figure(
            links.nth(i).locator("strong").inner_text()
        )
        for i in range(links.count())
    }


def _listed(v: Visit) -> int:
    return (
        figure(v.text("[data-total-count]")) if v.page.locator("[data-total-count]").count() else 0
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_loan_officer_takes_an_application_to_its_next_step(browser, demo_site, width):
    v = Visit(browser, demo_site, "loan_officer", width)
    v.look("home")
    assert "机构工作台" in v.text("h1")
    queue = _queue(v)
    assert sum(queue.values()) == figure(v.text('[data-stat="queue"]')) > 0
    assert queue["submitted"] > 0, queue
    if width == PHONE:  # an application number keeps one line on the phone's cards
        assert v.one_line("#wb-queue tbody tr a"), v.text("#wb-queue tbody tr a")

    # the queue's "已提交" figure opens the list of exactly those applications
    v.click('#wb-queue [data-queue="submitted"]')
    v.look("queue-submitted")
    rows = v.page.locator("#applications tbody tr[data-number]")
    # the list counts them all and shows its first page of them
    assert _listed(v) == queue["submitted"]
    assert rows.count() == min(queue["submitted"], DEFAULT_PAGE_SIZE)
    number = rows.first.get_attribute("data-number")

    # the officer accepts the application; the page shows the next step and its deadline
    v.click("#applications tbody tr[data-number] a")
    v.look("application")
    v.page.click("#action-accept summary")
    v.page.fill("#id_accept-note", "已受理，请补充近半年流水")
    v.click("#action-accept button[name=do]")
    main = v.look("accepted")
    assert "已受理，请补充近半年流水" in v.text("#timeline")
    assert DEADLINE.search(main), main[:600]
    assert v.page.locator("main details summary:has-text('提交审批')").count() == 1

    # home: one fewer to accept, one more to put to the reviewer, each with its next step
    v.home()
    after = _queue(v)
    assert after["submitted"] == queue["submitted"] - 1
    assert after["accepted"] == queue["accepted"] + 1
    row = v.page.locator(f"#wb-queue tbody tr:has-text('{number}')")
    if row.count():  # the queue shows its first rows only
        assert "提交审批" in row.inner_text()

    # the demand hall, from the home page, narrowed by a filter
    hall_total = figure(v.text('[data-stat="hall"]'))
    v.click("#wb-hall a:has-text('需求大厅')")
    v.look("hall")
    assert _listed(v) == hall_total
    if width == PHONE:
        v.page.click("[data-filter-toggle]")
    v.page.select_option("#list-filters select[name=purpose]", label="流动资金")
    v.click("[data-filter-submit]")
    v.look("hall-working-capital")
    shown = v.page.locator("#demand-hall tbody tr[data-id]")
    assert 0 < _listed(v) <= hall_total
    assert all("流动资金" in shown.nth(i).inner_text() for i in range(shown.count()))

    # the applications list from the menu, exported with amounts as numbers
    v.menu("贷款申请")
    v.look("applications")
    if width == DESKTOP:
        _export_has_numeric_amounts(v)
    v.close()


def _export_has_numeric_amounts(v: Visit) -> None:
    from openpyxl import load_workbook

    with v.page.expect_download() as download:
        v.page.click("[data-export]")
    path = download.value.path()
    sheet = load_workbook(io.BytesIO(open(path, "rb").read()), read_only=True).active  # noqa: SIM115
    rows = list(sheet.iter_rows(values_only=True))
    header = [str(h or "") for h in rows[0]]
    column = next(i for i, h in enumerate(header) if h.startswith("申请金额") or h == "金额（元）")
    amounts = [r[column] for r in rows[1:] if r[column] is not None]
    assert len(rows) - 1 == _listed(v)
    assert amounts and all(isinstance(a, (int, float, Decimal)) for a in amounts), amounts[:5]


@pytest.mark.parametrize("width", WIDTHS)
def test_reviewer_approves_an_application_from_the_home_queue(browser, demo_site, width):
    v = Visit(browser, demo_site, "reviewer", width)
    v.look("home")
    queue = _queue(v)
    waiting = queue.get("under_review", 0)
    assert waiting > 0, queue
    v.click('#wb-queue [data-queue="under_review"]')
    v.look("queue-under-review")
    assert v.page.locator("#applications tbody tr[data-number]").count() == _listed(v) == waiting

    v.click("#applications tbody tr[data-number] a")
    v.look("application")
    v.page.click("#action-approve summary")
    for field in ("amount", "rate", "term_months"):  # the terms are filled in from the request
        assert v.page.input_value(f"#id_approve-{field}"), field
    v.page.fill("#id_approve-note", "经营稳定，同意按申请条件放款")
    v.click("#action-approve button[name=do]")
    v.look("approved")
    assert "已批准" in v.text("main .badge")
    assert "经营稳定，同意按申请条件放款" in v.text("#timeline")

    v.home()
    assert _queue(v).get("under_review", 0) == waiting - 1
    v.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_bank_admin_reads_the_month_and_manages_a_user(browser, demo_site, width):
    v = Visit(browser, demo_site, "bank_admin", width)
    v.look("home")
    assert v.page.locator("#chart-monthly canvas").count() >= 1
    # the plot starts below the legend (two lines of it on a phone), not under it
    top = v.page.evaluate(
        "() => echarts.getInstanceByDom(document.getElementById('chart-monthly'))"
        ".getOption().grid[0].top"
    )
    assert top >= (76 if width == PHONE else 40), top
    months = v.page.locator("#wb-monthly tbody tr")
    assert months.count() >= 6
    # the months stay a table (scrolled sideways on a phone), not a dozen cards to page through
    assert v.page.locator("#monthly-table thead th").first.is_visible()
    members = figure(v.text('[data-stat="members"]'))

    # 账号管理 from the menu lists the same users the home page counts
    v.menu("账号管理")
    v.look("users")
    assert figure(v.text("main p.text-secondary")) == members
    row = v.page.locator("main tbody tr:has-text('reviewer')")
    with v.page.expect_navigation():
        row.locator("a:has-text('修改')").click()
    v.look("user")

    # disabled with a reason, then enabled again; each time the page says what happened and
    # lists the user with the new state and the way to change it back
    for verb, state in (("停用", "已停用"), ("启用", "正常")):
        v.click("#user-active-change")
        v.look(f"user-{verb}")
        v.page.locator("main form [name=reason]").fill(f"演示：{verb}审批人员账号")
        v.click("#confirm-active-change")
        v.look(f"user-{verb}-done")
        assert f"已{verb}账号：审批人员" in v.text("main .alert")
        row = v.page.locator("main tbody tr:has-text('reviewer')")
        assert state in row.inner_text()
        with v.page.expect_navigation():
            row.locator("a:has-text('修改')").click()
    v.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_guarantor_approves_a_guarantee_request_with_a_fee(browser, demo_site, width):
    v = Visit(browser, demo_site, "guarantor", width)
    v.look("home")
    pending = figure(v.text('[data-stat="guarantees"]'))
    assert pending > 0
    v.click('#wb-guarantees [data-guarantees="pending"]')
    v.look("requests-pending")
    assert v.page.locator("main tbody tr").count() == pending

    v.home()
    v.click("#wb-guarantees li a")
    v.look("request")
    v.page.fill("#id_approve-fee_rate", "1.2")
    v.page.fill("#id_approve-note", "反担保措施齐全，同意承保")
    v.click("#action-approve button[name=do]")
    v.look("approved")
    assert "已同意" in v.text("#guarantee-status")
    assert "1.2" in v.text("#guarantee-fee")
    assert v.page.locator("main details summary, #no-actions").count() >= 1  # what comes next

    v.home()
    assert figure(v.text('[data-stat="guarantees"]')) == pending - 1
    v.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_investor_browses_the_reserve_and_expresses_interest(browser, demo_site, width):
    v = Visit(browser, demo_site, "investor", width)
    v.look("home")
    total = figure(v.text('[data-stat="reserve"]'))
    assert total > 0
    v.click("#wb-reserve a:has-text('浏览后备库')")
    v.look("reserve")
    entries = v.page.locator("main table").first.locator("tbody tr")
    assert entries.count() == total

    # an entry the investor has not yet written to
    v.home()
    links = v.page.locator("#wb-reserve li a")
    for i in range(links.count()):
        v.click(f"#wb-reserve li >> nth={i} >> a")
        if v.page.locator("#interest-form").count():
            break
        v.home()
    v.look("entry")
    v.page.fill("#interest-form textarea", "有意参与下一轮股权融资，盼回复")
    v.click("#interest-form button")
    v.look("interest-sent")
    assert v.page.locator("#interest-pending").count() == 1

    v.home()
    assert "等待企业回复" in v.text("#wb-reserve")
    v.close()
