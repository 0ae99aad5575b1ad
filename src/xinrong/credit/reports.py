"""The credit report (企业信用报告) as PDF: its content, its number and its layout.

``compose`` turns what a reader may see (the archive from ``selectors.archive_read``, the latest
profile, the query log) into display text: personal identifiers masked, amounts in yuan, choice
codes in Chinese, negative information past its retention date left out. ``render`` lays that
out on A4 with reportlab platypus, embedding a CJK TrueType font (``XINRONG_CJK_FONT``, Debian's
WenQuanYi Micro Hei by default) so the PDF reads the same on every machine, with the report
number and "page X / Y" on every page and a QR code to the public verification page.

The SM3 digest of the PDF cannot be printed inside the PDF it hashes: the report prints its
number and the verification address, and the verification page shows the digest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import re
import secrets
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from xinrong.accounts.choices import OrgKind
from xinrong.common.errors import ApplicationError, NotFoundError
from xinrong.common.masking import mask_bank_card, mask_id_number, mask_name, mask_phone
from xinrong.credit.choices import PUBLIC_CATEGORIES, Purpose, ReportAudience, Scope
from xinrong.credit.features import DIMENSIONS, FEATURES_BY_NAME
from xinrong.credit.models import CreditProfile
from xinrong.datahub.categories import BOOL, CATEGORIES, CHOICE, DECIMAL, CategorySpec, FieldSpec
from xinrong.datahub.models import Fact
from xinrong.enterprises.presenters import entity_row

if TYPE_CHECKING:
    from xinrong.accounts.models import Organisation
    from xinrong.credit.selectors import Archive, QueryRecords

logger = logging.getLogger(__name__)

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT_CJK_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
FALLBACK_CID_FONT = "STSong-Light"

# ---------------------------------------------------------------- report numbers

# Crockford's base32: no I, L, O or U, so a number read aloud or retyped stays unambiguous.
NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
NUMBER_RANDOM_CHARS = 10  # 50 random bits: numbers cannot be guessed or enumerated
NUMBER_PREFIX = "XR"
_NUMBER_RE = re.compile(r"^XR(\d{8})([0-9A-HJKMNP-TV-Z]{10})$")
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SM3_RE = re.compile(r"^[0-9a-f]{64}$")


def new_number(at: dt.datetime) -> str:
    """Return a fresh report number: XR + date (Beijing time) + 10 random base32 characters."""
    day = at.astimezone(SHANGHAI).strftime("%Y%m%d")
    tail = "".join(secrets.choice(NUMBER_ALPHABET) for _i in range(NUMBER_RANDOM_CHARS))
    return f"{NUMBER_PREFIX}{day}{tail}"


def normalise_number(text: str) -> str:
    """Return the canonical form of a typed report number or raise NotFoundError (404).

    Spaces, hyphens and case are ignored; O is read as 0 and I, L as 1 in the random part.
    """
    compact = re.sub(r"[\s\-]", "", text or "").upper()
    if len(compact) == 20 and compact.startswith(NUMBER_PREFIX):
        compact = compact[:10] + compact[10:].translate(_READ_AS)
    match = _NUMBER_RE.match(compact)
    valid_day = False
    if match:
        try:
            dt.datetime.strptime(match.group(1), "%Y%m%d")
            valid_day = True
        except ValueError:
            valid_day = False
    if not (match and valid_day):
        raise NotFoundError(
            "report_number_invalid",
            _(
                "报告编号“%(n)s”格式不正确：应为 XR + 8位日期 + 10位字母或数字，共20位，"
                "见报告每页页脚"
            )
            % {"n": (text or "")[:40]},
            {"field": "number"},
        )
    return compact


def normalise_digest(text: str) -> str:
    """Return a pasted SM3 digest as 64 lower-case hex characters or raise (422)."""
    compact = re.sub(r"[\s:\-]", "", text or "").lower()
    if not _SM3_RE.match(compact):
        raise ApplicationError(
            "invalid_digest",
            _("SM3 摘要应为64位十六进制字符（0-9、a-f），实际为%(n)d位") % {"n": len(compact)},
            {"field": "digest"},
            status=422,
        )
    return compact


# ---------------------------------------------------------------- masking and formatting

_ID_RE = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
_CARD_RE = re.compile(r"(?<!\d)(\d{16,19})(?!\d)")
_PHONE_RE = re.compile(r"(?<![\d+])((?:\+?86)?1[3-9]\d{9})(?!\d)")
# Fields that hold a natural person's name.
PERSON_FIELDS = frozenset({"legal_rep_name"})
# Registration changes of these items carry persons' names in "before" and "after".
_PERSON_ITEMS = (
    "法定代表人", "负责人", "经营者", "投资人", "股东", "董事", "监事", "经理", "高管", "成员",
    "联系人", "财务",
)  # fmt: skip
# A token ending like this names an organisation (a corporate shareholder), not a person.
_ORG_SUFFIXES = (
    "公司", "企业", "合作社", "中心", "集团", "银行", "事务所", "委员会", "厂", "店", "局", "院",
)  # fmt: skip
_NAME_TOKEN = re.compile(r"[^\s,，、;；/]+")
_CHOICE_NOTE = re.compile(r"([a-z_]+)\s+([^\s/]+)")
# Choice codes whose Chinese labels are not spelt out in the category's note.
_CHOICE_LABELS = {
    "invention": N_("发明专利"),
    "utility_model": N_("实用新型"),
    "design": N_("外观设计"),
    "trademark": N_("商标"),
}


def mask_identifiers(text: str) -> str:
    """Mask ID numbers, bank card numbers and mobile numbers wherever they occur in text."""
    text = _ID_RE.sub(lambda m: mask_id_number(m.group(1)), text)
    text = _CARD_RE.sub(lambda m: mask_bank_card(m.group(1)), text)
    return _PHONE_RE.sub(lambda m: mask_phone(m.group(1)), text)


def mask_person_names(text: str) -> str:
    """Mask each name in a list of names; organisations' names are left as they are."""

    def one(m: re.Match[str]) -> str:
        token = m.group(0)
        return token if token.endswith(_ORG_SUFFIXES) else mask_name(token)

    return _NAME_TOKEN.sub(one, text)


