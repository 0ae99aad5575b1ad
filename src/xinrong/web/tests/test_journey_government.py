"""The department data clerk's journey in a real Chromium, at 1366 px and on a 390 px phone.

On the demo world, 青海省市场监督管理局 has delivered a penalty file with two bad rows, and the
demo enterprise has disputed two of its penalty records. The clerk (gov_data) logs in, lands on
the government workbench and, moving only by the links and buttons the pages offer: opens the
delivery with errors (its rejected rows listed, the error file an Excel of those very rows),
uploads a delivery built from the category's own template with one bad row and reads the per-row
error, answers a dispute awaiting it within its legal deadline (correcting the record at 1366 px,
upholding it with a note on the phone), and opens the page where a department registers its data
sources.

On every page: every visible word Chinese, nothing wider than the screen, no script error, and a
screenshot for a person to look at (see ``journeys.py``).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from xinrong.web.tests.journeys import Journey, login
from xinrong.web.tests.seeded import demo_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SEED = 20221  # the demo seed value, as ``xinrong seed --scale demo`` uses
HEADERS = [
    "统一社会信用代码",
    "主体名称",
    "决定书文号",
    "严重程度",
    "处罚日期",
    "罚没金额（元）",
    "公示截止日期",
    "处罚机关",
]


def _arrange() -> dict[str, str]:
    """A delivery with errors and two disputes awaiting the department (what a week brings)."""
    from xinrong.accounts.models import User
    from xinrong.credit.services.disputes import dispute_file
    from xinrong.datahub.models import Fact, Source
    from xinrong.datahub.services.ingest import batch_ingest

    clerk = User.objects.get(username="gov_data")
    owner = User.objects.get(username="ent_owner")
    assert owner.organisation is not None
    entity = owner.organisation.market_entity
    source = Source.objects.get(code="market")
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(HEADERS)
    writer.writerows(
        [
            [entity.uscc, "", "西市监罚〔2026〕101号", "一般", "2026-03-02", "5000", "", ""],
            [entity.uscc, "", "西市监罚〔2026〕102号", "轻微", "2026-04-15", "800", "", ""],
            [entity.uscc, "", "西市监罚〔2026〕103号", "很严重", "2026-05-01", "100", "", ""],
            [entity.uscc, "", "", "一般", "2026-13-01", "100", "", ""],
        ]
    )
    batch = batch_ingest(
        source=source,
        category="penalty",
        fileobj=io.BytesIO(buf.getvalue().encode("utf-8-sig")),
        filename="行政处罚2026年一季度.csv",
        channel="upload",
        actor=clerk,
    )
    assert (batch.accepted, batch.rejected) == (2, 2), batch.__dict__
    for fact in Fact.objects.filter(entity=entity, category="penalty", source=source):
        asked = "轻微" if fact.grade != "minor" else "一般"
        dispute_file(
            actor=owner,
            fact=fact,
            kind="correction",
            claim=f"处罚决定书载明的情节与档案不符，严重程度应为{asked}。",
            proposed_values={"severity": asked},
        )
    return {"uscc": entity.uscc, "name": entity.name}


def test_department_clerk_finds_and_does_its_work_from_the_workbench(
    browser, live_server, tmp_path
):
    demo_world(seed_value=SEED, history=False)
    enterprise = _arrange()
    for width in (1366, 390):
        journey = login(browser, live_server.url, "gov_data", width)
        try:
            _clerk_journey(journey, enterprise, tmp_path)
        finally:
            journey.close()


def _clerk_journey(j: Journey, enterprise: dict[str, str], tmp: Path) -> None:
    page = j.page
    assert "政府工作台" in page.locator("h1").first.inner_text()
    batches = j.figure('#wb-deliveries [data-stat="batches"]')
    rejected = j.figure('#wb-deliveries [data-stat="rejected"]')
    assert rejected >= 2
    in_rows = sum(
        int(t.strip().replace(",", "") or 0)
        for t in page.locator("#wb-deliveries tbody td:nth-child(6)").all_inner_texts()
    )
    assert in_rows == rejected  # the figure is the sum of the deliveries listed under it
    disputes = j.figure('#wb-cases [data-stat="disputes-open"]')
    assert disputes >= 1
    j.shot("workbench")

    # the delivery with errors: its rejected rows and an error file holding those rows
    bad = page.locator("#wb-deliveries tbody tr", has=page.locator("td.text-danger")).first
    bad_count = int(bad.locator("td").nth(5).inner_text())
    with page.expect_navigation():
        bad.locator("td a").first.click()
    assert j.figure('[data-stat="rejected"]') == bad_count
    # one line per error; each rejected row is there with its row number
    numbers = page.locator("#rejected-rows tbody tr td:first-child").all_inner_texts()
    assert len({n.strip() for n in numbers}) == bad_count
    errors_file = _download(j, "#errors-download", tmp / f"errors-{j.width}.xlsx")
    rows = list(load_workbook(errors_file).worksheets[0].iter_rows(values_only=True))
    assert "错误说明" in rows[0] and len(rows) == bad_count + 1
    explained = [dict(zip(rows[0], r, strict=True))["错误说明"] for r in rows[1:]]
    plain = [re.sub(r"YYYY(-MM(-DD)?)?", "", e) for e in explained]  # date formats as written
    assert all(explained) and not any(re.search(r"[A-Za-z]{3,}", e) for e in plain), explained
    j.shot("delivery-with-errors")

    # the list of deliveries agrees with the workbench
    j.home()
    j.follow("#wb-deliveries a:has-text('信息归集')")
    assert j.figure("main :text-matches('共 [0-9,]+ 条')") == batches
    j.shot("hub")

    # a delivery through the page, built from the category's template, with one bad row
    template = _download(j, "main a:has-text('行政处罚模板')", tmp / f"template-{j.width}.xlsx")
    book = load_workbook(template)
    sheet = book.worksheets[0]
    sheet.delete_rows(2, sheet.max_row)
    n = j.width
    sheet.append([enterprise["uscc"], "", "", f"西市监罚〔2026〕{n}号", "一般", "2026-06-01", 3000])
    sheet.append(
        [enterprise["uscc"], "", "", f"西市监罚〔2026〕{n + 1}号", "严重", "2026-06-02", 9000]
    )
    sheet.append(
        [enterprise["uscc"], "", "", f"西市监罚〔2026〕{n + 2}号", "一般", "2099-01-01", 10]
    )
    upload = tmp / f"行政处罚-{j.width}.xlsx"
    book.save(upload)
    page.select_option("#id_source", label="市场监管登记与执法")
    page.select_option("#id_category", label="行政处罚")
    page.set_input_files("#id_file", str(upload))
    j.follow("#upload-form button[type=submit]")
    page.locator("#batch-status").wait_for()
    page.wait_for_function("() => !document.querySelector('#batch-summary[hx-get]')")
    assert j.figure('[data-stat="accepted"]') == 2
    assert j.figure('[data-stat="rejected"]') == 1
    error_row = page.locator("#rejected-rows tbody tr")
    assert error_row.count() == 1
    assert error_row.first.locator("td").first.inner_text().strip() == "4"
    assert "处罚日期" in error_row.first.inner_text()
    assert page.locator("#errors-download").count() == 1  # the way to fix it
    j.shot("uploaded")

    # a dispute awaiting the department, with its legal deadline
    j.home()
    row = page.locator("#wb-cases tbody tr", has_text=enterprise["name"]).first
    due = row.locator("td").nth(3).inner_text()
    assert re.search(r"\d{4}-\d{2}-\d{2}", due)
    with page.expect_navigation():
        row.locator("a").first.click()
    assert due.split()[0] in page.locator("#due-on").inner_text()
    assert "征信业管理条例" in page.locator("#due-on").inner_text()
    if j.width >= 992:
        assert page.locator("#correct-form").count() == 1
        j.shot("dispute")
        j.follow("#correct-button")
    else:
        page.fill("#uphold-form textarea", "经核查，处罚决定书载明的情节为一般，维持原记录。")
        j.shot("dispute")
        j.follow("#uphold-button")
    assert page.locator("#correct-form, #uphold-form").count() == 0
    assert page.locator("#resolution").count() == 1
    j.shot("dispute-answered")
    j.follow("main a:has-text('返回异议列表')")
    j.shot("disputes")
    j.home()
    assert j.figure('#wb-cases [data-stat="disputes-open"]') == disputes - 1

    # the data sources: the page where a department registers what it delivers
    j.menu("数据来源")
    assert page.locator("main tr[data-source]").count() >= 1
    j.shot("sources")
    sources = page.locator("main tr[data-source]").count()
    j.follow("#register-source")
    page.fill("#id_name", f"青海省市场监督管理局知识产权信息（{j.width}）")
    page.fill("#id_code", f"amr-ip-{j.width}")
    page.check("main input[name=categories][value=intellectual_property]")  # 专利与商标
    j.shot("source-new")
    j.follow("main form button[type=submit]")
    # back on the hub, where the new source's template is offered for the next delivery
    name = f"青海省市场监督管理局知识产权信息（{j.width}）"
    assert name in page.locator("main").inner_text()
    j.shot("source-registered")
    j.follow("#manage-sources")
    assert page.locator("main tr[data-source]").count() == sources + 1
    assert page.locator(f'main tr[data-source="amr-ip-{j.width}"]').count() == 1


def _download(j: Journey, selector: str, to: Path) -> Path:
    link = j.page.locator(selector).first
    link.scroll_into_view_if_needed()
    with j.page.expect_download() as info:
        link.click()
    info.value.save_as(str(to))
    return to
