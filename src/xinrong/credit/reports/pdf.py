"""The credit report's PDF layout: CJK fonts, reportlab platypus pages, the QR code."""

from __future__ import annotations

import hashlib
import io
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils.translation import gettext as _

from xinrong.credit.choices import ReportAudience
from xinrong.credit.reports.content import ReportContent, Table, beijing

logger = logging.getLogger(__name__)


DEFAULT_CJK_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
FALLBACK_CID_FONT = "STSong-Light"


# ---------------------------------------------------------------- fonts


def cjk_font() -> str:
    """Return the name of the registered CJK font (``XINRONG_CJK_FONT``, else STSong-Light)."""
    return _register_font(str(getattr(settings, "XINRONG_CJK_FONT", "") or DEFAULT_CJK_FONT))


@lru_cache(maxsize=8)
def _register_font(path: str) -> str:
    """Register the TrueType font at ``path`` once; fall back to the CID font, and log it."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    if Path(path).is_file():
        name = "XRCJK-" + hashlib.sha256(path.encode("utf-8")).hexdigest()[:8]
        try:
            pdfmetrics.registerFont(TTFont(name, path, subfontIndex=0))
        except (TTFError, OSError) as exc:
            logger.warning(
                "CJK font %s cannot be used (%s); falling back to the CID font %s, which is "
                "not embedded: readers need a Chinese font pack to display reports",
                path,
                exc,
                FALLBACK_CID_FONT,
            )
        else:
            logger.info("credit reports embed the CJK font %s", path)
            return name
    else:
        logger.warning(
            "CJK font %s not found (set XINRONG_CJK_FONT or install fonts-wqy-microhei); "
            "falling back to the CID font %s, which is not embedded: readers need a Chinese "
            "font pack to display reports",
            path,
            FALLBACK_CID_FONT,
        )
    pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_CID_FONT))
    return FALLBACK_CID_FONT


# ---------------------------------------------------------------- layout

_SECTION_NUMERALS = "一二三四五六七八九十"
# reportlab keeps per-document font subsetting state in shared font objects: one build at a
# time per process (a report takes a fraction of a second).
_BUILD_LOCK = threading.Lock()


@dataclass
class Rendered:
    """A laid-out report."""

    pdf: bytes
    pages: int
    font: str


class _Styles:
    def __init__(self, font: str) -> None:
        from reportlab.lib import colors
        from reportlab.lib.enums import TA_CENTER
        from reportlab.lib.styles import ParagraphStyle

        base = ParagraphStyle(
            "xr-body", fontName=font, fontSize=9.5, leading=14, wordWrap="CJK", spaceAfter=2
        )
        self.body = base
        self.small = ParagraphStyle("xr-small", parent=base, fontSize=8, leading=11)
        self.note = ParagraphStyle(
            "xr-note", parent=base, fontSize=8, leading=11, textColor=colors.HexColor("#555555")
        )
        self.cell = ParagraphStyle("xr-cell", parent=base, fontSize=7.8, leading=10, spaceAfter=0)
        self.head_cell = ParagraphStyle(
            "xr-head-cell", parent=self.cell, textColor=colors.white, spaceAfter=0
        )
        self.title = ParagraphStyle(
            "xr-title", parent=base, fontSize=22, leading=30, alignment=TA_CENTER, spaceAfter=6
        )
        self.subtitle = ParagraphStyle(
            "xr-subtitle", parent=base, fontSize=10, leading=15, alignment=TA_CENTER
        )
        self.h1 = ParagraphStyle(
            "xr-h1",
            parent=base,
            fontSize=13,
            leading=18,
            spaceBefore=10,
            spaceAfter=5,
            textColor=colors.HexColor("#0b4f8a"),
            keepWithNext=1,
        )
        self.h2 = ParagraphStyle(
            "xr-h2",
            parent=base,
            fontSize=10.5,
            leading=15,
            spaceBefore=6,
            spaceAfter=3,
            keepWithNext=1,
        )
        self.score = ParagraphStyle(
            "xr-score", parent=base, fontSize=18, leading=24, textColor=colors.HexColor("#0b4f8a")
        )


def _p(text: str, style: Any) -> Any:
    from reportlab.platypus import Paragraph

    return Paragraph(escape(text), style)


def _table(table: Table, styles: _Styles, width: float) -> Any:
    from reportlab.lib import colors
    from reportlab.platypus import Table as RLTable
    from reportlab.platypus import TableStyle

    n = len(table.headers)
    if table.weights:
        weights = list(table.weights)
    else:
        weights = []
        for j, header in enumerate(table.headers):
            longest = max([len(header)] + [len(r[j]) for r in table.rows[:200]])
            weights.append(min(max(longest, 4), 18) + 2)
    total = sum(weights)
    col_widths = [width * w / total for w in weights]
    data = [[_p(h, styles.head_cell) for h in table.headers]]
    data += [[_p(cell, styles.cell) for cell in row] for row in table.rows]
    t = RLTable(data, colWidths=col_widths, repeatRows=1)
    commands: list[tuple[Any, ...]] = [
        ("BACKGROUND", (0, 0), (n - 1, 0), colors.HexColor("#0b4f8a")),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#b8c4d0")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    for i in sorted(table.marked):
        commands.append(("BACKGROUND", (0, i + 1), (n - 1, i + 1), colors.HexColor("#fbe3e4")))
    t.setStyle(TableStyle(commands))
    return t


def _key_values(pairs: Sequence[tuple[str, str]], styles: _Styles, width: float) -> Any:
    from reportlab.lib import colors
    from reportlab.platypus import Table as RLTable
    from reportlab.platypus import TableStyle

    rows = []
    for i in range(0, len(pairs), 2):
        chunk = list(pairs[i : i + 2])
        while len(chunk) < 2:
            chunk.append(("", ""))
        rows.append([cell for k, v in chunk for cell in (_p(k, styles.cell), _p(v, styles.cell))])
    t = RLTable(rows, colWidths=[width * w for w in (0.17, 0.33, 0.17, 0.33)])
    t.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#b8c4d0")),
                ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#eef3f8")),
                ("BACKGROUND", (2, 0), (2, -1), colors.HexColor("#eef3f8")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return t


def _qr(url: str, size: float) -> Any:
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing

    widget = QrCodeWidget(url, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    return drawing


def _canvas_class(content: ReportContent, font: str, counter: dict[str, int]) -> type:
    """A canvas that knows the page count when it draws each page's header and footer."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    page_width, _height = A4
    if content.audience == ReportAudience.INSTITUTION:
        header = _("仅供%(org)s用于%(purpose)s，不得向第三方提供") % {
            "org": content.requester,
            "purpose": content.purpose_label or _("授权用途"),
        }
    else:
        header = _("企业自查版 · 请妥善保管")

    class NumberedCanvas(Canvas):  # type: ignore[misc]  # reportlab has no types
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            counter["pages"] = total
            for state in self._pages:
                self.__dict__.update(state)
                self._decorate(total)
                super().showPage()
            super().save()

        def _decorate(self, total: int) -> None:
            self.saveState()
            self.setStrokeColor(colors.HexColor("#b8c4d0"))
            self.setLineWidth(0.5)
            self.line(18 * mm, 285 * mm, page_width - 18 * mm, 285 * mm)
            self.line(18 * mm, 14 * mm, page_width - 18 * mm, 14 * mm)
            self.setFillColor(colors.HexColor("#555555"))
            self.setFont(font, 7.5)
            self.drawString(18 * mm, 287 * mm, _("信融 · 小微企业信用融资服务平台 · 企业信用报告"))
            self.drawRightString(page_width - 18 * mm, 287 * mm, header)
            self.drawString(18 * mm, 10 * mm, _("报告编号：%(n)s") % {"n": content.number})
            self.drawRightString(
                page_width - 18 * mm,
                10 * mm,
                _("第 %(page)d 页 / 共 %(total)d 页") % {"page": self._pageNumber, "total": total},
            )
            self.restoreState()

    return NumberedCanvas