def money(value: Decimal | str | None) -> str:
    """Format yuan as ¥1,234.50 ("" when empty)."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"


@lru_cache(maxsize=64)
def _choice_labels(note: str) -> dict[str, str]:
    return dict(_CHOICE_NOTE.findall(_(note))) if note else {}


def field_text(spec: CategorySpec, f: FieldSpec, values: dict[str, str]) -> str:
    """Return one delivered value as report text: masked, in yuan, choice codes in Chinese."""
    raw = values.get(f.key, "")
    if raw == "":
        return ""
    if f.kind == DECIMAL:
        if "元" in f.header:
            return money(raw)
        try:
            return f"{Decimal(raw):,.2f}".rstrip("0").rstrip(".")
        except InvalidOperation:
            return raw
    if f.kind == BOOL:
        return _("是") if raw.lower() in {"true", "1", "是", "yes"} else _("否")
    if f.kind == CHOICE:
        label = _choice_labels(f.note).get(raw)
        return label or (_(_CHOICE_LABELS[raw]) if raw in _CHOICE_LABELS else raw)
    text = mask_identifiers(raw)
    if f.key in PERSON_FIELDS:
        return mask_person_names(text)
    if spec.code == "registration_change" and f.key in {"before", "after"}:
        item = values.get("item", "")
        if any(word in item for word in _PERSON_ITEMS):
            return mask_person_names(text)
    return text


def _fact_date(fact: Fact) -> str:
    if fact.occurred_on:
        return fact.occurred_on.isoformat()
    return fact.period or ""


def _fact_summary(spec: CategorySpec, fact: Fact, limit: int = 90) -> str:
    values = fact.values()
    parts = []
    for f in spec.fields:
        if f.column in {"occurred_on", "period"}:
            continue
        text = field_text(spec, f, values)
        if text:
            parts.append(f"{_(f.header)}：{text}")
    summary = "；".join(parts)
    return summary if len(summary) <= limit else summary[: limit - 1] + "…"


def beijing(value: dt.datetime) -> str:
    """Format an aware datetime in Beijing time."""
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


# ---------------------------------------------------------------- content


@dataclass
class Table:
    """Rows of text with a header row; ``marked`` rows are shaded (negative information)."""

    headers: list[str]
    rows: list[list[str]]
    marked: set[int] = field(default_factory=set)
    weights: list[float] | None = None


@dataclass
class CategoryBlock:
    """The facts of one category the reader may see."""

    code: str
    name: str
    table: Table
    total: int


@dataclass
class ScoreBlock:
    """The latest score snapshot."""

    score: int
    grade: str
    model: str
    model_version: int
    scored_on: str
    dimensions: Table
    reasons: list[str]


@dataclass
class ReportContent:
    """Everything a report prints, as display text."""

    number: str
    generated_at: dt.datetime
    audience: str
    audience_label: str
    requester: str
    authorisation_line: str
    purpose_label: str
    entity_name: str
    uscc: str
    basic: list[tuple[str, str]]
    score: ScoreBlock | None
    score_note: str
    categories: list[CategoryBlock]
    hidden_categories: list[str]
    negatives: Table
    disputes: Table
    queries: Table
    query_note: str
    verify_url: str
    max_rows: int


def max_rows_per_category() -> int:
    """Rows printed per category at most (``XINRONG_REPORT_MAX_ROWS``)."""
    return max(10, int(getattr(settings, "XINRONG_REPORT_MAX_ROWS", 300)))


def _basic(archive: Archive) -> list[tuple[str, str]]:
    entity = archive.entity
    row = entity_row(entity)
    region = row["region_name"] or entity.division_code
    industry = row["industry_name"] or entity.industry_code
    return [
        (_("企业名称"), entity.name),
        (_("统一社会信用代码"), entity.uscc),
        (_("主体类型"), row["entity_type_label"]),
        (_("所属行业"), industry),
        (_("所在地区"), region),
        (_("成立日期"), entity.established_on.isoformat() if entity.established_on else "—"),
        (_("注册资本"), money(entity.registered_capital) or "—"),
        (_("法定代表人/经营者"), row["legal_representative"] or "—"),
        (_("登记状态"), row["registration_status"]),
        (_("企业规模"), row["size_class_label"] or _("未划型")),
    ]


def _score(profile: CreditProfile) -> ScoreBlock:
    dims = [
        [str(DIMENSIONS.get(code, code)), f"{value:.1f}"]
        for code, value in profile.dimensions().items()
        if value is not None
    ]
    reasons = []
    for code in profile.reason_codes():
        spec = FEATURES_BY_NAME.get(code)
        reasons.append(_(spec.label) if spec else code)
    return ScoreBlock(
        score=profile.score,
        grade=profile.grade,
        model=profile.model.name,
        model_version=profile.model.version,
        scored_on=profile.computed_at.astimezone(SHANGHAI).date().isoformat(),
        dimensions=Table([_("评价维度"), _("维度得分（0–100）")], dims, weights=[3, 2]),
        reasons=reasons,
    )


def _category_block(code: str, facts: list[Fact], disputed: Collection[int], cap: int) -> Table:
    spec = CATEGORIES[code]
    shown = facts[:cap]
    texts = [[field_text(spec, f, fact.values()) for f in spec.fields] for fact in shown]
    keep = [j for j in range(len(spec.fields)) if any(row[j] for row in texts)]
    headers = [_("来源"), *[_(spec.fields[j].header) for j in keep], _("标注")]
    rows = []
    marked = set()
    for i, (fact, row) in enumerate(zip(shown, texts, strict=True)):
        notes = []
        if fact.negative:
            notes.append(_("负面"))
            marked.add(i)
        if fact.pk in disputed:
            notes.append(_("异议中"))
        rows.append([fact.source.name, *[row[j] or "—" for j in keep], "、".join(notes)])
    return Table(headers, rows, marked)


def compose(
    *,
    number: str,
    generated_at: dt.datetime,
    archive: Archive,
    requester: Organisation,
    purpose: str,
    profile: CreditProfile | None,
    score_allowed: bool,
    query_records: QueryRecords,
    disputed_fact_ids: Collection[int],
    verify_url: str,
) -> ReportContent:
    """Turn what the reader may see into the report's display text.

    Negative information past its retention date (5 years from the end of the behaviour,
    征信业管理条例 第十六条) is left out of every report, the enterprise's own included.
    """
    today = generated_at.astimezone(SHANGHAI).date()
    cap = max_rows_per_category()
    disputed = set(disputed_fact_ids)
    blocks: list[CategoryBlock] = []
    negatives: list[tuple[Fact, CategorySpec]] = []
    disputes: list[tuple[Fact, CategorySpec]] = []
    for code, all_facts in archive.facts.items():
        spec = CATEGORIES[code]
        facts = [
            f
            for f in all_facts
            if not (f.negative and f.retention_until is not None and f.retention_until < today)
        ]
        negatives += [(f, spec) for f in facts if f.negative]
        disputes += [(f, spec) for f in facts if f.pk in disputed]
        blocks.append(
            CategoryBlock(
                code, _(spec.name), _category_block(code, facts, disputed, cap), len(facts)
            )
        )
    negative_table = Table(
        [_("类别"), _("来源"), _("发生日期/所属期"), _("内容"), _("保存截止日期")],
        [
            [
                _(spec.name),
                f.source.name,
                _fact_date(f),
                _fact_summary(spec, f),
                f.retention_until.isoformat() if f.retention_until else "—",
            ]
            for f, spec in negatives
        ],
        weights=[2, 3, 2.2, 7, 2.2],
    )
    dispute_table = Table(
        [_("类别"), _("来源"), _("发生日期/所属期"), _("内容"), _("状态")],
        [
            [_(spec.name), f.source.name, _fact_date(f), _fact_summary(spec, f), _("异议处理中")]
            for f, spec in disputes
        ],
        weights=[2, 3, 2.2, 7, 2],
    )
    auth = archive.authorisation
    own = archive.own
    if own:
        queries = Table(
            [_("查询日期"), _("查询机构"), _("查询用途"), _("查询方式")],
            [
                [
                    log.accessed_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"),
                    log.organisation.name,
                    str(log.get_purpose_display()),
                    str(log.get_channel_display()),
                ]
                for log in query_records.rows
            ],
            weights=[3, 6, 3, 2],
        )
        query_note = _("近两年共有 %(n)d 次机构查询记录。") % {"n": query_records.total}
        if query_records.total > len(query_records.rows):
            query_note += _("本报告列出最近 %(k)d 次，完整记录请在平台“查询记录”中查看。") % {
                "k": len(query_records.rows)
            }
    else:
        kind_labels = dict(OrgKind.choices)
        queries = Table(
            [_("查询机构类型"), _("机构数"), _("查询次数")],
            [
                [str(kind_labels.get(kind, kind)), str(orgs), str(n)]
                for kind, orgs, n in query_records.by_kind
            ],
            weights=[4, 2, 2],
        )
        query_note = _(
            "近两年共有 %(n)d 次机构查询记录（含本次）。按机构类型统计，不列出其他机构名称。"
        ) % {"n": query_records.total}
    score_block = _score(profile) if (score_allowed and profile is not None) else None
    if not score_allowed:
        score_note = _(
            "信用评分基于企业的全部信用信息，本次授权范围不含全部信息，本报告不列出信用评分。"
        )
    elif profile is None:
        score_note = _("暂无评分：该主体尚未经评分模型评分。")
    else:
        score_note = ""
    if own:
        audience_label = _("企业自查版（企业本身查询）")
        authorisation_line = ""
    else:
        assert auth is not None
        audience_label = _("机构查询版（依据企业授权）")
        authorisation_line = _(
            "依据企业授权：%(scope)s%(cats)s；授权用途：%(purpose)s；有效期至 %(until)s"
        ) % {
            "scope": auth.get_scope_display(),
            "cats": (
                "（" + "、".join(_(CATEGORIES[c].name) for c in auth.categories) + "）"
                if auth.scope == Scope.CHOSEN and auth.categories
                else ""
            ),
            "purpose": auth.get_purpose_display(),
            "until": auth.expires_at.astimezone(SHANGHAI).date().isoformat(),
        }
    return ReportContent(
        number=number,
        generated_at=generated_at,
        audience=ReportAudience.OWN if own else ReportAudience.INSTITUTION,
        audience_label=audience_label,
        requester=requester.name,
        authorisation_line=authorisation_line,
        purpose_label=str(Purpose(purpose).label) if purpose in Purpose.values else "",
        entity_name=archive.entity.name,
        uscc=archive.entity.uscc,
        basic=_basic(archive),
        score=score_block,
        score_note=score_note,
        categories=blocks,
        hidden_categories=[
            _(CATEGORIES[c].name) for c in archive.hidden if c not in PUBLIC_CATEGORIES
        ],
        negatives=negative_table,
        disputes=dispute_table,
        queries=queries,
        query_note=query_note,
        verify_url=verify_url,
        max_rows=cap,
    )


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

    class NumberedCanvas(Canvas):
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
