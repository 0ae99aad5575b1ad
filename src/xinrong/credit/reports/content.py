"""What a credit report says: masked, formatted display text from what the reader may see."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.translation import gettext as _

from xinrong.accounts.choices import OrgKind
from xinrong.common.masking import mask_bank_card, mask_id_number, mask_name, mask_phone
from xinrong.credit.choices import PUBLIC_CATEGORIES, Purpose, ReportAudience, Scope
from xinrong.credit.fact_display import display_values
from xinrong.credit.features import DIMENSIONS
from xinrong.credit.models import CreditProfile
from xinrong.credit.reports.numbers import SHANGHAI
from xinrong.datahub.categories import BOOL, CATEGORIES, CHOICE, DECIMAL, CategorySpec, FieldSpec
from xinrong.datahub.models import Fact
from xinrong.enterprises.presenters import entity_row

if TYPE_CHECKING:
    from xinrong.accounts.models import Organisation
    from xinrong.credit.selectors.archive import Archive
    from xinrong.credit.selectors.reports import QueryRecords


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
    if f.kind in {BOOL, CHOICE}:
        return f.display(raw)
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
    values = display_values(fact)
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
    # the same sentences as the portrait ("近12个月纳税额低于3.28万元"), from one function
    from xinrong.credit.features import feature_matrix
    from xinrong.credit.segments import model_cards
    from xinrong.credit.selectors.scoring import reason_sentences

    X = feature_matrix(entity_ids=[profile.entity_id])
    card = model_cards(profile.model.card).card_for_frame(X)  # the entity's segment's card
    reasons = [text for text, _advice in reason_sentences(card, X, profile.reason_codes())]
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
    texts = [[field_text(spec, f, display_values(fact)) for f in spec.fields] for fact in shown]
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
