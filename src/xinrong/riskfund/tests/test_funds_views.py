"""Fund pages: the hub, setting up a fund, the fund page with finance's forms, the ledger with
its filters and Excel export, reversal; scoping and bad input through the real pages."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from xinrong.riskfund.choices import EntryKind
from xinrong.riskfund.models import Fund, LedgerEntry
from xinrong.riskfund.services import ledger
from xinrong.riskfund.tests.factories import fund_world

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_hub_lists_the_funds_with_figures_and_scopes_a_substation(make_user):
    province = fund_world(make_user, balance="1000000.00")
    golmud = fund_world(make_user, balance="250000.00", division_code="632801")
    central = _client(make_user("operator", ["operator_admin"]))
    page = central.get("/riskfund/").content.decode()
    assert f'data-fund="{province.fund.code}"' in page and f'data-fund="{golmud.fund.code}"' in page
    assert "1,250,000.00" in page  # the balance over both funds
    assert 'id="fund-new"' in page
    station = _client(make_user("substation", ["operator_admin"], region_code="632801"))
    page = station.get("/riskfund/").content.decode()
    assert f'data-fund="{golmud.fund.code}"' in page
    assert f'data-fund="{province.fund.code}"' not in page
    assert station.get(f"/riskfund/funds/{province.fund.code}/").status_code == 404
    assert station.get(f"/riskfund/funds/{province.fund.code}/ledger/").status_code == 404
    assert station.get(f"/riskfund/funds/{province.fund.code}/ledger/export/").status_code == 404
    assert station.get(f"/riskfund/funds/{golmud.fund.code}/").status_code == 200


def test_hub_empty_state_and_who_is_turned_away(make_user, enterprise_user):
    operator = _client(make_user("operator", ["operator_admin"]))
    page = operator.get("/riskfund/").content.decode()
    assert 'data-empty="funds"' in page and "暂无风险补偿基金" in page
    assert _client(enterprise_user).get("/riskfund/").status_code == 403
    w = fund_world(make_user)
    officer = _client(w.officer)
    assert officer.get(f"/riskfund/funds/{w.fund.code}/").status_code == 404
    assert officer.get("/riskfund/funds/new/").status_code == 403


def test_setting_up_a_fund_shows_every_error_at_once_then_creates_it(make_user):
    w = fund_world(make_user)
    office = _client(w.office)
    assert "设立风险补偿基金" in office.get("/riskfund/funds/new/").content.decode()
    bad = office.post(
        "/riskfund/funds/new/",
        {
            "code": "new",
            "name": "",
            "level": "province",
            "division_code": "632801",
            "manager": str(w.officer.organisation_id),
            "office": "",
            "yearly_injection": "abc",
            "opened_on": "2026-13-01",
        },
    )
    body = bad.content.decode()
    assert bad.status_code == 422
    for words in ("请填写基金名称", "请选择受理机构", "年度计划注资", "请输入有效日期"):
        assert words in body, words
    assert Fund.objects.count() == 1
    # the form is valid, the service finds the rest (all at once)
    bad = office.post(
        "/riskfund/funds/new/",
        {
            "code": "new",
            "name": "测试基金",
            "level": "province",
            "division_code": "632801",
            "manager": str(w.finance.organisation_id),
            "office": str(w.office.organisation_id),
            "opened_on": "2024-01-01",
        },
    )
    body = bad.content.decode()
    assert bad.status_code == 422
    assert "系统保留字" in body and "省级基金覆盖全省" in body
    ok = office.post(
        "/riskfund/funds/new/",
        {
            "code": "haixi",
            "name": "海西州小微企业信用贷款风险补偿基金",
            "level": "city",
            "division_code": "632800",
            "manager": str(w.finance.organisation_id),
            "office": str(w.office.organisation_id),
            "yearly_injection": "5000000",
            "opened_on": "2024-01-01",
        },
    )
    assert ok.status_code == 302 and ok.url == "/riskfund/funds/haixi/"
    fund = Fund.objects.get(code="haixi")
    assert fund.division_code == "6328" and fund.level == "city"
    page = office.get(ok.url).content.decode()
    assert "海西" in page and 'data-empty="history"' in page and 'data-empty="rules"' in page


def test_finance_injects_and_adjusts_on_the_fund_page(make_user):
    w = fund_world(make_user, balance="0")
    fin = _client(w.finance)
    url = f"/riskfund/funds/{w.fund.code}/"
    page = fin.get(url).content.decode()
    assert 'id="inject-form"' in page and 'id="adjust-form"' in page
    assert 'id="inject-form"' not in _client(w.office).get(url).content.decode()
    bad = fin.post(
        url + "inject/",
        {"amount": "-5", "value_date": (timezone.localdate() + dt.timedelta(days=2)).isoformat()},
    )
    assert bad.status_code == 422
    body = bad.content.decode()
    assert "注资金额" in body and "不能小于" in body
    assert 'id="inject-panel" open' in body
    ok = fin.post(url + "inject/", {"amount": "3000000", "voucher_no": "GK-1", "memo": "首期注资"})
    assert ok.status_code == 302
    twice = fin.post(url + "inject/", {"amount": "3000000", "voucher_no": "GK-1"})
    assert twice.status_code == 409 and "请勿重复登记" in twice.content.decode()
    overdraft = fin.post(
        url + "adjust/", {"direction": "out", "amount": "3000000.01", "memo": "手续费"}
    )
    assert overdraft.status_code == 409 and "不足以支付" in overdraft.content.decode()
    no_reason = fin.post(url + "adjust/", {"direction": "out", "amount": "10"})
    assert no_reason.status_code == 422 and "请填写调整原因" in no_reason.content.decode()
    assert (
        fin.post(
            url + "adjust/", {"direction": "out", "amount": "10", "memo": "手续费"}
        ).status_code
        == 302
    )
    assert ledger.fund_balance(w.fund) == Decimal("2999990.00")
    page = fin.get(url).content.decode()
    assert 'id="chart-balance"' in page and 'id="data-fund-balance"' in page
    assert "2,999,990.00" in page and "首期注资" in page
    # the office may not post; an officer does not even see the fund
    assert _client(w.office).post(url + "inject/", {"amount": "1"}).status_code == 403
    assert _client(w.officer).post(url + "inject/", {"amount": "1"}).status_code == 404
    assert LedgerEntry.objects.filter(fund=w.fund).count() == 2


def test_ledger_filters_totals_lines_and_balance_after(make_user):
    w = fund_world(make_user, balance="1000.00")
    ledger.injection_post(fund=w.fund, amount="500.00", actor=w.finance, memo="第二期注资")
    ledger.adjustment_post(
        fund=w.fund, amount="12.34", into_fund=False, memo="银行手续费", actor=w.finance
    )
    office = _client(w.office)
    url = f"/riskfund/funds/{w.fund.code}/ledger/"
    page = office.get(url).content.decode()
    assert page.count("data-entry=") == 3
    assert "借 资金专户" in page and "贷 财政注资" in page and "借 调整" in page
    assert "1,487.66" in page  # balance after the last entry
    assert "1,500.00" in page and "12.34" in page  # totals in and out
    page = office.get(url, {"kind": "adjustment"}).content.decode()
    assert page.count("data-entry=") == 1 and "银行手续费" in page
    page = office.get(url, {"q": "第二期"}).content.decode()
    assert page.count("data-entry=") == 1
    page = office.get(url, {"q": "不存在的摘要"}).content.decode()
    assert "没有符合条件的台账凭证" in page
    bad = office.get(url, {"date_from": "2026-02-30", "date_to": "x"})
    assert bad.status_code == 200 and "请输入有效日期" in bad.content.decode()
    page = office.get(url, {"date_from": "2026-05-01", "date_to": "2026-01-01"}).content.decode()
    assert "开始日期不能晚于结束日期" in page
    # finance sees a reversal button for injections and adjustments only
    fin_page = _client(w.finance).get(url).content.decode()
    assert fin_page.count("data-reverse=") == 3
    assert "data-reverse=" not in page


def test_ledger_export_reads_back_with_numbers_and_dates(make_user):
    w = fund_world(make_user, balance="1000.00")
    ledger.adjustment_post(
        fund=w.fund, amount="0.25", into_fund=True, memo="专户利息", actor=w.finance
    )
    office = _client(w.office)
    response = office.get(f"/riskfund/funds/{w.fund.code}/ledger/export/", {"kind": "adjustment"})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book.active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert header[:7] == (
        "凭证号",
        "记账日期",
        "类型",
        "摘要",
        "外部凭证号",
        "流入（元）",
        "流出（元）",
    )
    assert len(rows) == 2
    row = dict(zip(header, rows[1], strict=True))
    assert row["类型"] == "调整" and row["摘要"] == "专户利息"
    assert isinstance(row["流入（元）"], int | float) and Decimal(
        str(row["流入（元）"])
    ) == Decimal("0.25")
    assert isinstance(row["记账日期"], dt.datetime | dt.date)
    assert "借 资金专户 0.25" in row["借贷分录"] and row["是否已冲销"] == "否"


def test_reversing_an_entry_through_the_page(make_user):
    w = fund_world(make_user, balance="800.00")
    entry = LedgerEntry.objects.get(fund=w.fund, kind=EntryKind.INJECTION)
    fin = _client(w.finance)
    url = f"/riskfund/entries/{entry.pk}/reverse/"
    assert 'id="reverse-form"' in fin.get(url).content.decode()
    assert _client(w.office).get(url).status_code == 403
    station = make_user("substation", ["operator_admin"], region_code="632801")
    assert _client(station).get(url).status_code == 404
    empty = fin.post(url, {"memo": ""})
    assert empty.status_code == 422 and "请填写冲销原因" in empty.content.decode()
    done = fin.post(url, {"memo": "金额录错"})
    assert done.status_code == 302 and done.url == f"/riskfund/funds/{w.fund.code}/ledger/"
    assert ledger.fund_balance(w.fund) == Decimal("0.00")
    mirror = LedgerEntry.objects.get(reverses=entry)
    assert "金额录错" in mirror.memo
    again = fin.post(url, {"memo": "再来"})
    assert again.status_code == 409 and "已经冲销过" in again.content.decode()
    page = fin.get(f"/riskfund/funds/{w.fund.code}/ledger/").content.decode()
    assert "data-reversed" in page and "data-reverse=" not in page
    mirror_page = fin.get(f"/riskfund/entries/{mirror.pk}/reverse/").content.decode()
    assert 'id="not-reversible"' in mirror_page and 'id="reverse-form"' not in mirror_page
