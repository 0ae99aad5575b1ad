"""Excel files of the data hub: a template per category and the error file of a batch.

Both are built by the one export helper (``xinrong.common.exports``): formula-leading cells are
written as text, and the rows stream into a temporary file.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.http import FileResponse
from django.utils.translation import gettext as _

from xinrong.common import exports
from xinrong.datahub import limits, selectors
from xinrong.datahub.categories import CATEGORIES
from xinrong.datahub.models import IngestBatch

_REQUIRED_FILL = "FDE2E2"


def _widths(rows: list[list[Any]]) -> list[float]:
    """Column widths fitting the longest text (CJK characters are about two wide)."""
    count = max((len(r) for r in rows), default=0)
    return [
        min(max(12, max(len(str(r[i] or "")) for r in rows if i < len(r)) * 2 + 2), 60)
        for i in range(count)
    ]


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
    example = [f.example for f in spec.all_fields]
    kinds = {
        "text": _("文本"),
        "decimal": _("数字（元，两位小数）"),
        "int": _("整数"),
        "date": _("日期 YYYY-MM-DD"),
        "period": _("所属期 YYYY 或 YYYY-MM"),
        "choice": _("选项"),
        "bool": _("是/否"),
    }
    notes_header = [_("列名"), _("必填"), _("格式"), _("说明"), _("示例")]
    notes: list[list[Any]] = [
        [
            _(f.header),
            _("是") if f.required else _("否"),
            kinds[f.kind] + (f"：{' / '.join(f.choices)}" if f.choices else ""),
            _(f.note) if f.note else "",
            f.example,
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
        filename=f"template-{category}.xlsx",
    )


def _error_rows(batch: IngestBatch, limit: int) -> Iterator[list[Any]]:
    rows = batch.errors.order_by("row_number", "id").values_list(
        "row_number", "column", "value", "rule"
    )[:limit]
    for row in rows.iterator(chunk_size=2000):
        yield list(row)


def errors_workbook(batch: IngestBatch) -> FileResponse:
    """Return the stored refused rows of a batch: row number, column, value and the rule broken.

    At most ``XINRONG_INGEST_MAX_STORED_ERRORS`` rows (what a batch stores), read and written as
    a stream; when the batch had more errors, a last line says how many there were in all.
    """
    cap = limits.stored_errors()
    total = selectors.batch_errors_summary(batch=batch).total

    def rows() -> Iterator[list[Any]]:
        shown = 0
        for row in _error_rows(batch, cap):
            shown += 1
            yield row
        if total > shown:
            yield [
                _("共 %(n)s 行错误，本文件仅含前 %(k)s 行") % {"n": f"{total:,}", "k": f"{shown:,}"}
            ]

    return exports.xlsx_response(
        [
            exports.Sheet(
                title=_("错误行"),
                header=[_("行号"), _("列"), _("值"), _("规则")],
                rows=rows(),
                widths=[10, 20, 40, 60],
                freeze_header=True,
            )
        ],
        filename=f"batch-{batch.pk}-errors.xlsx",
        max_rows=cap + 1,
    )
