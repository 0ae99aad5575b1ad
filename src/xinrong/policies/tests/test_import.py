"""Excel import of measures: the template round-trips, all row errors at once, all or nothing."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from xinrong.enterprises.models import Tag
from xinrong.policies.models import Measure, MeasureVersion
from xinrong.policies.services import catalogue as svc
from xinrong.policies.services import measure_import as importer

pytestmark = pytest.mark.django_db

HEADERS = [str(c.header) for c in importer.COLUMNS]


@pytest.fixture
def publisher(make_user):
    return make_user("government", ["policy_publisher"], username="pub_imp")


@pytest.fixture
def doc(publisher):
    Tag.objects.create(code="zjtx", name="专精特新")
    return svc.document_create(
        actor=publisher,
        data={
            "title": "青海省促进中小企业发展若干措施",
            "doc_number": "青政办〔2026〕8号",
            "level": "provincial",
            "issued_on": dt.date(2026, 2, 1),
        },
    )


def _xlsx(rows: list[dict[str, str]], headers: list[str] | None = None) -> io.BytesIO:
    wb = Workbook()
    ws = wb.active
    hs = headers or HEADERS
    ws.append(hs)
    for r in rows:
        ws.append([r.get(h, "") for h in hs])
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    return out


GOOD = {
    "文件文号": "青政办〔2026〕8号",
    "措施名称": "专精特新企业奖励",
    "措施类型": "奖励",
    "定额金额（元）": "200000",
    "预算总额（元）": "3000000",
    "申报开始日期": "2026-03-01",
    "申报截止日期": "2026-09-30",
    "申报材料": "申请表、营业执照",
    "主体类型": "企业",
    "企业规模": "中型，小型，微型",
    "行业代码": "c",
    "最低经营年限": "2",
    "最低纳税信用等级": "b",
    "无失信": "是",
    "企业标签": "专精特新",
}


def test_template_has_every_column_and_reads_back(client, publisher):
    client.force_login(publisher)
    r = client.get(reverse("policies:import_template"))
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(b"".join(r.streaming_content)), read_only=True)
    header = [c.value for c in next(wb.worksheets[0].iter_rows(max_row=1))]
    assert [h.rstrip("*") for h in header] == HEADERS
    assert "措施名称*" in header and wb.sheetnames[1] == "填写说明"


def test_good_rows_become_draft_measures_with_conditions(publisher, doc):
    second = {
        **GOOD,
        "文件文号": "",
        "文件标题": doc.title,
        "措施名称": "首贷贴息",
        "措施类型": "贷款贴息",
        "兑现方式": "免申即享",
        "定额金额（元）": "",
        "比例": "0.5",
        "单户上限（元）": "50000",
        "首贷户": "是",
        "企业标签": "",
    }
    result = importer.measure_import(
        actor=publisher, fileobj=_xlsx([GOOD, second]), filename="m.xlsx"
    )
    assert result.ok and result.created == 2
    m1, m2 = Measure.objects.order_by("id")
    assert m1.document == doc and m1.status == "draft" and m1.amount == Decimal("200000.00")
    assert m1.conditions == [
        {"field": "entity_type", "op": "in", "value": ["enterprise"]},
        {"field": "size_class", "op": "in", "value": ["medium", "small", "micro"]},
        {"field": "industry", "op": "in", "value": ["C"]},
        {"field": "years_in_business", "op": ">=", "value": 2},
        {"field": "tax_grade", "op": ">=", "value": "B"},
        {"field": "dishonest", "op": "is", "value": False},
        {"field": "tags", "op": "has_any", "value": ["zjtx"]},
    ]
    assert m2.delivery == "automatic" and m2.ratio == Decimal("0.5")
    assert {"field": "first_loan", "op": "is", "value": True} in m2.conditions
    assert MeasureVersion.objects.filter(note="Excel 导入").count() == 2


def test_every_rows_errors_reported_and_nothing_written(publisher, doc):
    rows = [
        GOOD,
        {**GOOD, "文件文号": "不存在〔2026〕1号", "定额金额（元）": "-5"},
        {**GOOD, "措施名称": "", "措施类型": "红包", "最低纳税信用等级": "Z", "无失信": "也许"},
        {**GOOD, "申报开始日期": "2026-10-01", "申报截止日期": "2026-01-01", "比例": "3"},
    ]
    result = importer.measure_import(actor=publisher, fileobj=_xlsx(rows), filename="m.xlsx")
    assert not result.ok and not Measure.objects.exists()
    got = {(e.row, e.column) for e in result.errors}
    assert got == {
        (3, "文件文号"),
        (3, "定额金额（元）"),
        (4, "措施名称"),
        (4, "措施类型"),
        (4, "最低纳税信用等级"),
        (4, "无失信"),
        (5, "比例"),
        (5, "申报截止日期"),
    }
    by = {(e.row, e.column): e.message for e in result.errors}
    assert "不能为负数" in by[(3, "定额金额（元）")]
    assert "纳税信用等级只能是" in by[(4, "最低纳税信用等级")]


def test_missing_required_column_is_a_file_error(publisher, doc):
    from xinrong.common.errors import ApplicationError

    headers = [h for h in HEADERS if h != "措施名称"]
    with pytest.raises(ApplicationError) as exc:
        importer.measure_import(actor=publisher, fileobj=_xlsx([GOOD], headers), filename="m.xlsx")
    assert "缺少必填列：措施名称" in exc.value.message


def test_reimport_with_code_makes_a_new_version(publisher, doc):
    importer.measure_import(actor=publisher, fileobj=_xlsx([GOOD]), filename="m.xlsx")
    m = Measure.objects.get()
    again = {**GOOD, "措施编号": m.code.lower(), "定额金额（元）": "250000"}
    result = importer.measure_import(actor=publisher, fileobj=_xlsx([again]), filename="m.xlsx")
    assert result.ok and result.updated == 1 and result.created == 0
    m.refresh_from_db()
    assert m.version == 2 and m.amount == Decimal("250000.00")
    same = importer.measure_import(actor=publisher, fileobj=_xlsx([again]), filename="m.xlsx")
    assert same.unchanged == 1


def test_another_departments_code_refused(publisher, doc, make_user):
    importer.measure_import(actor=publisher, fileobj=_xlsx([GOOD]), filename="m.xlsx")
    code = Measure.objects.get().code
    other = make_user("government", ["policy_publisher"], username="pub_other")
    svc.document_create(
        actor=other,
        data={
            "title": "别的文件",
            "doc_number": "青政办〔2026〕8号",
            "level": "provincial",
            "issued_on": dt.date(2026, 2, 1),
        },
    )
    result = importer.measure_import(
        actor=other, fileobj=_xlsx([{**GOOD, "措施编号": code}]), filename="m.xlsx"
    )
    assert [(e.row, e.column) for e in result.errors] == [(2, "措施编号")]


def test_import_page_shows_errors_and_error_file(client, publisher, doc):
    client.force_login(publisher)
    bad = {**GOOD, "措施类型": "红包"}
    upload = SimpleUploadedFile("m.xlsx", _xlsx([GOOD, bad]).read())
    r = client.post(reverse("policies:import"), {"file": upload})
    html = r.content.decode()
    assert r.status_code == 200 and "发现 1 处错误，文件未导入" in html
    assert 'data-row="3"' in html and "措施类型不认识" in html
    token = r.context["token"]
    f = client.get(reverse("policies:import_errors", args=[token]))
    rows = list(load_workbook(io.BytesIO(b"".join(f.streaming_content))).active.values)
    assert rows[0] == ("行号", "列", "问题") and rows[1][:2] == (3, "措施类型")
    upload = SimpleUploadedFile("m.csv", "措施名称,措施类型\n".encode())
    r = client.post(reverse("policies:import"), {"file": upload})
    assert "文件里没有措施行" in r.content.decode()
    upload = SimpleUploadedFile("m.xlsx", _xlsx([GOOD]).read())
    r = client.post(reverse("policies:import"), {"file": upload})
    assert r.status_code == 302 and Measure.objects.count() == 1


def test_import_refused_to_enterprise_and_other_kinds(client, enterprise_user, operator):
    client.force_login(enterprise_user)
    assert client.get(reverse("policies:import")).status_code == 403
    client.force_login(operator)
    upload = SimpleUploadedFile("m.xlsx", _xlsx([GOOD]).read())
    assert client.post(reverse("policies:import"), {"file": upload}).status_code == 403