def render(content: ReportContent) -> Rendered:
    """Lay the report out on A4 and return the PDF bytes and page count."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, SimpleDocTemplate, Spacer
    from reportlab.platypus import Table as RLTable

    font = cjk_font()
    styles = _Styles(font)
    width = A4[0] - 36 * mm
    story: list[Any] = []
    section = iter(_SECTION_NUMERALS)

    def heading(text: str) -> None:
        story.append(_p(f"{next(section)}、{text}", styles.h1))

    story.append(_p(_("企业信用报告"), styles.title))
    story.append(_p(content.audience_label, styles.subtitle))
    story.append(Spacer(1, 4 * mm))
    cover = [
        (_("报告编号"), content.number),
        (_("生成时间"), beijing(content.generated_at) + _("（北京时间）")),
        (_("被查询主体"), content.entity_name),
        (_("统一社会信用代码"), content.uscc),
        (_("报告类型"), content.audience_label),
        (_("查询机构"), content.requester),
    ]
    if content.purpose_label:
        cover.append((_("查询用途"), content.purpose_label))
    story.append(_key_values(cover, styles, width))
    if content.authorisation_line:
        story.append(Spacer(1, 2 * mm))
        story.append(_p(content.authorisation_line, styles.small))

    heading(_("基本信息"))
    story.append(_key_values(content.basic, styles, width))

    heading(_("信用评分"))
    if content.score is not None:
        s = content.score
        story.append(
            _p(
                _("信用分 %(score)d    信用等级 %(grade)s") % {"score": s.score, "grade": s.grade},
                styles.score,
            )
        )
        story.append(
            _p(
                _("评分模型：%(model)s（版本 v%(v)d）；评分日期：%(day)s")
                % {"model": s.model, "v": s.model_version, "day": s.scored_on},
                styles.small,
            )
        )
        if s.dimensions.rows:
            story.append(_p(_("分维度得分"), styles.h2))
            story.append(_table(s.dimensions, styles, width * 0.6))
        story.append(_p(_("主要扣分原因"), styles.h2))
        story.append(_p("；".join(s.reasons) if s.reasons else _("无"), styles.body))
    else:
        story.append(_p(content.score_note, styles.body))

    heading(_("信用信息"))
    story.append(
        _p(
            _("以下为归集至本平台的公共信用信息，按类别列出；个人信息已脱敏，金额单位为人民币元。"),
            styles.note,
        )
    )
    if content.hidden_categories:
        story.append(
            _p(
                _("以下类别不在授权范围内，未列入本报告：%(c)s")
                % {"c": "、".join(content.hidden_categories)},
                styles.note,
            )
        )
    empty = [block.name for block in content.categories if not block.table.rows]
    for block in content.categories:
        if not block.table.rows:
            continue
        story.append(_p(f"{block.name}（{block.total}）", styles.h2))
        story.append(_table(block.table, styles, width))
        if block.total > len(block.table.rows):
            story.append(
                _p(
                    _("本类别共 %(n)d 条，报告列出最近 %(k)d 条；完整记录请在平台信用档案中查看。")
                    % {"n": block.total, "k": len(block.table.rows)},
                    styles.note,
                )
            )

    if empty:
        story.append(_p(_("暂无记录的类别：%(c)s") % {"c": "、".join(empty)}, styles.small))

    heading(_("负面信息"))
    story.append(
        _p(
            _(
                "负面信息自不良行为或事件终止之日起保存5年，保存截止日期之后不再列入信用报告"
                "（《征信业管理条例》第十六条）。"
            ),
            styles.note,
        )
    )
    if content.negatives.rows:
        story.append(_table(content.negatives, styles, width))
    else:
        story.append(_p(_("无负面信息"), styles.body))

    heading(_("异议信息"))
    if content.disputes.rows:
        story.append(_table(content.disputes, styles, width))
    else:
        story.append(_p(_("无处理中的异议"), styles.body))

    heading(_("查询记录"))
    story.append(_p(content.query_note, styles.note))
    if content.queries.rows:
        story.append(_table(content.queries, styles, width))
    else:
        story.append(_p(_("近两年无机构查询记录"), styles.body))

    heading(_("报告说明与验证"))
    notes = [
        _("本报告依据各部门、机构归集至信融平台的信用信息生成，反映截至生成时间的记录。"),
        _(
            "个人信息按 JR/T 0171-2020 脱敏：身份证号保留前3位和后4位，手机号保留前3位和后4位，"
            "姓名仅保留姓氏。"
        ),
        _("企业对报告内容有异议的，可在平台对相应信息提出异议，平台在20日内答复。"),
        _("机构查询版仅供授权机构在授权用途内使用，每次生成均记入企业可见的查询记录。"),
    ]
    for line in notes:
        story.append(_p("· " + line, styles.small))
    verify = [
        _p(_("报告验证"), styles.h2),
        _p(_("报告编号：%(n)s") % {"n": content.number}, styles.body),
        _p(_("验证地址：%(u)s") % {"u": content.verify_url}, styles.body),
        _p(
            _(
                "扫描右侧二维码或访问验证地址，上传本报告 PDF 文件或粘贴其 SM3 摘要，即可核验"
                "本报告是否由平台生成且未经修改。SM3 摘要由验证页面显示。"
            ),
            styles.small,
        ),
    ]
    qr_size = 30 * mm
    story.append(
        KeepTogether(
            RLTable(
                [[verify, _qr(content.verify_url, qr_size)]],
                colWidths=[width - qr_size - 6 * mm, qr_size + 6 * mm],
                style=[("VALIGN", (0, 0), (-1, -1), "TOP")],
            )
        )
    )

    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=20 * mm,
        title=_("企业信用报告 %(n)s") % {"n": content.number},
        author=_("信融平台"),
        subject=content.entity_name,
        creator="xinrong",
    )
    counter = {"pages": 0}
    with _BUILD_LOCK:
        doc.build(story, canvasmaker=_canvas_class(content, font, counter))
    return Rendered(pdf=buf.getvalue(), pages=counter["pages"], font=font)
