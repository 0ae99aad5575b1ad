"""Excel files of the data hub: a template per category and the error file of a batch."""

from __future__ import annotations

import io

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from xinrong.datahub.categories import CATEGORIES
from xinrong.datahub.models import IngestBatch

_HEADER_FONT = Font(bold=True)
_REQUIRED_FILL = PatternFill("solid", fgColor="FDE2E2")


def _autosize(ws: Worksheet) -> None:
    for column in ws.columns:
        width = max(len(str(c.value or "")) for c in column)
        ws.column_dimensions[column[0].column_letter].width = min(max(12, width * 2 + 2), 60)


def _bytes(wb: Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def template_workbook(category: str) -> bytes:
    """Return the XLSX template of a category: Chinese headers, one example row, field notes."""
    spec = CATEGORIES[category]
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = _(spec.name)[:31]
    # headers stay Chinese in every UI language: departments exchange these files as they are
    ws.append([f.header + ("*" if f.required else "") for f in spec.all_fields])
    ws.append([f.example for f in spec.all_fields])
    for cell, f in zip(ws[1], spec.all_fields, strict=True):
        cell.font = _HEADER_FONT
        if f.required:
            cell.fill = _REQUIRED_FILL
    ws.freeze_panes = "A2"
    _autosize(ws)
    notes = wb.create_sheet(_("填写说明"))
    notes.append([_("列名"), _("必填"), _("格式"), _("说明"), _("示例")])
    kinds = {
        "text": _("文本"),
        "decimal": _("数字（元，两位小数）"),
        "int": _("整数"),
        "date": _("日期 YYYY-MM-DD"),
        "period": _("所属期 YYYY 或 YYYY-MM"),
        "choice": _("选项"),
        "bool": _("是/否"),
    }
    for f in spec.all_fields:
        fmt = kinds[f.kind] + (f"：{' / '.join(f.choices)}" if f.choices else "")
        notes.append(
            [
                _(f.header),
                _("是") if f.required else _("否"),
                fmt,
                _(f.note) if f.note else "",
                f.example,
            ]
        )
    notes.append([])
    notes.append(
        [_("统一社会信用代码与主体名称至少填写一项；删除示例行后填写。第一行表头请勿修改。")]
    )
    for cell in notes[1]:
        cell.font = _HEADER_FONT
    _autosize(notes)
    return _bytes(wb)


def errors_workbook(batch: IngestBatch) -> bytes:
    """Return the refused rows of a batch: row number, column, value and the rule broken."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = _("错误行")
    ws.append([_("行号"), _("列"), _("值"), _("规则")])
    for cell in ws[1]:
        cell.font = _HEADER_FONT
    for e in batch.errors.order_by("row_number", "id").iterator(chunk_size=2000):
        ws.append([e.row_number, e.column, e.value, e.rule])
    _autosize(ws)
    return _bytes(wb)
