"""Read delivered files and parse single cells by their field's rules.

The column-wise pipeline (``datahub.columnar``) falls back to ``parse_field`` for every cell its
vectorised rules cannot settle, so this is the one place a cell's rule is written down.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import hashlib
import io
import re
import zipfile
import zlib
from collections.abc import Generator
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import IO, Any

from django.utils import timezone
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

RETENTION_YEARS = 5  # 征信业管理条例 第十六条
TRUE_WORDS = {"是", "y", "yes", "true", "1", "t"}
FALSE_WORDS = {"否", "n", "no", "false", "0", "f", ""}
_PERIOD = re.compile(r"^(\d{4})(?:[-/.年]?(\d{1,2})月?)?$")
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$|^(\d{4})(\d{2})(\d{2})$")


class FileFormatError(ValueError):
    """The file cannot be read as CSV or XLSX with the category's headers."""

    code = "file_format"
    status = 422


class FileTooLargeError(FileFormatError):
    """The file is beyond a bound of a delivery (uncompressed size, number of rows)."""

    code = "file_too_large"
    status = 413


class TooManyRowsError(FileTooLargeError):
    """The file has more rows than one batch may hold."""

    code = "too_many_rows"


_ZIP_MEMBERS_MAX = 10_000  # an XLSX has a few dozen parts; thousands are an attack
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError)


def xlsx_uncompressed_size(fileobj: IO[bytes], *, limit: int) -> int:
    """Return the bytes an XLSX expands to; refuse one beyond ``limit`` before parsing any XML.

    The declared sizes in the zip directory are checked first (cheap), then every member is
    decompressed in blocks and counted, stopping as soon as ``limit`` is passed: a zip bomb
    whose directory lies is caught by the count (and by the CRC check at each member's end),
    and nothing is held in memory but one block.
    """
    from xinrong.datahub.limits import size_text

    def too_large(size: int) -> FileTooLargeError:
        return FileTooLargeError(
            _(
                "文件（file）不符合大小限制：Excel 文件解压后不能超过 %(limit)s，"
                "该文件解压后至少 %(size)s；请拆分文件或改用 CSV 报送"
            )
            % {"limit": size_text(limit), "size": size_text(size)}
        )

    fileobj.seek(0)
    try:
        with zipfile.ZipFile(fileobj) as zf:
            members = zf.infolist()
            if len(members) > _ZIP_MEMBERS_MAX:
                raise FileFormatError(
                    _("无法读取 Excel 文件：压缩包内有 %(n)d 个文件，不是正常的 .xlsx")
                    % {"n": len(members)}
                )
            declared = sum(m.file_size for m in members)
            if declared > limit:
                raise too_large(declared)
            actual = 0
            for member in members:
                with zf.open(member) as part:
                    while block := part.read(1 << 20):
                        actual += len(block)
                        if actual > limit:
                            raise too_large(actual)
    except FileFormatError:
        raise
    except _ZIP_ERRORS as exc:
        raise FileFormatError(
            _("无法读取 Excel 文件：文件已损坏，或压缩内容与其声明的大小不符（%(e)s）") % {"e": exc}
        ) from exc
    finally:
        fileobj.seek(0)
    return actual


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


def iter_table(fileobj: IO[bytes], filename: str) -> Generator[list[str], None, None]:
    """Yield rows of cells (as text) from an XLSX or CSV file, streaming."""
    name = filename.lower()
    if name.endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            wb = load_workbook(fileobj, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a damaged file
            raise FileFormatError(_("无法读取 Excel 文件：%(e)s") % {"e": exc}) from exc
        try:
            ws = wb.worksheets[0]
            for row in ws.iter_rows(values_only=True):
                yield [_cell(v) for v in row]
        except _ZIP_ERRORS as exc:  # a part that fails its CRC or size while being read
            raise FileFormatError(_("无法读取 Excel 文件：%(e)s") % {"e": exc}) from exc
        finally:
            wb.close()
        return
    if name.endswith(".csv") or name.endswith(".txt") or not name:
        encoding = "utf-8-sig" if csv_encoding(fileobj) == "utf-8" else "gb18030"
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


def csv_encoding(fileobj: IO[bytes], sample: int = 65_536) -> str:
    """Return "utf-8" or "gb18030" (departments' Excel often saves CSV in GBK) from the start.

    The sample is decoded incrementally, so a multi-byte character cut by its end is no error.
    """
    head = fileobj.read(sample)
    fileobj.seek(0)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


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


def current_period() -> str:
    """Return the current month as a period ("YYYY-MM", Beijing time): the latest allowed."""
    today = timezone.localdate()
    return f"{today.year:04d}-{today.month:02d}"


INT_MAX = 999_999_999  # counts (employees, insured people…): nine digits


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
        if not re.fullmatch(r"\d+", text):
            raise ValueError(_("应为不小于0的整数"))
        if len(text.lstrip("0")) > len(str(INT_MAX)) or int(text) > INT_MAX:
            # a whole number, only too large: say the largest, not "不小于0的整数"
            raise ValueError(_("不能超过 %(max)s") % {"max": f"{INT_MAX:,}"})
        return int(text)
    if spec.kind == DATE:
        try:
            day = _parse_date(text)
        except ValueError:
            raise ValueError(_("应为日期，如 2024-06-30")) from None
        today = timezone.localdate()
        if spec.past_only and day > today:  # say the rule that applies, not a vague range
            raise ValueError(
                _("不能晚于今天（%(today)s）：尚未发生的日期不能报送")
                % {"today": today.isoformat()}
            )
        earliest, latest = dt.date(1949, 10, 1), dt.date.today() + dt.timedelta(days=3660)
        if not earliest <= day <= latest:
            raise ValueError(
                _("日期应在 %(a)s 至 %(b)s 之间")
                % {"a": earliest.isoformat(), "b": latest.isoformat()}
            )
        return day
    if spec.kind == PERIOD:
        try:
            period = _parse_period(text)
        except ValueError:
            raise ValueError(_("应为所属期，如 2024 或 2024-06")) from None
        if period > current_period():
            raise ValueError(
                _("所属期不能晚于本月（%(month)s）：尚未到来的所属期没有数据")
                % {"month": current_period()}
            )
        return period
    if spec.kind == CHOICE:
        code = spec.choice_code(text)
        if code is not None:
            return code
        raise ValueError(_("只能是：%(c)s") % {"c": "、".join(spec.choice_labels().values())})
    if spec.kind == BOOL:
        if text.lower() in TRUE_WORDS:
            return True
        if text.lower() in FALSE_WORDS:
            return False
        raise ValueError(_("应为“是”或“否”"))
    if len(text) > spec.max_length:
        raise ValueError(_("长度不能超过%(n)d个字符") % {"n": spec.max_length})
    return text


@lru_cache(maxsize=200_000)
def uscc_code(text: str) -> str:
    """Return the normalised code of a valid USCC (cached: a file repeats its entities)."""
    return uscc_codec.parse(text).code


def file_hash(fileobj: IO[bytes]) -> str:
    """Return the SHA-256 of a file's content, reading it in blocks."""
    digest = hashlib.sha256()
    fileobj.seek(0)
    for block in iter(lambda: fileobj.read(1 << 20), b""):
        digest.update(block)
    fileobj.seek(0)
    return digest.hexdigest()
