"""Excel export of a credit archive (one sheet per category, Chinese headers)."""

from __future__ import annotations

import io

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from xinrong.credit.selectors import Archive
from xinrong.datahub.categories import CATEGORIES


def archive_workbook(archive: Archive) -> bytes:
    """Return the archive the reader may see as XLSX bytes."""
    wb = Workbook()
    summary = wb.active
    assert summary is not None
    summary.title = _("概况")
    summary.append([_("名称"), archive.entity.name])
    summary.append([_("统一社会信用代码"), archive.entity.uscc])
    if archive.authorisation is not None:
        summary.append(
            [
                _("依据授权"),
                archive.authorisation.get_scope_display(),
                archive.authorisation.get_purpose_display(),
            ]
        )
    for code, facts in archive.facts.items():
        spec = CATEGORIES[code]
        ws = wb.create_sheet(_(spec.name)[:31])
        ws.append([_("来源"), *[_(f.header) for f in spec.fields], _("负面信息"), _("标注")])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for fact in facts:
            marks = []
            if fact.pk in archive.disputed:
                marks.append(_("异议处理中"))
            if fact.pk in archive.repaired:
                marks.append(_("已修复"))
            ws.append(
                [
                    fact.source.name,
                    *[v.get(f.key, "") for v in [fact.values()] for f in spec.fields],
                    _("是") if fact.negative else "",
                    "、".join(marks),
                ]
            )
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
