"""Writes of data sources, and the platform as a source of its own loan events."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from xinrong.accounts import permissions
from xinrong.accounts.choices import OrgKind
from xinrong.accounts.models import Organisation, SecurityAction, User
from xinrong.accounts.services.organisations import organisation_create
from xinrong.accounts.services.security import security_event_record
from xinrong.common.errors import ApplicationError, NotFoundError
from xinrong.datahub import columnar
from xinrong.datahub.categories import CATEGORIES, CategorySpec
from xinrong.datahub.choices import BatchChannel, Cadence
from xinrong.datahub.models import IngestBatch, RowError, Source, UnresolvedRow
from xinrong.datahub.services.ingest import batch_run, delivery_check


def source_create(
    *,
    code: str,
    name: str,
    organisation: Organisation,
    categories: list[str],
    cadence: str = "monthly",
    description: str = "",
) -> Source:
    """Register a data source with the categories it may deliver."""
    unknown = [c for c in categories if c not in CATEGORIES]
    if unknown:
        raise ApplicationError(
            "unknown_category",
            _("未知的数据类别：%(c)s") % {"c": "、".join(unknown)},
            {"field": "categories"},
            status=422,
        )
    if Source.objects.filter(code=code).exists():
        raise ApplicationError(
            "duplicate_source",
            _("数据来源代码“%(c)s”已存在") % {"c": code},
            {"field": "code"},
            status=409,
        )
    source = Source(
        code=code,
        name=name,
        organisation=organisation,
        categories=categories,
        cadence=cadence,
        description=description,
    )
    source.full_clean()
    source.save()
    return source


SOURCE_CODE_RE = re.compile(r"[a-z0-9][a-z0-9_-]{1,39}")


def source_code_check(code: str) -> None:
    """Refuse a source code of the wrong shape, or one already taken (messages name the rule)."""
    if not SOURCE_CODE_RE.fullmatch(code):
        raise ValidationError(
            _(
                "来源代码“%(c)s”不符合规则：2–40 位小写英文字母、数字、"
                "连字符或下划线，须以字母或数字开头"
            )
            % {"c": code[:40]},
            code="invalid_code",
        )
    if Source.objects.filter(code=code).exists():
        raise ValidationError(
            _("来源代码“%(c)s”已被使用，请换一个") % {"c": code}, code="duplicate_code"
        )


def _source_fields_check(*, name: str, categories: list[str], cadence: str) -> None:
    """Refuse what a source cannot be, each error naming its field (all collected at once)."""
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = [_("来源名称不能为空")]
    elif len(name.strip()) > 100:
        errors["name"] = [_("来源名称不能超过 100 个字")]
    unknown = [c for c in categories if c not in CATEGORIES]
    if not categories:
        errors["categories"] = [_("报送的数据类别至少选择一项")]
    elif unknown:
        errors["categories"] = [_("未知的数据类别：%(c)s") % {"c": "、".join(unknown)}]
    if cadence not in Cadence.values:
        errors["cadence"] = [_("更新频率“%(c)s”不存在") % {"c": cadence}]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def source_register(
    *,
    organisation: Organisation,
    code: str,
    name: str,
    categories: list[str],
    cadence: str,
    description: str = "",
    actor: User,
    source_ip: str = "",
    user_agent: str = "",
) -> Source:
    """A department's clerk (or an operator) registers a source of the department; recorded."""
    candidate = Source(organisation=organisation)
    permissions.require(
        actor,
        "datahub.source_manage",
        candidate,
        message=_("您只能为本部门登记数据来源（运营管理员：本区划的政府部门）"),
    )
    if organisation.kind != OrgKind.GOVERNMENT:
        raise ApplicationError(
            "not_a_department",
            _("所属部门必须是政府部门，“%(o)s”是%(k)s")
            % {"o": organisation.name, "k": organisation.get_kind_display()},
            {"field": "organisation"},
        )
    code = code.strip().lower()
    errors: dict[str, list[str]] = {}
    try:
        source_code_check(code)
    except ValidationError as exc:
        errors["code"] = list(exc.messages)
    try:
        _source_fields_check(name=name, categories=categories, cadence=cadence)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    source = source_create(
        code=code,
        name=name.strip(),
        organisation=organisation,
        categories=sorted(set(categories), key=list(CATEGORIES).index),
        cadence=cadence,
        description=description.strip(),
    )
    security_event_record(
        action=SecurityAction.SOURCE_REGISTER,
        actor=actor,
        target_organisation=organisation,
        details={"source": source.code, "name": source.name, "categories": source.categories},
        source_ip=source_ip,
        user_agent=user_agent,
    )
    return source


