"""Read delivered files row by row and validate each row against its category's fields."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import IO, Any

from django.utils.translation import gettext as _

from xinrong.datahub.categories import (
    BOOL,
    CHOICE,
    DATE,
    DECIMAL,
    INT,
    PERIOD,
    CategorySpec,
    FieldSpec,
)
from xinrong.reference import uscc as uscc_codec
from xinrong.reference.errors import ReferenceDataError

RETENTION_YEARS = 5  # 征信业管理条例 第十六条
_TRUE = {"是", "y", "yes", "true", "1", "t"}
_FALSE = {"否", "n", "no", "false", "0", "f", ""}
_PERIOD = re.compile(r"^(\d{4})(?:[-/.年]?(\d{1,2})月?)?$")
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$|^(\d{4})(\d{2})(\d{2})$")


class FileFormatError(ValueError):
    """The file cannot be read as CSV or XLSX with the category's headers."""


@dataclass
class ParsedRow:
    """A validated row: typed values, Fact columns, and the errors if any."""

    number: int
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # (header, value, rule)

    @property
    def ok(self) -> bool:
        return not self.errors


def header_map(spec: CategorySpec, headers: list[str]) -> dict[int, FieldSpec]:
    """Map column positions to fields by Chinese header (or field key); reject unknown layouts."""
    by_label: dict[str, FieldSpec] = {}
    for f in spec.all_fields:
        by_label[f.header] = f
        by_label[_(f.header)] = f
        by_label[f.key] = f
    mapping: dict[int, FieldSpec] = {}
    for i, h in enumerate(headers):
        key = (h or "").strip().rstrip("*").strip()
        if key in by_label:
            mapping[i] = by_label[key]
    missing = [f for f in spec.all_fields if f.required and f not in mapping.values()]
    if missing:
        raise FileFormatError(
            _("缺少必填列：%(cols)s（请使用“%(cat)s”模板）")
            % {"cols": "、".join(_(f.header) for f in missing), "cat": _(spec.name)}
        )
    if not any(f.key in ("uscc", "name") for f in mapping.values()):
        raise FileFormatError(_("缺少“统一社会信用代码”或“主体名称”列"))
    return mapping


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def iter_table(fileobj: IO[bytes], filename: str) -> Iterator[list[str]]:
    """Yield rows of cells (as text) from an XLSX or CSV file, streaming."""
    name = filename.lower()
    if name.endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            wb = load_workbook(fileobj, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a damaged file
            raise FileFormatError(_("无法读取 Excel 文件：%(e)s") % {"e": exc}) from exc
        ws = wb.worksheets[0]
        for row in ws.iter_rows(values_only=True):
            yield [_cell(v) for v in row]
        wb.close()
        return
    if name.endswith(".csv") or name.endswith(".txt") or not name:
        head = fileobj.read(4096)
        fileobj.seek(0)
        encoding = "utf-8-sig"
        try:
            head.decode("utf-8")
        except UnicodeDecodeError:
            encoding = "gb18030"  # departments' Excel often saves CSV in GBK
        text = io.TextIOWrapper(fileobj, encoding=encoding, newline="")
        try:
            for row in csv.reader(text):
                yield [c.strip() for c in row]
        except UnicodeDecodeError as exc:
            raise FileFormatError(_("文件编码无法识别：请保存为 UTF-8 或 GBK 编码的 CSV")) from exc
        finally:
            with contextlib.suppress(ValueError):  # already closed by its owner
                text.detach()  # the caller owns (and closes) the binary file
        return
    raise FileFormatError(_("只接受 .xlsx 或 .csv 文件"))


def _parse_date(text: str) -> dt.date:
    m = _DATE.match(text)
    if not m:
        raise ValueError
    y, mo, d = (m.group(1), m.group(2), m.group(3)) if m.group(1) else m.group(4, 5, 6)
    return dt.date(int(y), int(mo), int(d))


def _parse_period(text: str) -> str:
    m = _PERIOD.match(text)
    if not m:
        raise ValueError
    year, month = int(m.group(1)), m.group(2)
    if not 1990 <= year <= 2100:
        raise ValueError
    if month is None:
        return f"{year:04d}"
    if not 1 <= int(month) <= 12:
        raise ValueError
    return f"{year:04d}-{int(month):02d}"


def period_end(period: str) -> dt.date:
    """Return the last day of a "YYYY" or "YYYY-MM" period."""
    if len(period) == 4:
        return dt.date(int(period), 12, 31)
    y, m = int(period[:4]), int(period[5:7])
    nxt = dt.date(y + (m == 12), m % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def parse_field(spec: FieldSpec, text: str) -> Any:
    """Return the typed value of one cell; raise ValueError with the rule broken."""
    if spec.kind == DECIMAL:
        cleaned = text.replace(",", "").replace("，", "").replace("¥", "").replace("￥", "")
        try:
            value = Decimal(cleaned)
        except InvalidOperation:
            raise ValueError(_("应为数字")) from None
        if not value.is_finite() or value < 0:
            raise ValueError(_("应为不小于0的数字"))
        if value >= Decimal("1e14"):
            raise ValueError(_("数值过大"))
        return value.quantize(Decimal("0.01"))
    if spec.kind == INT:
        if not re.fullmatch(r"\d{1,9}", text):
            raise ValueError(_("应为不小于0的整数"))
        return int(text)
    if spec.kind == DATE:
        try:
            day = _parse_date(text)
        except ValueError:
            raise ValueError(_("应为日期，格式 YYYY-MM-DD")) from None
        if not dt.date(1949, 10, 1) <= day <= dt.date.today() + dt.timedelta(days=3660):
            raise ValueError(_("日期超出合理范围"))
        return day
    if spec.kind == PERIOD:
        try:
            return _parse_period(text)
        except ValueError:
            raise ValueError(_("应为所属期，格式 YYYY 或 YYYY-MM")) from None
    if spec.kind == CHOICE:
        if text in spec.choices:
            return text
        lowered = {c.lower(): c for c in spec.choices}
        if text.lower() in lowered:
            return lowered[text.lower()]
        raise ValueError(_("只能是：%(c)s") % {"c": " / ".join(spec.choices)})
    if spec.kind == BOOL:
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise ValueError(_("应为“是”或“否”"))
    if len(text) > spec.max_length:
        raise ValueError(_("长度不能超过%(n)d个字符") % {"n": spec.max_length})
    return text


@lru_cache(maxsize=200_000)
def _uscc_code(text: str) -> str:
    """Return the normalised code of a valid USCC (cached: a file repeats its entities)."""
    return uscc_codec.parse(text).code


def validate_row(spec: CategorySpec, number: int, raw: dict[str, str]) -> ParsedRow:
    """Validate one row; every error names the column, the value and the rule."""
    row = ParsedRow(number=number)
    for f in spec.all_fields:
        text = raw.get(f.key, "")
        if text == "":
            if f.required:
                row.errors.append((_(f.header), "", _("必填")))
            continue
        if f.key == "uscc":
            try:
                row.values["uscc"] = _uscc_code(text)
            except ReferenceDataError as exc:
                row.errors.append((_(f.header), text, str(exc.message)))
            continue
        try:
            row.values[f.key] = parse_field(f, text)
        except ValueError as exc:
            row.errors.append((_(f.header), text[:255], str(exc)))
    if not raw.get("uscc") and not raw.get("name"):
        row.errors.append((_("统一社会信用代码"), "", _("统一社会信用代码与主体名称至少填写一项")))
    return row


def fact_columns(spec: CategorySpec, values: dict[str, Any]) -> dict[str, Any]:
    """Return the typed Fact columns for validated values, with negativity and retention."""
    cols: dict[str, Any] = {}
    for f in spec.fields:
        if f.column and f.key in values:
            cols[f.column] = values[f.key]
    negative = (
        spec.always_negative
        or any(bool(values.get(k)) for k in spec.negative_when)
        or any(values.get(k) in vals for k, vals in spec.negative_values.items())
    )
    cols["negative"] = negative
    if negative:
        end = cols.get("behaviour_end") or cols.get("occurred_on")
        if end is None and cols.get("period"):
            end = period_end(cols["period"])
        cols["retention_until"] = _add_years(end or dt.date.today(), RETENTION_YEARS)
    return cols


def row_hash(category: str, values: dict[str, Any]) -> str:
    """Return a digest identifying the row's content (same content → same digest)."""
    parts = [category] + [f"{k}={values[k]}" for k in sorted(values)]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def file_hash(fileobj: IO[bytes]) -> str:
    """Return the SHA-256 of a file's content, reading it in blocks."""
    digest = hashlib.sha256()
    fileobj.seek(0)
    for block in iter(lambda: fileobj.read(1 << 20), b""):
        digest.update(block)
    fileobj.seek(0)
    return digest.hexdigest()


def json_ready(values: dict[str, Any]) -> dict[str, str]:
    """Return values as JSON-safe strings for the Fact's raw data."""
    return {k: (v.isoformat() if isinstance(v, dt.date) else str(v)) for k, v in values.items()}
