"""The batch page lists refused and unresolved rows; the error file can be fixed and re-uploaded."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from xinrong.datahub.models import Fact
from xinrong.datahub.tests.test_pipeline import TAX_HEADERS
from xinrong.enterprises.tests.factories import MarketEntityFactory

pytestmark = pytest.mark.django_db


def _xlsx(headers: list[str], rows: list[list[object]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _upload(client, source, content: bytes, name: str) -> int:
    response = client.post(
        reverse("datahub:home"),
        {"source": source.pk, "category": "tax", "file": SimpleUploadedFile(name, content)},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return int(response.url.rstrip("/").split("/")[-1])


def test_error_file_holds_the_rows_and_is_accepted_once_fixed(client, tax_source):
    a, b = MarketEntityFactory(), MarketEntityFactory()
    client.force_login(tax_source.provider)
    batch_id = _upload(
        client,
        tax_source,
        _xlsx(
            TAX_HEADERS,
            [
                [a.uscc, "", "2024-06", 100, "A", 0],  # good
                [a.uscc, "", "2024-99", 1234.5, "A", 0],  # bad period
                [b.uscc, "", "2024-07", "-5", "Z", 12.25],  # bad amount and grade
            ],
        ),
        "tax.xlsx",
    )
    page = client.get(reverse("datahub:batch_detail", args=[batch_id])).content.decode()
    # the refused rows on the page: row, field, the rule in Chinese, the value sent
    assert 'id="rejected-rows"' in page
    assert "2024-99" in page and "所属期" in page
    assert "实缴税额（元）" in page and "-5" in page

    response = client.get(reverse("datahub:batch_errors", args=[batch_id]))
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    ws = book.worksheets[0]
    headers = [c.value for c in ws[1]]
    assert headers[-2:] == ["错误说明", "原行号"]
    lines = [dict(zip(headers, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)]
    assert [line["原行号"] for line in lines] == [3, 4]
    first, second = lines
    assert first["统一社会信用代码"] == a.uscc and first["所属期*"] == "2024-99"
    assert isinstance(first["实缴税额（元）*"], int | float)  # a number, not text
    assert first["实缴税额（元）*"] == 1234.5
    assert "所属期：" in first["错误说明"]
    assert "实缴税额（元）：" in second["错误说明"] and "纳税信用等级：" in second["错误说明"]
    assert second["欠税金额（元）"] == 12.25

    # the clerk fixes the cells and uploads the same file again
    col = {h: i + 1 for i, h in enumerate(headers)}
    ws.cell(2, col["所属期*"]).value = "2024-08"
    ws.cell(3, col["实缴税额（元）*"]).value = 5
    ws.cell(3, col["纳税信用等级"]).value = "B"
    buf = io.BytesIO()
    book.save(buf)
    again = _upload(client, tax_source, buf.getvalue(), "tax-fixed.xlsx")
    page = client.get(reverse("datahub:batch_detail", args=[again])).content.decode()
    assert 'data-stat="accepted">2<' in page and 'data-stat="rejected">0<' in page
    fact = Fact.objects.get(batch_id=again, entity=a)
    assert (fact.period, fact.amount) == ("2024-08", Decimal("1234.50"))


def test_unresolved_rows_are_listed_on_the_batch_page(client, tax_source):
    client.force_login(tax_source.provider)
    batch_id = _upload(
        client,
        tax_source,
        _xlsx(TAX_HEADERS, [["", "查无此名的小店", "2024-06", 100, "A", 0]]),
        "tax.xlsx",
    )
    page = client.get(reverse("datahub:batch_detail", args=[batch_id])).content.decode()
    assert 'id="unresolved-rows"' in page
    assert "查无此名的小店" in page and "待关联" in page