@transaction.atomic
def source_update(
    *,
    source: Source,
    name: str,
    categories: list[str],
    cadence: str,
    description: str = "",
    actor: User,
    source_ip: str = "",
    user_agent: str = "",
) -> Source:
    """Change a source's name, categories, cadence or description; record before and after.

    Its code and department stay (deliveries and the API name it by its code). Facts already
    delivered in a category taken off stay; new deliveries of it are refused.
    """
    source = Source.objects.select_for_update().select_related("organisation").get(pk=source.pk)
    permissions.require(actor, "datahub.source_manage", source, message=_("您无权修改该数据来源"))
    _source_fields_check(name=name, categories=categories, cadence=cadence)
    after = {
        "name": name.strip(),
        "categories": sorted(set(categories), key=list(CATEGORIES).index),
        "cadence": cadence,
        "description": description.strip(),
    }
    before = {k: getattr(source, k) for k in after}
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if not changes:
        return source
    for key, value in after.items():
        setattr(source, key, value)
    source.save(update_fields=[*after, "updated_at"])
    security_event_record(
        action=SecurityAction.SOURCE_UPDATE,
        actor=actor,
        target_organisation=source.organisation,
        details={"source": source.code, "changes": changes},
        source_ip=source_ip,
        user_agent=user_agent,
    )
    return source


def source_get(*, code: str) -> Source:
    """Return a source by code or raise NotFoundError naming it."""
    source = Source.objects.select_related("organisation").filter(code=code).first()
    if source is None:
        raise NotFoundError(
            "source_not_found", _("数据来源“%(c)s”不存在") % {"c": code}, {"field": "source"}
        )
    return source


# ---------------------------------------------------------------- the platform as a source

PLATFORM_SOURCE = "platform"
LOAN_CATEGORY = "loan"
# Keys of a loan-event row; the first five are required.
LOAN_ROW_KEYS = (
    "uscc",
    "loan_no",
    "institution",
    "event",
    "occurred_on",
    "amount",
    "outstanding",
    "overdue_days",
    "maturity_on",
    "first_loan",
    "renewal",
)
_LOAN_REQUIRED = frozenset(LOAN_ROW_KEYS[:5])
_ROW_ERRORS_NAMED = 5


def platform_source_get() -> Source:
    """Return the platform's own data source (code ``platform``), creating it when missing.

    It belongs to the platform operator's organisation (the first one registered); a platform
    without one yet gets one, so loan events can be recorded on a fresh install.
    """
    source = Source.objects.filter(code=PLATFORM_SOURCE).first()
    if source is None:
        owner = Organisation.objects.filter(kind=OrgKind.OPERATOR).order_by("pk").first()
        if owner is None:
            owner = organisation_create(name=_("平台运营方"), kind=OrgKind.OPERATOR)
        source, _created = Source.objects.get_or_create(
            code=PLATFORM_SOURCE,
            defaults={
                "name": _("平台金融服务记录"),
                "organisation": owner,
                "categories": [LOAN_CATEGORY],
                "cadence": Cadence.ON_EVENT,
                "description": _("平台撮合贷款的放款、还款、逾期、违约与结清事件"),
            },
        )
    if LOAN_CATEGORY not in source.categories:
        source.categories = [*source.categories, LOAN_CATEGORY]
        source.save(update_fields=["categories", "updated_at"])
    return source


