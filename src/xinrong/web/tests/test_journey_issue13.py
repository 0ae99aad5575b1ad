"""Issue 13's doors and honest scores as their users meet them, in a real Chromium at 1366 px and on
a 390 px phone.

A small world is arranged (no demo seed: the module runs in well under a minute): market
regulation's clerk, an enterprise with a D tax grade and a serious penalty, an individual
business with no tax data, a bank, and an active two-card (segmented) model. Then, moving only by
the links and buttons the pages offer:

- the clerk goes from the workbench to the data delivery, downloads the registry template
  (法人单位基础信息), uploads it back with two good rows and one bad one, and reads the per-row
  error and the entities the batch created;
- the operator opens the model from the menu and reads its honest-scoring facts: cross-validated
  AUC of one card against a card per kind, the correlated feature dropped, the distinct scores;
- the enterprise and the individual business read their reasons and guidance in words (the
  negative facts named, a missing value said plainly, nothing that does not apply to a shop);
- the bank imports its loan history through the signed API and finds it in its loan book.

On every page: every visible word Chinese and plain, nothing wider than the screen, no script error
or failed request, and a screenshot for a person to look at (see ``journeys.py``).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook

from xinrong.accounts.tests.support import browser_login
from xinrong.web.tests.journeys import Journey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Test-pass-2026"  # the root conftest's
WIDTHS = (1366, 390)


def _login(browser: Any, base: str, username: str, width: int) -> Journey:
    """A fresh browser at ``width`` px, logged in as ``username``, on its home page."""
    context = browser.new_context(
        viewport={"width": width, "height": 900}, locale="zh-CN", accept_downloads=True
    )
    page = context.new_page()
    journey = Journey(page=page, context=context, role=username, width=width, base=base)
    page.on("pageerror", lambda exc: journey.errors.append(str(exc)))
    page.on(
        "response",
        lambda r: (
            journey.errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    browser_login(page, base, username)
    return journey


# ---------------------------------------------------------------- the world


def _deliver(source: Any, category: str, rows: list[dict[str, str]], clerk: Any) -> None:
    from xinrong.datahub.services.ingest import batch_ingest

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    batch = batch_ingest(
        source=source,
        category=category,
        fileobj=io.BytesIO(buf.getvalue().encode("utf-8-sig")),
        filename=f"{category}.csv",
        channel="upload",
        actor=clerk,
    )
    assert batch.rejected == 0, list(batch.errors.values_list("column", "rule"))


@pytest.fixture
def world(make_user, enterprise_user) -> dict[str, Any]:
    from xinrong.credit.models import ScoreModel
    from xinrong.credit.services import scoring as scoring_services
    from xinrong.credit.tests.test_scorecard_honest import _segmented_model_json
    from xinrong.datahub.services.sources import source_create
    from xinrong.enterprises.services import enterprise_register
    from xinrong.enterprises.tests.factories import valid_id_number, valid_uscc

    clerk = make_user("government", ["data_provider"], username="market_clerk")
    source = source_create(
        code="market",
        name="市场监管登记与执法",
        organisation=clerk.organisation,
        categories=["registry", "penalty", "tax"],
    )
    shop_owner = enterprise_register(
        uscc=valid_uscc(seed=31, individual=True),
        name="城东区马记牛肉面馆",
        legal_rep_name="马学明",
        legal_rep_id_number=valid_id_number(seed=31),
        username="shop_test",
        password=PASSWORD,
        industry_code="H62",
        division_code="630102",
    )
    firm = enterprise_user.organisation.market_entity
    _deliver(
        source,
        "tax",
        [{"uscc": firm.uscc, "period": "2026-06", "tax_paid": "3000", "credit_grade": "D"}],
        clerk,
    )
    _deliver(
        source,
        "penalty",
        [
            {
                "uscc": firm.uscc,
                "decision_no": "西市监罚〔2026〕7号",
                "severity": "严重",
                "decided_on": "2026-05-01",
                "fine": "20000",
            }
        ],
        clerk,
    )
    model = ScoreModel.objects.create(
        version=1,
        name="小微企业信用评分卡",
        card=_segmented_model_json(),
        score_distribution={"edges": list(range(300, 920, 20)), "counts": [1] * 30},
        metrics={
            "outcomes": "synthetic",
            "auc_test": 0.8,
            "ks_test": 0.4,
            "segmented": True,
            "cv_folds": 5,
            "cv_auc_single": 0.781,
            "cv_auc_segmented": 0.802,
            "segment_bads": {"enterprise": 120, "individual_business": 300},
            "segment_note": "",
            "distinct_scores": 266,
        },
        training={
            "data": "synthetic",
            "train_rows": 7000,
            "correlated_dropped": [
                {"feature": "employees", "kept": "insured_headcount", "rho": 0.97, "segment": ""}
            ],
        },
    )
    scoring_services.model_activate(model=model, actor=None)
    scoring_services.profiles_score()
    bank_admin = make_user("bank", ["institution_admin"], username="bank_test")
    return {
        "clerk": clerk,
        "operator": make_user("operator", ["operator_admin"], username="op_test"),
        "firm_owner": enterprise_user,
        "shop_owner": shop_owner,
        "bank_admin": bank_admin,
    }


# ---------------------------------------------------------------- the journeys


def test_issue13_doors_and_honest_scores_as_their_users_meet_them(
    browser, live_server, world, tmp_path
):
    for width in WIDTHS:
        _clerk_delivers_the_registry(browser, live_server.url, width, tmp_path)
        _operator_reads_the_model(browser, live_server.url, width)
    for width in WIDTHS:
        _firm_reads_reasons_and_guidance(browser, live_server.url, width)
        _shop_reads_reasons_that_apply(browser, live_server.url, width)
    _bank_finds_its_imported_book(browser, live_server.url, world["bank_admin"])


def _clerk_delivers_the_registry(browser: Any, base: str, width: int, tmp: Path) -> None:
    from xinrong.enterprises.models import MarketEntity
    from xinrong.enterprises.tests.factories import valid_uscc

    j = _login(browser, base, "market_clerk", width)
    try:
        page = j.page
        j.shot("workbench")
        j.follow("main a:has-text('信息归集')")  # the workbench leads to the delivery
        j.shot("datahub")
        with page.expect_download() as download:
            page.locator("main a:has-text('法人单位基础信息模板')").first.click()
        assert download.value.suggested_filename == "法人单位基础信息模板.xlsx"
        template = tmp / f"registry-{width}.xlsx"
        download.value.save_as(template)
        book = load_workbook(template)
        sheet = book.worksheets[0]
        headers = [str(c.value).rstrip("*") for c in sheet[1]]
        assert headers[:2] == ["统一社会信用代码", "主体名称"]
        sheet.delete_rows(2, sheet.max_row)  # the example row, as the notes say
        firm, shop = valid_uscc(seed=500 + width), valid_uscc(seed=600 + width, individual=True)
        common = {
            "行政区划代码": "630102",
            "成立日期": "2020-01-15",
            "法定代表人/经营者": "王晓东",
            "登记状态": "存续",
            "登记事项": "设立登记",
            "事项日期": "2020-01-15",
        }
        rows = [
            {**common, "统一社会信用代码": firm, "主体名称": f"西宁旅程{width}商贸有限公司",
             "行业代码": "5212", "注册资本（元）": "500000"},
            {**common, "统一社会信用代码": shop, "主体名称": f"城中区旅程{width}面馆",
             "行业代码": "6211"},
            {**common, "统一社会信用代码": valid_uscc(seed=700 + width),
             "主体名称": "日期写错的公司", "行业代码": "5212", "成立日期": "2020-13-40"},
        ]  # fmt: skip
        for row in rows:
            sheet.append([row.get(h, "") for h in headers])
        book.save(template)

        page.select_option("select[name=category]", label="法人单位基础信息")
        page.set_input_files("input[type=file]", str(template))
        with page.expect_navigation():
            page.click("main button:has-text('上传并归集')")
        page.locator("#batch-status").wait_for()
        page.wait_for_function(
            "() => !document.querySelector('#batch-summary[hx-trigger]')", timeout=20_000
        )
        assert j.figure('[data-stat="accepted"]') == 2
        assert j.figure('[data-stat="rejected"]') == 1
        rejected = page.locator("#rejected-rows tbody tr")
        assert rejected.count() == 1
        refused = rejected.first.inner_text()
        assert "成立日期" in refused and "2020-13-40" in refused
        assert rejected.first.locator("td").first.inner_text().strip() == "4"  # the file's row
        created = page.locator("#registry-entities")
        assert "新设立 2 户，更新 0 户" in created.inner_text()
        names = created.locator("tbody tr").all_inner_texts()
        assert len(names) == 2
        assert f"西宁旅程{width}商贸有限公司" in names[0] and "企业" in names[0]
        assert f"城中区旅程{width}面馆" in names[1] and "个体工商户" in names[1]
        assert all("设立登记" in n and "新设立" in n for n in names)
        assert MarketEntity.objects.filter(uscc__in=[firm, shop]).count() == 2
        j.shot("registry-batch")
        # the created entity opens in the registry
        j.follow(f"#registry-entities a:has-text('西宁旅程{width}商贸有限公司')")
        assert firm in page.locator("main").inner_text()
        j.shot("created-entity")

        j.home()
        j.follow("main a:has-text('信息归集')")
        j.follow("main a:has-text('数据质量')")
        text = page.locator("main").inner_text()
        assert "字段缺失情况" in text and "不按0计算" in text
        j.shot("quality")
    finally:
        j.close()


def _operator_reads_the_model(browser: Any, base: str, width: int) -> None:
    j = _login(browser, base, "op_test", width)
    try:
        page = j.page
        j.menu("评分模型")
        j.shot("models")
        j.follow("main a:has-text('v1')")
        choices = page.locator("#model-choices").inner_text()
        assert "交叉验证 AUC 0.781" in choices and "0.802" in choices  # one card vs per kind
        assert "采用" in choices
        assert "从业人数与参保人数高度相关（0.97），保留参保人数" in choices
        assert "266 个不同的信用分" in choices
        j.shot("model")
    finally:
        j.close()


def _firm_reads_reasons_and_guidance(browser: Any, base: str, width: int) -> None:
    j = _login(browser, base, "ent_test", width)
    try:
        page = j.page
        j.menu("信用画像")
        reasons = page.locator("#reasons li").all_inner_texts()
        assert any("纳税信用等级为D级" in r for r in reasons), reasons
        assert any("严重行政处罚" in r for r in reasons), reasons
        guidance = page.locator("#improvements tbody tr").all_inner_texts()
        assert guidance and any("纳税信用等级达到" in g and "级" in g for g in guidance), guidance
        for row in guidance:
            assert "+" in row  # every step says what it is worth
        j.shot("portrait")
    finally:
        j.close()


def _shop_reads_reasons_that_apply(browser: Any, base: str, width: int) -> None:
    j = _login(browser, base, "shop_test", width)
    try:
        page = j.page
        j.menu("信用画像")
        reasons = " ".join(page.locator("#reasons li").all_inner_texts())
        assert "平台尚无纳税信用等级的数据" in reasons
        assert "缺失" not in reasons and "nan" not in reasons.lower()
        for foreign in ("专利", "商标", "政府采购", "从业人数"):  # not a shop's matter
            assert foreign not in reasons
        guidance = page.locator("#improvements tbody tr").all_inner_texts()
        assert guidance and "纳税信用等级达到B级" in guidance[0], guidance
        assert not any("达到D级" in g or "达到C级" in g for g in guidance)  # never a sanction
        j.shot("portrait")
    finally:
        j.close()


def _bank_finds_its_imported_book(browser: Any, base: str, admin: Any) -> None:
    from xinrong.enterprises.models import MarketEntity
    from xinrong.marketplace.tests.test_bank_api import _system
    from xinrong.marketplace.tests.test_loan_history import _loan

    borrowers = list(MarketEntity.objects.order_by("pk")[:2])
    good = _loan("HIST-GOOD-1", borrowers[0].uscc)
    behind = _loan("HIST-BEHIND-1", borrowers[1].uscc, paid=3)
    response = _system(Client(), admin).post("/loan-history", {"loans": [good, behind]})
    assert response.status_code == 200, response.content
    numbers = {x["bank_loan_no"]: x["application_no"] for x in response.json()["loans"]}

    for width in WIDTHS:
        j = _login(browser, base, "bank_test", width)
        try:
            page = j.page
            j.shot("workbench")
            book = page.locator("main").inner_text()
            assert "贷款台账" in book and borrowers[1].name in book  # the overdue one, named
            j.menu("贷款申请")
            j.shot("applications")
            listed = page.locator("main").inner_text()
            for number in numbers.values():
                assert number in listed
            assert "None" not in listed
            j.follow(f"main a:has-text('{numbers['HIST-GOOD-1']}')")
            detail = page.locator("main").inner_text()
            assert "存量贷款（历史导入）" in detail
            assert "HIST-GOOD-1" in detail and "已还清" in detail
            assert "None" not in detail
            j.shot("imported-loan")
        finally:
            j.close()
