"""Excel files of the data hub: a template per category and the error file of a batch.

Both are built by the one export helper (``xinrong.common.exports``): formula-leading cells are
written as text, and the rows stream into a temporary file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.http import FileResponse
from django.utils.translation import gettext as _

from xinrong.common import exports
from xinrong.datahub import limits, selectors
from xinrong.datahub.categories import (
    CATEGORIES,
    CHOICE_LABELS,
    DECIMAL,
    INT,
    CategorySpec,
    FieldSpec,
)
from xinrong.datahub.models import IngestBatch, RowError

_REQUIRED_FILL = "FDE2E2"
_ERROR_FILL = "FFF3CD"


def _widths(rows: list[list[Any]]) -> list[float]:
    """Column widths fitting the longest text (CJK characters are about two wide)."""
    count = max((len(r) for r in rows), default=0)
    return [
        min(max(12, max(len(str(r[i] or "")) for r in rows if i < len(r)) * 2 + 2), 60)
        for i in range(count)
    ]


def _chinese(f: FieldSpec, code: str) -> str:
    """A choice's Chinese label (templates stay Chinese in every UI language)."""
    return CHOICE_LABELS.get(f.key, {}).get(code, code)


def _example(f: FieldSpec) -> str:
    """A field's example value as a clerk writes it: a choice by its Chinese label."""
    return _chinese(f, f.example) if f.choices else f.example


def template_workbook(category: str) -> FileResponse:
    """Return the XLSX template of a category: Chinese headers, one example row, field notes."""
    spec = CATEGORIES[category]
    # headers stay Chinese in every UI language: departments exchange these files as they are
    header = [
        exports.Styled(
            f.header + ("*" if f.required else ""), fill=_REQUIRED_FILL if f.required else ""
        )
        for f in spec.all_fields
    ]
    # a clerk types the Chinese label of a choice (the code is accepted too, but not shown)
    example = [_example(f) for f in spec.all_fields]
    kinds = {
        "text": _("文本"),
        "decimal": _("数字（元，两位小数）"),
        "int": _("整数"),
        "date": _("日期，如 2024-06-30"),
        "period": _("所属期，如 2024 或 2024-06"),
        "choice": _("选项"),
        "bool": _("是/否"),
    }
    notes_header = [_("列名"), _("必填"), _("格式"), _("说明"), _("示例")]
    notes: list[list[Any]] = [
        [
            _(f.header),
            _("是") if f.required else _("否"),
            kinds[f.kind]
            + (f"：{' / '.join(_chinese(f, c) for c in f.choices)}" if f.choices else ""),
            "" if f.choices or not f.note else _(f.note),
            _example(f),
        ]
        for f in spec.all_fields
    ]
    notes.append([])
    notes.append(
        [_("统一社会信用代码与主体名称至少填写一项；删除示例行后填写。第一行表头请勿修改。")]
    )
    plain_header = [h.value for h in header]
    return exports.xlsx_response(
        [
            exports.Sheet(
                title=_(spec.name),
                header=header,
                rows=[example],
                widths=_widths([plain_header, example]),
                freeze_header=True,
            ),
            exports.Sheet(
                title=_("填写说明"),
                header=notes_header,
                rows=notes,
                widths=_widths([notes_header, *notes[:-1]]),
            ),
        ],
        # a clerk keeps the file under the name it arrives with: the category's Chinese name
        filename=f"{spec.name}模板.xlsx",
        fallback=f"template-{category}.xlsx",
    )


def _typed(kind: str, text: str) -> Any:
    """Return a cell for the error file: amounts and counts as numbers when they read as such."""
    if kind == DECIMAL:
        cleaned = text.replace(",", "").replace("，", "").replace("¥", "").replace("￥", "").strip()
        if re.fullmatch(r"-?\d+(?:\.\d+)?", cleaned):
            return Decimal(cleaned)
    if kind == INT and re.fullmatch(r"\d{1,15}", text.strip()):
        return int(text.strip())
    return text


def _error_groups(batch: IngestBatch, limit: int) -> Iterator[tuple[int, list[RowError]]]:
    """Yield each refused row's number with its stored errors, in row order."""
    current: list[RowError] = []
    for error in batch.errors.order_by("row_number", "id")[:limit].iterator(chunk_size=2000):
        if current and current[0].row_number != error.row_number:
            yield current[0].row_number, current
            current = []
        current.append(error)
    if current:
        yield current[0].row_number, current


def _error_line(spec: CategorySpec, number: int, errors: list[RowError]) -> list[Any]:
    """Return one refused row as delivered, then what to fix and its row number in the file."""
    cells: dict[str, str] = next((e.cells for e in errors if e.cells), {})
    if not cells:  # stored before rows were kept whole: at least the refused values
        by_header = {_(f.header): f.key for f in spec.all_fields}
        cells = {by_header[e.column]: e.value for e in errors if e.column in by_header}
    line: list[Any] = [_typed(f.kind, cells.get(f.key, "")) for f in spec.all_fields]
    problems = "；".join(f"{e.column}：{e.rule}" for e in errors)
    line.append(exports.Styled(problems, fill=_ERROR_FILL))
    line.append(number)
    return line


def errors_workbook(batch: IngestBatch) -> FileResponse:
    """Return the refused rows of a batch as they were delivered, each with what to fix.

    The first sheet has the category's columns (the template's headers), the cells as the
    department sent them (amounts and counts as numbers), then "错误说明" and "原行号": a clerk
    corrects the cells and uploads the same file again (the two extra columns are ignored).
    At most ``XINRONG_INGEST_MAX_STORED_ERRORS`` errors are stored; when the batch had more, the
    second sheet says so.
    """
    spec = CATEGORIES[batch.category]
    cap = limits.stored_errors()
    summary = selectors.batch_errors_summary(batch=batch)
    header: list[Any] = [
        exports.Styled(
            f.header + ("*" if f.required else ""), fill=_REQUIRED_FILL if f.required else ""
        )
        for f in spec.all_fields
    ]
    header += [exports.Styled(_("错误说明"), fill=_ERROR_FILL), _("原行号")]
    notes = [
        [
            _(
                "第一张表是被拒绝的行（报送时的原样）；按“错误说明”改正单元格后，可直接重新上传本文件。"
            )
        ],
        [_("“错误说明”和“原行号”两列仅供参考，重新上传时会被忽略。")],
    ]
    if summary.note:
        notes.append([summary.note])
    rows = (_error_line(spec, n, errs) for n, errs in _error_groups(batch, cap))
    return exports.xlsx_response(
        [
            exports.Sheet(
                title=_(spec.name),
                header=header,
                rows=rows,
                widths=[*([16] * len(spec.all_fields)), 50, 10],
                freeze_header=True,
            ),
            exports.Sheet(title=_("说明"), header=[_("说明")], rows=notes, widths=[100]),
        ],
        filename=f"batch-{batch.pk}-errors.xlsx",
        max_rows=cap + 1,
    )