def _loan_cell(value: Any) -> str:
    """Return the delivered text of one value, as a department's file would carry it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _loan_chunk(rows: list[dict[str, Any]]) -> columnar.Chunk:
    """Turn loan-event dicts into one column chunk; row numbers are list indexes."""
    allowed = frozenset(LOAN_ROW_KEYS)
    for i, row in enumerate(rows):
        keys = set(row)
        unknown, missing = keys - allowed, _LOAN_REQUIRED - keys
        if unknown or missing:
            raise ApplicationError(
                "invalid_loan_rows",
                _("第 %(i)d 行（rows[%(i)d]）的键不正确：缺少 %(missing)s，多余 %(unknown)s")
                % {
                    "i": i,
                    "missing": "、".join(sorted(missing)) or "-",
                    "unknown": "、".join(sorted(map(str, unknown))) or "-",
                },
                {"field": f"rows[{i}]", "allowed": list(LOAN_ROW_KEYS)},
                status=422,
            )
    cells = {
        key: pa.array([_loan_cell(row.get(key)) for row in rows], pa.string())
        for key in LOAN_ROW_KEYS
    }
    return columnar.Chunk(np.arange(len(rows), dtype=np.int64), cells)


def _content_digest(chunk: columnar.Chunk) -> str:
    """SHA-256 of the rows in any order: the same events sent again find the same batch."""
    lines = pc.binary_join_element_wise(*(chunk.cells[k] for k in LOAN_ROW_KEYS), "\x1f")
    digest = hashlib.sha256()
    for line in sorted(lines.to_pylist()):
        digest.update(line.encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


def _refused_rows(batch: IngestBatch, spec: CategorySpec) -> list[dict[str, Any]]:
    """Name the first refused or unresolved rows of a batch as ``rows[i].key``."""
    keys = {str(_(f.header)): f.key for f in spec.all_fields}
    refused: list[dict[str, Any]] = [
        {"row": e.row_number, "key": keys.get(e.column, e.column), "value": e.value, "rule": e.rule}
        for e in RowError.objects.filter(batch=batch).order_by("row_number", "id")[
            :_ROW_ERRORS_NAMED
        ]
    ]
    refused += [
        {
            "row": u.row_number,
            "key": "uscc",
            "value": u.values.get("uscc", ""),
            "rule": str(_("该统一社会信用代码的市场主体尚未登记")),
        }
        for u in UnresolvedRow.objects.filter(batch=batch).order_by("row_number")[
            :_ROW_ERRORS_NAMED
        ]
    ]
    refused.sort(key=lambda e: e["row"])
    return refused[:_ROW_ERRORS_NAMED]


@transaction.atomic
def platform_loan_events_record(*, rows: list[dict[str, Any]], note: str = "") -> IngestBatch:
    """Record the platform's own loan events as facts of source ``platform``, category ``loan``.

    Called by the marketplace (it owns loans; credit reads the facts, so neither imports the
    other). Contract:

    - ``rows``: one dict per event with the keys
      ``uscc`` (str, an entity registered on the platform), ``loan_no`` (str, at most 64
      characters), ``institution`` (str, the lender's name), ``event`` (one of
      ``categories.LOAN_EVENTS``: disbursed, repaid, overdue, defaulted, settled) and
      ``occurred_on`` (date), all required; and, optional (absent or None when unknown),
      ``amount`` (Decimal ≥ 0, yuan: the disbursed or repaid amount), ``outstanding``
      (Decimal ≥ 0, the balance after the event), ``overdue_days`` (int ≥ 0),
      ``maturity_on`` (date), ``first_loan`` and ``renewal`` (bool).
    - ``note``: what the delivery is (kept as the batch's file name).

    All rows go through the ingestion pipeline as one batch (channel ``platform``): the same
    validation and USCC resolution as an uploaded file, the same facts, cross-validation and
    ``batch_completed`` (so credit rescores the touched entities after commit). Overdue and
    defaulted events are negative information kept 5 years from the event date.

    It runs synchronously and atomically: a bad row is a programming error, so the whole call
    fails with ``ApplicationError("invalid_loan_rows")`` naming the first bad rows as
    ``rows[i].key`` (in ``extra["errors"]``), and nothing is stored. Idempotent: an event
    already stored is stored once (row hashes), and the same rows again, in any order, return
    the same completed batch.
    """
    if not rows:
        raise ApplicationError(
            "invalid_loan_rows", _("没有要记录的贷款事件"), {"field": "rows"}, status=422
        )
    spec = CATEGORIES[LOAN_CATEGORY]
    source = platform_source_get()
    delivery_check(source, LOAN_CATEGORY, None)
    chunk = _loan_chunk(rows)
    batch, _created = IngestBatch.objects.get_or_create(
        source=source,
        category=LOAN_CATEGORY,
        content_hash=_content_digest(chunk),
        defaults={
            "channel": BatchChannel.PLATFORM,
            "filename": (note or _("平台贷款事件"))[:255],
        },
    )
    batch = batch_run(batch, lambda: [chunk], None)
    if batch.rejected or batch.unresolved:
        refused = _refused_rows(batch, spec)
        raise ApplicationError(
            "invalid_loan_rows",
            _("贷款事件有 %(n)d 行不正确，未记录任何事件：%(rows)s")
            % {
                "n": batch.rejected + batch.unresolved,
                "rows": "；".join(
                    f"rows[{e['row']}].{e['key']}“{e['value']}”：{e['rule']}" for e in refused
                ),
            },
            {"field": "rows", "errors": refused},
            status=422,
        )
    return batch
