"""Writes of data sources, and the platform as a source of its own loan events."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone
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
from xinrong.datahub.models import (
    IngestBatch,
    PendingPlatformEvent,
    RowError,
    Source,
    UnresolvedRow,
)
from xinrong.datahub.services.ingest import batch_run, delivery_check

logger = logging.getLogger(__name__)


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
_LOAN_ALLOWED = frozenset(LOAN_ROW_KEYS)
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


def _loan_keys_check(i: int, row: dict[str, Any]) -> None:
    """Refuse a loan-event dict with a missing or unknown key (a programming error)."""
    keys = set(row)
    unknown, missing = keys - _LOAN_ALLOWED, _LOAN_REQUIRED - keys
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


def _loan_chunk(rows: list[dict[str, Any]]) -> columnar.Chunk:
    """Turn loan-event dicts into one column chunk; row numbers are list indexes."""
    for i, row in enumerate(rows):
        _loan_keys_check(i, row)
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


# ---------------------------------------------------------------- the outbox of live loan events

FLUSH_REQUEST = "datahub.platform_events_flush"
FLUSH_PART = 5_000  # events recorded per ingest batch, each part in one transaction
_DELETE_PART = 900  # ids per DELETE (SQLite's parameter limit)


@dataclass
class FlushReport:
    """What one flush of the outbox did."""

    recorded: int = 0  # events recorded as facts (or found already recorded)
    refused: int = 0  # events kept in the outbox with their error
    batches: int = 0  # ingest batches written


def platform_loan_event_enqueue(*, row: dict[str, Any], note: str = "") -> PendingPlatformEvent:
    """Keep one live loan event in the outbox, in the caller's transaction, and after the
    commit ask for the coalesced flush that records it (``platform_events_flush``).

    ``row`` has the keys of ``platform_loan_events_record`` (checked here: a wrong key fails
    the caller, as it always did); its values are kept as the text a delivery carries, so the
    flush validates and stores them exactly as a direct call would. The event is as durable
    as the caller's own writes: committed with them, or rolled back with them.
    """
    _loan_keys_check(0, row)
    event = PendingPlatformEvent.objects.create(
        row={key: _loan_cell(row.get(key)) for key in LOAN_ROW_KEYS}, note=note[:255]
    )
    # robust: a failure to queue must not turn a committed call into an error; the event
    # waits in the outbox for the next request or the periodic flush
    transaction.on_commit(platform_events_flush_request, robust=True)
    return event


def platform_events_flush_request() -> bool:
    """Queue the coalesced flush unless one is already queued; return whether this call did.

    The flush starts ``XINRONG_EVENT_FLUSH_SECONDS`` after the first request (on a backend
    that can defer a task), so the events of that window go into one batch.
    """
    from xinrong.datahub.services.coalesce import task_request
    from xinrong.datahub.tasks import platform_events_flush_task

    return task_request(
        name=FLUSH_REQUEST,
        task=platform_events_flush_task,
        delay_seconds=float(getattr(settings, "XINRONG_EVENT_FLUSH_SECONDS", 2)),
    )


def platform_events_flush(*, part: int = FLUSH_PART) -> FlushReport:
    """Record every pending loan event of the outbox as facts, ``part`` events per batch.

    Each part is one transaction: its events are locked (PostgreSQL skips the ones a
    concurrent flush holds), recorded through ``platform_loan_events_record`` and deleted, so
    an event becomes a fact exactly once however flushes race or crash (a crash rolls the part
    back and leaves its events for the next flush). An event the pipeline refuses is set aside
    with its error (see ``platform_events_refused``) and the others are recorded.
    """
    report = FlushReport()
    while True:
        with transaction.atomic():
            waiting = PendingPlatformEvent.objects.filter(failed_at__isnull=True).order_by("id")
            if connection.features.has_select_for_update_skip_locked:
                waiting = waiting.select_for_update(skip_locked=True)
            events = list(waiting[:part])
            if not events:
                return report
            batches, refused = _events_record(events)
            bad = {event.pk for event, _error in refused}
            done = [event.pk for event in events if event.pk not in bad]
            for start in range(0, len(done), _DELETE_PART):
                PendingPlatformEvent.objects.filter(
                    pk__in=done[start : start + _DELETE_PART]
                ).delete()
            now = timezone.now()
            for event, error in refused:
                event.failed_at, event.error = now, error
            PendingPlatformEvent.objects.bulk_update(
                [event for event, _error in refused], ["failed_at", "error"], batch_size=500
            )
        for event, error in refused:
            logger.error(
                "platform loan event %s (%s) not recorded: %s", event.pk, event.note, error
            )
        report.recorded += len(done)
        report.refused += len(refused)
        report.batches += batches


def _events_record(
    events: list[PendingPlatformEvent],
) -> tuple[int, list[tuple[PendingPlatformEvent, str]]]:
    """Record the events as one batch; return how many batches were written and the refused
    events with their errors.

    When the pipeline names bad rows they are set aside and the rest recorded; any other
    failure halves the events until the bad one is alone (a few more batches, only then).
    A lost database connection is not a bad row: it propagates and nothing is set aside.
    """
    note = events[0].note if len(events) == 1 else ""
    error: str
    try:
        with transaction.atomic():
            platform_loan_events_record(
                rows=[event.row for event in events],
                note=note or _("平台贷款事件 %(n)d 条") % {"n": len(events)},
            )
        return 1, []
    except (OperationalError, InterfaceError):
        raise
    except ApplicationError as exc:
        error = exc.message
        reasons: dict[int, str] = {}
        for named in exc.extra.get("errors", []):
            row = named.get("row")
            if isinstance(row, int) and 0 <= row < len(events):
                reasons.setdefault(
                    row, f"{named.get('key')}“{named.get('value')}”：{named.get('rule')}"
                )
        if reasons:
            refused = [(events[i], reasons[i]) for i in sorted(reasons)]
            rest = [event for i, event in enumerate(events) if i not in reasons]
            if not rest:
                return 0, refused
            batches, more = _events_record(rest)
            return batches, refused + more
    except Exception as exc:  # a fault the pipeline did not name: find the row by halving
        logger.exception("platform loan events: recording %d events failed", len(events))
        error = f"{type(exc).__name__}: {exc}"
    if len(events) == 1:
        return 0, [(events[0], error)]
    middle = len(events) // 2
    first, refused_first = _events_record(events[:middle])
    second, refused_second = _events_record(events[middle:])
    return first + second, refused_first + refused_second


def platform_events_refused() -> list[PendingPlatformEvent]:
    """Return the events a flush refused, oldest first, with their errors (for the operator)."""
    return list(PendingPlatformEvent.objects.filter(failed_at__isnull=False).order_by("id"))


def platform_events_retry(*, ids: list[int] | None = None) -> int:
    """Put refused events back in the outbox (all, or those ``ids``) for the next flush, e.g.
    after the entity they name was registered; return how many."""
    refused = PendingPlatformEvent.objects.filter(failed_at__isnull=False)
    if ids is not None:
        refused = refused.filter(pk__in=ids)
    return refused.update(failed_at=None, error="")
