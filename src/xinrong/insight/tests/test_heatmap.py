"""The heat map: shapes cover every county, figures equal independent SQL, region scoping,
permissions, the 信用创评 import (all errors at once, nothing half-written) and the pages."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from xinrong.common.errors import ApplicationError
from xinrong.enterprises.tests.factories import MarketEntityFactory
from xinrong.insight.models import CampaignRecord
from xinrong.insight.selectors import heatmap as selectors
from xinrong.insight.services.campaigns import HEADERS, import_campaigns
from xinrong.marketplace.models import Loan
from xinrong.reference import divisions
from xinrong.riskfund.tests.factories import _published_product, platform_loan

GEO = Path(__file__).resolve().parent.parent / "static" / "insight" / "geo"


def test_the_shapes_cover_every_county_of_qinghai_once_with_official_names():
    province = json.loads((GEO / "630000.json").read_text("utf-8"))
    prefectures = {d.code: d.name for d in divisions.children("630000")}
    assert {f["properties"]["code"]: f["properties"]["name"] for f in province["features"]} == (
        prefectures
    )
    for code in prefectures:
        shapes = json.loads((GEO / f"{code}.json").read_text("utf-8"))["features"]
        covered = [c for f in shapes for c in f["properties"]["codes"]]
        counties = {d.code: d.name for d in divisions.children(code)}
        assert sorted(covered) == sorted(counties)  # each county exactly once
        for f in shapes:
            assert counties[f["properties"]["code"]] == f["properties"]["name"]
    names = {
        f["properties"]["name"]
        for c in prefectures
        for f in json.loads((GEO / f"{c}.json").read_text("utf-8"))["features"]
    }
    assert {"湟中区", "同仁市", "茫崖市"} <= names
    assert "湟中县" not in names and "同仁县" not in names


@pytest.fixture
def world(make_user):
    officer = make_user("bank", ["loan_officer"])
    product = _published_product(officer, code="HM-1", name="热力测试贷")
    bank = officer.organisation

    def loan(division: str, principal: str, *, first: bool = False) -> Loan:
        return platform_loan(
            bank,
            officer,
            product,
            principal=principal,
            status="current",
            first_loan=first,
            division_code=division,
        )

    loan("630102001001", "100000.00", first=True)  # 西宁 城东区
    loan("630102001001", "250000.50")
    loan("630121100201", "80000.25", first=True)  # 西宁 大通
    loan("632801001001", "300000.00", first=True)  # 海西 格尔木
    loan("632802001001", "120000.00")  # 海西 德令哈
    MarketEntityFactory(division_code="632801100200")
    for code, year, households, villages, townships in (
        ("630121100201", 2025, 120, 1, 0),
        ("630121100", 2025, 0, 0, 1),
        ("632801100200", 2025, 40, 1, 0),
        ("632802100200", 2025, 33, 0, 0),
        ("632801100200", 2024, 10, 0, 0),
    ):
        CampaignRecord.objects.create(
            division_code=code,
            year=year,
            credit_households=households,
            credit_villages=villages,
            credit_townships=townships,
        )
    return officer


def _sql(sql: str, params: list) -> dict[str, tuple]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return {row[0]: tuple(row[1:]) for row in cur.fetchall()}


@pytest.mark.django_db
def test_loan_figures_by_prefecture_are_hand_computed_and_equal_raw_sql(world, operator):
    figures = selectors.metric_figures(operator, "loans", "630000")
    assert figures["630100"] == {"count": 3, "amount": Decimal("430000.75")}
    assert figures["632800"] == {"count": 2, "amount": Decimal("420000.00")}
    raw = _sql(
        "SELECT SUBSTR(e.division_code, 1, 4), COUNT(*), SUM(l.principal) FROM marketplace_loan l "
        "JOIN enterprises_marketentity e ON e.id = l.entity_id WHERE e.division_code LIKE %s "
        "GROUP BY SUBSTR(e.division_code, 1, 4)",
        ["63%"],
    )
    assert {k: (v["count"], v["amount"]) for k, v in figures.items()} == {
        k + "00": (n, Decimal(str(s)).quantize(Decimal("0.01"))) for k, (n, s) in raw.items()
    }
    first = selectors.metric_figures(operator, "first_loans", "630100")
    assert first == {
        "630102": {"count": 1, "amount": Decimal("100000.00")},
        "630121": {"count": 1, "amount": Decimal("80000.25")},
    }


@pytest.mark.django_db
def test_campaign_figures_sum_villages_and_townships_of_the_year(world, operator):
    assert selectors.campaign_year() == 2025
    figures = selectors.metric_figures(operator, "campaigns", "630000", year=2025)
    assert figures["630100"] == {"households": 120, "villages": 1, "townships": 1}
    assert figures["632800"] == {"households": 73, "villages": 1, "townships": 0}
    raw = _sql(
        "SELECT SUBSTR(division_code, 1, 6), SUM(credit_households) FROM "
        "insight_campaignrecord WHERE year = %s AND division_code LIKE %s "
        "GROUP BY SUBSTR(division_code, 1, 6)",
        [2025, "6328%"],
    )
    by_county = selectors.metric_figures(operator, "campaigns", "632800", year=2025)
    assert {k: v["households"] for k, v in by_county.items()} == {k: s for k, (s,) in raw.items()}
    ranked = selectors.ranking(operator, "campaigns", divisions.get("632800"), year=2025)
    assert [r.name for r in ranked.rows[:2]] == ["格尔木市", "德令哈市"]
    assert ranked.totals["households"] == 73
    assert len(ranked.rows) == len(divisions.children("632800"))


@pytest.mark.django_db
def test_a_substation_sees_only_its_region(world, substation_operator):
    level = selectors.level_for(substation_operator, "630000")
    assert level.code == "632801"  # asked for the province, clamped to 格尔木
    assert selectors.level_for(substation_operator, "632802").code == "632801"
    figures = selectors.metric_figures(substation_operator, "loans", "632800")
    assert figures == {"632801": {"count": 1, "amount": Decimal("300000.00")}}
    ranked = selectors.ranking(substation_operator, "entities", level)
    assert all(r.code.startswith("632801") for r in ranked.rows)
    assert sum(r.values["count"] for r in ranked.rows) == 2  # the loan's entity and one more
    assert set(
        CampaignRecord.objects.restrict(substation_operator).values_list("division_code", flat=True)
    ) == {"632801100200"}


@pytest.mark.django_db
def test_who_may_see_the_map_and_import(
    client, world, operator, gov_reviewer, bank_officer, substation_operator
):
    url = reverse("insight:heatmap")
    for user, status in (
        (operator, 200),
        (gov_reviewer, 200),
        (substation_operator, 200),
        (bank_officer, 403),
        (world, 403),
    ):
        client.force_login(user)
        assert client.get(url).status_code == status, user
    client.force_login(bank_officer)
    assert client.get(reverse("insight:campaign_import")).status_code == 403
    assert client.get(reverse("insight:heatmap_export")).status_code == 403
    assert CampaignRecord.objects.restrict(bank_officer).count() == 0


def _xlsx(rows: list[list]) -> io.BytesIO:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    return out


@pytest.mark.django_db
def test_import_reports_every_row_error_and_writes_nothing(operator):
    sheet = _xlsx(
        [
            list(HEADERS),
            ["630121100201", 2025, 120, 1, 0],
            ["999999", 2025, 1, 0, 0],
            ["630121100200", 1990, -3, 2, 1],
            ["630121100201", 2025, 5, 0, 0],
        ]
    )
    with pytest.raises(ApplicationError) as caught:
        import_campaigns(user=operator, fileobj=sheet, filename="a.xlsx")
    errors = caught.value.extra["errors"]
    assert any("第 3 行" in e and "不是青海省的区划" in e for e in errors)
    assert any("第 4 行" in e and "年度" in e for e in errors)
    assert any("第 4 行" in e and "信用户（户）须为不小于 0 的整数" in e for e in errors)
    assert any("第 5 行" in e and "重复" in e for e in errors)
    assert CampaignRecord.objects.count() == 0


@pytest.mark.django_db
def test_import_creates_then_updates(operator, substation_operator):
    rows = [list(HEADERS), ["630121100201", 2025, 120, 1, 0], ["630121100", 2025, 0, 0, 1]]
    result = import_campaigns(user=operator, fileobj=_xlsx(rows), filename="a.xlsx")
    assert (result.created, result.updated) == (2, 0)
    rows[1][2] = 130
    result = import_campaigns(user=operator, fileobj=_xlsx(rows), filename="a.xlsx")
    assert (result.created, result.updated) == (0, 2)
    assert CampaignRecord.objects.get(division_code="630121100201").credit_households == 130
    with pytest.raises(ApplicationError) as caught:
        import_campaigns(user=substation_operator, fileobj=_xlsx(rows), filename="a.xlsx")
    assert "不在本单位管辖地区内" in caught.value.message


@pytest.mark.django_db
def test_pages_show_the_ranked_table_and_export_it(client, world, gov_reviewer):
    client.force_login(gov_reviewer)
    page = client.get(reverse("insight:heatmap") + "?region=632800&metric=loans").content.decode()
    assert "格尔木市" in page and "300,000.00" in page and 'id="heatmap-chart"' in page
    county = client.get(
        reverse("insight:heatmap") + "?region=630121&metric=campaigns"
    ).content.decode()
    assert 'id="heatmap-chart"' not in county and "桥头镇" in county
    export = client.get(reverse("insight:heatmap_export") + "?region=632800&metric=loans")
    ws = load_workbook(io.BytesIO(b"".join(export.streaming_content))).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[1][2] == "格尔木市" and rows[1][3] == 1
    template = client.get(reverse("insight:campaign_template"))
    assert (
        load_workbook(io.BytesIO(b"".join(template.streaming_content))).active["A1"].value
        == "行政区划代码"
    )
    upload = client.post(
        reverse("insight:campaign_import"),
        {"file": _named(_xlsx([list(HEADERS), ["1", "x", "", "", ""]]))},
    )
    assert upload.status_code == 422 and "第 2 行" in upload.content.decode()


def _named(buf: io.BytesIO):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("c.xlsx", buf.getvalue())
