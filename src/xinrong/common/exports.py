"""The one Excel/CSV export helper: formula-leading cells become text, rows stream, sizes capped.

Every download the platform builds from stored data (archive export, a batch's error file, the
category templates, any export added later) goes through ``xlsx_response`` or ``csv_response``:

- **Formula injection** (CWE-1236, OWASP "CSV Injection"): a text cell starting with ``=``, ``+``,
  ``-``, ``@``, tab, CR or LF (or their full-width forms, which Chinese input methods type) is
  prefixed with a single quote, and in XLSX it is also written as a string cell, never a
  formula. Numbers, dates and booleans keep their type, so a negative amount stays a number.
- **Bounded memory**: CSV is a ``StreamingHttpResponse`` fed by the caller's row iterator; XLSX
  is written by openpyxl's write-only workbook into an anonymous temporary file that a
  ``FileResponse`` streams and closes (the file vanishes with it).
- **Row limit**: at most ``max_rows`` data rows per sheet (``settings.XINRONG_EXPORT_MAX_ROWS``
  unless given); when rows are left out, a last row says so.

defusedcsv (PyPI) covers CSV only and nothing here needs its csv-module drop-in, so the rule is
written once below for both formats.
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.http import FileResponse, StreamingHttpResponse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
# First characters that make a spreadsheet read a cell as a formula (OWASP list, plus LF and the
# full-width forms).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
DEFAULT_MAX_ROWS = 100_000
_BOLD = Font(bold=True)


@dataclass(frozen=True)
class Styled:
    """A cell value with a style: bold and/or a solid fill colour (RRGGBB)."""

    value: Any
    bold: bool = False
    fill: str = ""


@dataclass(frozen=True)
class Sheet:
    """One worksheet: a bold header row, then the data rows (any iterable, read once)."""

    title: str
    header: Sequence[Any]
    rows: Iterable[Sequence[Any]]
    widths: Sequence[float] = field(default_factory=tuple)  # column widths, in characters
    freeze_header: bool = False


def safe_cell(value: Any) -> Any:
    """Return a value safe to put in a spreadsheet cell: formula-leading text gets a ``'``."""
    if isinstance(value, Promise):
        value = str(value)
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_PREFIXES) else value
    if value is None or isinstance(value, bool | int | float | Decimal | dt.date | dt.datetime):
        return value
    return safe_cell(str(value))


def _limit(max_rows: int | None) -> int:
    if max_rows is not None:
        return max_rows
    return int(getattr(settings, "XINRONG_EXPORT_MAX_ROWS", DEFAULT_MAX_ROWS))


def _truncated_note(limit: int) -> str:
    return _("……仅导出前 %(n)d 行，其余未导出") % {"n": limit}


def _bounded(rows: Iterable[Sequence[Any]], limit: int) -> Iterator[Sequence[Any]]:
    """Yield at most ``limit`` rows, then a note row when there were more."""
    for i, row in enumerate(rows):
        if i >= limit:
            yield [_truncated_note(limit)]
            return
        yield row


def content_disposition(filename: str, fallback: str = "") -> str:
    """Return an attachment header whose file name may be Chinese (RFC 6266 / RFC 5987)."""
    safe = filename.replace("/", "_").replace("\\", "_").replace("\r", "").replace("\n", "")
    ascii_name = (fallback or safe).encode("ascii", "ignore").decode().replace('"', "")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(safe, safe='')}"


# ---------------------------------------------------------------- CSV


class _Echo:
    """A file-like object whose ``write`` returns the line, for csv.writer in a generator."""

    def write(self, value: str) -> str:
        return value


def _csv_text(value: Any) -> str:
    value = safe_cell(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def csv_lines(
    header: Sequence[Any], rows: Iterable[Sequence[Any]], *, max_rows: int | None = None
) -> Iterator[bytes]:
    """Yield a CSV file as UTF-8 lines, the first with a BOM (so Excel reads Chinese)."""
    writer = csv.writer(_Echo())
    yield b"\xef\xbb\xbf" + writer.writerow([_csv_text(v) for v in header]).encode("utf-8")
    for row in _bounded(rows, _limit(max_rows)):
        yield writer.writerow([_csv_text(v) for v in row]).encode("utf-8")


def csv_response(
    header: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    *,
    filename: str,
    fallback: str = "",
    max_rows: int | None = None,
) -> StreamingHttpResponse:
    """Return a streamed CSV download of the rows (formula-leading cells escaped)."""
    response = StreamingHttpResponse(
        csv_lines(header, rows, max_rows=max_rows), content_type=CSV_CONTENT_TYPE
    )
    response["Content-Disposition"] = content_disposition(filename, fallback)
    response["Cache-Control"] = "private, no-store"
    return response


# ---------------------------------------------------------------- XLSX


def _xlsx_cell(ws: Any, value: Any, *, bold: bool = False, fill: str = "") -> WriteOnlyCell:
    if isinstance(value, Styled):
        return _xlsx_cell(ws, value.value, bold=value.bold or bold, fill=value.fill or fill)
    value = safe_cell(value)
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # text, whatever it looks like: never a formula
    if bold:
        cell.font = _BOLD
    if fill:
        cell.fill = PatternFill("solid", fgColor=fill)
    return cell


def xlsx_file(sheets: Iterable[Sheet], *, max_rows: int | None = None) -> Any:
    """Write the sheets into an anonymous temporary file; return it open at its start."""
    limit = _limit(max_rows)
    wb = Workbook(write_only=True)
    for sheet in sheets:
        ws = wb.create_sheet(ILLEGAL_CHARACTERS_RE.sub("", str(sheet.title))[:31] or "Sheet")
        for i, width in enumerate(sheet.widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = width
        if sheet.freeze_header:
            ws.freeze_panes = "A2"
        if sheet.header:
            ws.append([_xlsx_cell(ws, v, bold=True) for v in sheet.header])
        for row in _bounded(sheet.rows, limit):
            ws.append([_xlsx_cell(ws, v) for v in row])
    if not wb.worksheets:
        wb.create_sheet("Sheet")
    out = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - FileResponse closes it
    try:
        wb.save(out)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out


def xlsx_response(
    sheets: Iterable[Sheet], *, filename: str, fallback: str = "", max_rows: int | None = None
) -> FileResponse:
    """Return an Excel download of the sheets, streamed from a temporary file."""
    out = xlsx_file(sheets, max_rows=max_rows)
    response = FileResponse(out, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition(filename, fallback)
    response["Cache-Control"] = "private, no-store"
    return response
