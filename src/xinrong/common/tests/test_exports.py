"""The one export helper: formula-leading cells are text, CSV streams with a BOM, XLSX is a file."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.http import FileResponse, StreamingHttpResponse
from openpyxl import load_workbook

from xinrong.common import exports

DANGEROUS = ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1", '=HYPERLINK("http://x","y")']


@pytest.mark.parametrize("value", DANGEROUS)
def test_formula_leading_text_is_prefixed_with_a_quote(value):
    assert exports.safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["企业", "1+1", "a=b", "", "'=already"])
def test_ordinary_text_is_unchanged(value):
    assert exports.safe_cell(value) == value


def test_numbers_and_dates_stay_typed():
    day = dt.date(2024, 6, 1)
    assert exports.safe_cell(-5) == -5
    assert exports.safe_cell(Decimal("-1.50")) == Decimal("-1.50")
    assert exports.safe_cell(day) == day
    assert exports.safe_cell(None) is None


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_csv_streams_utf8_with_bom_and_escapes_formulas():
    rows = (["企业" if i % 2 else "=cmd|' /C calc'!A0", i] for i in range(3))
    response = exports.csv_response(["名称", "序号"], rows, filename="导出.csv", fallback="e.csv")
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"].startswith("text/csv")
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    body = _body(response)
    assert body.startswith(b"\xef\xbb\xbf")
    lines = body.decode("utf-8-sig").splitlines()
    assert lines[0] == "名称,序号"
    assert lines[1] == "'=cmd|' /C calc'!A0,0"
    assert lines[2] == "企业,1"


def test_csv_stops_at_the_row_limit_and_says_so():
    response = exports.csv_response(["n"], ([i] for i in range(100)), filename="a.csv", max_rows=10)
    lines = _body(response).decode("utf-8-sig").splitlines()
    assert len(lines) == 1 + 10 + 1
    assert "仅导出前 10 行" in lines[-1]


def _xlsx(response):
    assert isinstance(response, FileResponse)
    return load_workbook(io.BytesIO(_body(response)))


def test_xlsx_writes_formula_like_text_as_string_cells():
    sheet = exports.Sheet(title="错误行", header=["值"], rows=[[v] for v in DANGEROUS])
    ws = _xlsx(exports.xlsx_response([sheet], filename="e.xlsx")).worksheets[0]
    cells = [row[0] for row in ws.iter_rows(min_row=2)]
    # Depending on the XML parser a stored CR reads back as CR or LF; what matters is the quote
    # and the string type
    read = [c.value.replace("\r", "\n") for c in cells]
    assert read == ["'" + v.replace("\r", "\n") for v in DANGEROUS]
    assert {c.data_type for c in cells} == {"s"}


def test_xlsx_drops_characters_excel_cannot_hold_instead_of_failing():
    sheet = exports.Sheet(title="s", header=["值"], rows=[["a\x00b\x07c"]])
    ws = _xlsx(exports.xlsx_response([sheet], filename="e.xlsx")).worksheets[0]
    assert ws.cell(2, 1).value == "abc"


def test_xlsx_stops_at_the_row_limit_and_says_so():
    sheet = exports.Sheet(title="s", header=["n"], rows=([i] for i in range(50)))
    ws = _xlsx(exports.xlsx_response([sheet], filename="e.xlsx", max_rows=5)).worksheets[0]
    values = [r[0] for r in ws.iter_rows(values_only=True)]
    assert values[:6] == ["n", 0, 1, 2, 3, 4]
    assert "仅导出前 5 行" in values[-1]


def test_xlsx_rows_are_consumed_lazily():
    """Rows come from a generator and are written as they come (write-only workbook)."""
    consumed = []

    def rows():
        for i in range(3):
            consumed.append(i)
            yield [i]

    response = exports.xlsx_response([exports.Sheet("s", ["n"], rows())], filename="e.xlsx")
    assert consumed == [0, 1, 2]
    assert _xlsx(response).worksheets[0].max_row == 4
