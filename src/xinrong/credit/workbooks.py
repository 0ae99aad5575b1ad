"""Excel export of a credit archive (one sheet per category, Chinese headers)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.http import FileResponse
from django.utils.translation import gettext as _

from xinrong.common import exports
from xinrong.credit.fact_display import display_values
from xinrong.credit.selectors.archive import Archive
from xinrong.datahub.categories import CATEGORIES, CategorySpec


def _summary_rows(archive: Archive) -> list[list[Any]]:
    rows: list[list[Any]] = [[_("统一社会信用代码"), archive.entity.uscc]]
    if archive.authorisation is not None:
        rows.append(
            [
                _("依据授权"),
                archive.authorisation.get_scope_display(),
                archive.authorisation.get_purpose_display(),
            ]
        )
    return rows


def _fact_rows(archive: Archive, spec: CategorySpec, facts: list[Any]) -> Iterator[list[Any]]:
    for fact in facts:
        marks = []
        if fact.pk in archive.disputed:
            marks.append(_("异议处理中"))
        if fact.pk in archive.repaired:
            marks.append(_("已修复"))
        values = display_values(fact)
        yield [
            fact.source.name,
            *[values.get(f.key, "") for f in spec.fields],
            _("是") if fact.negative else "",
            "、".join(marks),
        ]


def archive_workbook(archive: Archive) -> FileResponse:
    """Return the archive the reader may see as an XLSX download."""
    sheets = [
        exports.Sheet(
            title=_("概况"),
            header=[_("名称"), archive.entity.name],
            rows=_summary_rows(archive),
        )
    ]
    for code, facts in archive.facts.items():
        spec = CATEGORIES[code]
        sheets.append(
            exports.Sheet(
                title=_(spec.name),
                header=[_("来源"), *[_(f.header) for f in spec.fields], _("负面信息"), _("标注")],
                rows=_fact_rows(archive, spec, facts),
            )
        )
    return exports.xlsx_response(sheets, filename=f"archive-{archive.entity.uscc}.xlsx")
