"""Writes of the data hub: sources and the one ingestion pipeline behind upload, API and CLI."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import re
import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts import permissions
from xinrong.accounts.choices import OrgKind, Role
from xinrong.accounts.models import Organisation, User
from xinrong.accounts.services import organisation_create
from xinrong.common import bulk
from xinrong.common.errors import (
    ApplicationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
)
from xinrong.datahub import columns, limits, rules
from xinrong.datahub import rows as row_io
from xinrong.datahub.categories import CATEGORIES, CategorySpec
from xinrong.datahub.choices import (
    CONFLICT_OUTCOMES,
    BatchChannel,
    BatchStatus,
    Cadence,
    ConflictEventKind,
    ConflictStatus,
    ResolutionStatus,
)
from xinrong.datahub.crossval import conflicts_detect
from xinrong.datahub.models import (
    Conflict,
    ConflictEvent,
    Fact,
    IngestBatch,
    RowError,
    Source,
    UnresolvedRow,
)
from xinrong.datahub.signals import batch_completed
from xinrong.enterprises.models import MarketEntity
from xinrong.enterprises.names import name_key
from xinrong.notifications.services import notification_send
from xinrong.reference import divisions
from xinrong.reference import uscc as uscc_codec

Progress = Callable[[IngestBatch], None]


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


def _check_delivery(source: Source, category: str, actor: User | None) -> CategorySpec:
    spec = CATEGORIES.get(category)
    if spec is None:
        raise ApplicationError(
            "unknown_category",
            _("未知的数据类别：%(c)s") % {"c": category},
            {"field": "category"},
            status=422,
        )
    if category not in source.categories:
        raise ApplicationError(
            "category_not_allowed",
            _("数据来源“%(s)s”未登记报送“%(c)s”") % {"s": source.name, "c": _(spec.name)},
            {"field": "category"},
            status=422,
        )
    if not source.is_active:
        raise ApplicationError("source_inactive", _("数据来源已停用"), {"field": "source"})
    if actor is not None:
        # the department's own data reporters only (not its other staff, not the operator)
        permissions.require(
            actor,
            "datahub.batch_deliver",
            source,
            message=_("只有“%(o)s”的数据报送员可以报送该来源的数据") % {"o": source.organisation},
        )
    return spec


class _CodeRegistry:
    """USCC → id of registered entities; each distinct code is read from the database once."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.absent: set[str] = set()

    def __call__(self, codes: list[str]) -> dict[str, int]:
        new = [c for c in codes if c not in self.ids and c not in self.absent]
        for part in _chunks(new, 50_000 if connection.vendor == "postgresql" else 5000):
            found = self._read(part)
            self.ids.update(found)
            self.absent.update(c for c in part if c not in found)
        return self.ids

    @staticmethod
    def _read(codes: list[str]) -> dict[str, int]:
        if connection.vendor == "postgresql":  # one array parameter instead of thousands
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT uscc, id FROM {MarketEntity._meta.db_table} "  # noqa: S608
                    "WHERE uscc = ANY(%s)",
                    [codes],
                )
                return dict(cursor.fetchall())
        return dict(MarketEntity.objects.filter(uscc__in=codes).values_list("uscc", "pk"))


class _NameResolver:
    """Tie rows without a USCC to entities: by exact name, else by normalised name (+ region)."""

    def __init__(self) -> None:
        self.by_name: dict[tuple[str, str], int | None] = {}

    def __call__(self, name: str, region: str) -> int | None:
        key = (name, region)
        if key not in self.by_name:
            self.by_name[key] = self._by_name(name, region)
        return self.by_name[key]

    @staticmethod
    def _by_name(name: str, region: str) -> int | None:
        qs = MarketEntity.objects.all()
        if region and divisions.get(region):
            qs = qs.filter(division_code__startswith=divisions.descendants_prefix(region))
        exact = list(qs.filter(name=name).values_list("pk", flat=True)[:2])
        if len(exact) == 1:
            return exact[0]
        if len(exact) > 1:
            return None  # ambiguous: an operator decides
        loose = list(qs.filter(name_key=name_key(name)).values_list("pk", flat=True)[:2])
        return loose[0] if len(loose) == 1 else None


def _chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _limit_error(exc: row_io.FileFormatError, field: str = "file") -> ApplicationError:
    return ApplicationError(exc.code, str(exc), {"field": field}, status=exc.status)


def delivery_size(*, fileobj: IO[bytes], filename: str) -> int:
    """Return the bytes a delivery holds (an XLSX uncompressed); refuse one beyond the bounds.

    An XLSX is measured before openpyxl opens it, so a zip bomb never reaches the parser.
    """
    if filename.lower().endswith(".xlsx"):
        try:
            return row_io.xlsx_uncompressed_size(fileobj, limit=limits.xlsx_max_uncompressed())
        except row_io.FileFormatError as exc:
            raise _limit_error(exc) from exc
    fileobj.seek(0, 2)
    size = fileobj.tell()
    fileobj.seek(0)
    return size


def _register(
    source: Source,
    category: str,
    fileobj: IO[bytes],
    filename: str,
    channel: str,
    actor: User | None,
) -> tuple[IngestBatch, int, bool]:
    _check_delivery(source, category, actor)
    size = delivery_size(fileobj=fileobj, filename=filename)
    digest = row_io.file_hash(fileobj)
    batch, created = IngestBatch.objects.get_or_create(
        source=source,
        category=category,
        content_hash=digest,
        defaults={"channel": channel, "filename": filename[:255], "created_by": actor},
    )
    return batch, size, created


def batch_register(
    *,
    source: Source,
    category: str,
    fileobj: IO[bytes],
    filename: str,
    channel: str,
    actor: User | None = None,
) -> IngestBatch:
    """Check the delivery and its bounds; return its batch (the existing one for the same content).

    A file beyond the bounds (an XLSX expanding past ``XINRONG_XLSX_MAX_UNCOMPRESSED_BYTES``) is
    refused with a 4xx ``ApplicationError`` before any batch exists.
    """
    return _register(source, category, fileobj, filename, channel, actor)[0]


@dataclass(frozen=True)
class Delivery:
    """What became of a delivered file: its batch, and whether it existed or was queued."""

    batch: IngestBatch
    existed: bool = False  # the same content was already ingested, or is being ingested now
    queued: bool = False  # stored for the task worker instead of processed in this request


def batch_deliver(
    *,
    source: Source,
    category: str,
    fileobj: IO[bytes],
    filename: str,
    channel: str,
    actor: User | None = None,
) -> Delivery:
    """Register a delivered file; process it here when small, else store it for the worker.

    "Small" is measured on the content (an XLSX uncompressed) against
    ``XINRONG_INGEST_INLINE_BYTES``, so a compact workbook that expands a lot is not processed
    inside a web request either.
    """
    batch, size, created = _register(source, category, fileobj, filename, channel, actor)
    if batch.status == BatchStatus.COMPLETED or (not created and batch_is_live(batch)):
        return Delivery(batch, existed=True)
    if size <= limits.inline_bytes():
        return Delivery(batch_process(batch=batch, fileobj=fileobj))
    return Delivery(batch_enqueue(batch=batch, fileobj=fileobj), queued=True)


def batch_rows_check(*, count: int, field: str = "rows") -> None:
    """Refuse a delivery of more rows than a batch may hold, before anything is stored."""
    limit = limits.max_rows()
    if count > limit:
        raise ApplicationError(
            "too_many_rows",
            _("%(f)s 不符合行数限制：每批最多 %(n)s 行，收到 %(m)s 行；请分批报送")
            % {"f": field, "n": f"{limit:,}", "m": f"{count:,}"},
            {"field": field, "limit": limit},
            status=413,
        )


def _stored_path(name: str) -> Path:
    if not name or Path(name).name != name:  # only names this module made: no folders
        raise ValueError(name)
    return limits.uploads_dir() / name


def batch_enqueue(*, batch: IngestBatch, fileobj: IO[bytes]) -> IngestBatch:
    """Save the file under MEDIA_ROOT/uploads and queue the batch for the task worker."""
    from xinrong.datahub.tasks import ingest_stored_file

    if batch.status != BatchStatus.PENDING or batch.processed or batch.errors_total:
        _batch_reset(batch)  # a failed batch delivered again starts afresh
    folder = limits.uploads_dir()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{uuid.uuid4().hex}{Path(batch.filename).suffix.lower()[:8]}"
    fileobj.seek(0)
    with (folder / name).open("wb") as out:
        shutil.copyfileobj(fileobj, out, 1 << 20)
    old = batch.stored_file
    IngestBatch.objects.filter(pk=batch.pk).update(
        stored_file=name, task_id="", heartbeat_at=timezone.now()
    )
    if old and old != name:
        _stored_path(old).unlink(missing_ok=True)
    result = ingest_stored_file.enqueue(batch.pk)
    # an immediate backend has already run it (and cleared stored_file): keep that outcome
    IngestBatch.objects.filter(pk=batch.pk, stored_file=name).update(task_id=str(result.id))
    batch.refresh_from_db()
    return batch


def batch_process_stored(*, batch_id: int, path: str = "") -> IngestBatch:
    """Process a batch from its stored file (the task worker); delete the file once it is done.

    ``path`` is how tasks queued before ``stored_file`` existed named their file. A batch whose
    file is gone (deleted by hand) fails with a message asking for the file again.
    """
    batch = IngestBatch.objects.get(pk=batch_id)
    if batch.stored_file:
        stored = _stored_path(batch.stored_file)
    elif path:
        stored = Path(path)
    else:
        return batch  # already finished by an earlier run of the same task
    if not stored.exists():
        if batch.status not in (BatchStatus.COMPLETED, BatchStatus.FAILED):
            _batch_fail(batch, _("处理中断且待处理文件已不存在，请重新上传该文件"))
        IngestBatch.objects.filter(pk=batch.pk).update(stored_file="")
        batch.refresh_from_db()
        return batch
    try:
        with stored.open("rb") as fh:
            batch = batch_process(batch=batch, fileobj=fh)
    finally:
        # a worker stopped midway (SystemExit, SIGKILL) leaves the file for recovery
        status = IngestBatch.objects.filter(pk=batch.pk).values_list("status", flat=True).first()
        if status in (BatchStatus.COMPLETED, BatchStatus.FAILED, None):
            stored.unlink(missing_ok=True)
            IngestBatch.objects.filter(pk=batch.pk).update(stored_file="")
    batch.refresh_from_db()
    return batch


def _batch_fail(batch: IngestBatch, failure: str) -> None:
    """Mark a batch failed and remove whatever it had written (nothing half-written remains)."""
    IngestBatch.objects.filter(pk=batch.pk).update(
        status=BatchStatus.FAILED, failure=failure, finished_at=timezone.now()
    )
    _batch_reset(batch, keep_status=True)


def batch_process(
    *, batch: IngestBatch, fileobj: IO[bytes], progress: Progress | None = None
) -> IngestBatch:
    """Run the pipeline for a registered batch; a completed batch is returned unchanged.

    Facts of a batch become visible only when it completes; a batch interrupted midway is
    cleaned and redone.
    """
    spec = CATEGORIES[batch.category]
    return _batch_run(batch, lambda: columns.read_chunks(spec, fileobj, batch.filename), progress)


class _SupersededError(Exception):
    """Another run of the batch took over (recovery restarted it while this one still ran)."""


def _batch_run(
    batch: IngestBatch,
    chunks: Callable[[], Iterable[columns.Chunk]],
    progress: Progress | None,
) -> IngestBatch:
    """Validate, resolve and store the chunks of a registered batch (see ``batch_process``)."""
    batch.refresh_from_db()
    if batch.status == BatchStatus.COMPLETED:
        return batch
    spec = CATEGORIES[batch.category]
    if batch.status != BatchStatus.PENDING or batch.processed or batch.errors_total:
        _batch_reset(batch)
    now = timezone.now()
    IngestBatch.objects.filter(pk=batch.pk).update(
        status=BatchStatus.PROCESSING,
        started_at=now,
        heartbeat_at=now,
        finished_at=None,
        failure="",
        attempts=F("attempts") + 1,
    )
    batch.refresh_from_db()
    try:
        _ingest_rows(batch, spec, chunks(), progress)
    except _SupersededError:
        pass  # recovery restarted the batch meanwhile: the newer run carries on
    except row_io.FileFormatError as exc:
        _batch_fail(batch, str(exc))
        raise _limit_error(exc) from exc
    except Exception:
        # a fault of the platform, not of the file: fail the batch rather than leave it
        # "processing" for recovery to run again and again; the traceback goes to the caller
        with contextlib.suppress(DatabaseError), transaction.atomic():
            _batch_fail(batch, _("处理时发生系统错误，已停止且未保留任何数据；请联系平台运营方"))
        raise
    batch.refresh_from_db()
    return batch


def batch_ingest(
    *,
    source: Source,
    category: str,
    fileobj: IO[bytes],
    filename: str,
    channel: str,
    actor: User | None = None,
    progress: Progress | None = None,
) -> IngestBatch:
    """Register and process a delivered file in this process; return its batch.

    The same content again returns the completed batch unchanged.
    """
    batch = batch_register(
        source=source,
        category=category,
        fileobj=fileobj,
        filename=filename,
        channel=channel,
        actor=actor,
    )
    return batch_process(batch=batch, fileobj=fileobj, progress=progress)


# ---------------------------------------------------------------- recovery of interrupted runs

_UNFINISHED = (BatchStatus.PENDING, BatchStatus.PROCESSING)


def batch_is_live(batch: IngestBatch) -> bool:
    """Return whether an unfinished batch is being (or about to be) processed by someone.

    Its task, when it has one the backend can look up, tells: queued, or running on a live
    worker. Otherwise (processed in a request or by ``xinrong ingest``, or a backend that keeps
    no results) recent progress does: a chunk written within ``XINRONG_INGEST_STALE_SECONDS``.
    """
    from xinrong.common.workers import task_alive

    if batch.status not in _UNFINISHED:
        return False
    if batch.task_id:
        from xinrong.datahub.tasks import ingest_stored_file

        backend = ingest_stored_file.get_backend()
        if backend.supports_get_result:
            try:
                result = backend.get_result(batch.task_id)
            except Exception:  # a result pruned or unknown: judged by progress instead
                result = None
            if result is not None:
                return task_alive(
                    status=result.status,
                    worker_ids=list(result.worker_ids),
                    started_at=result.started_at,
                    stale_after=limits.task_stale_seconds(),
                )
    last = batch.heartbeat_at or batch.started_at or batch.created_at
    return last >= timezone.now() - dt.timedelta(seconds=limits.stale_seconds())


@dataclass
class Recovery:
    """What a recovery sweep did."""

    tasks_failed: int = 0
    restarted: int = 0
    failed: int = 0
    files_deleted: int = 0


def _batch_recover(batch_id: int) -> str:
    """Restart (from its stored file) or fail one stale batch; say which ("" for neither)."""
    from xinrong.datahub.tasks import ingest_stored_file

    with transaction.atomic():
        batch = IngestBatch.objects.select_for_update().filter(pk=batch_id).first()
        if batch is None or batch_is_live(batch):
            return ""  # finished or restarted by someone else meanwhile
        stored = _stored_path(batch.stored_file) if batch.stored_file else None
        if stored is not None and stored.exists() and batch.attempts < limits.max_attempts():
            _batch_reset(batch)  # its chunks so far are removed; the rerun writes them again
            IngestBatch.objects.filter(pk=batch.pk).update(
                heartbeat_at=timezone.now(), task_id="", started_at=None
            )
            name = batch.stored_file
            transaction.on_commit(lambda: _batch_requeue(batch.pk, name, ingest_stored_file))
            return "restarted"
        if stored is not None and stored.exists():
            failure = _(
                "处理已中断 %(n)d 次（进程被终止，可能文件过大），已停止；请拆分后重新上传"
            ) % {"n": batch.attempts}
        else:
            failure = _("处理中断（进程被终止），已清除该批次写入的数据；请重新报送该文件")
        _batch_fail(batch, failure)
        if stored is not None:
            stored.unlink(missing_ok=True)
        IngestBatch.objects.filter(pk=batch.pk).update(stored_file="", task_id="")
        return "failed"


def _batch_requeue(batch_id: int, name: str, task: Any) -> None:
    result = task.enqueue(batch_id)
    IngestBatch.objects.filter(pk=batch_id, stored_file=name, task_id="").update(
        task_id=str(result.id)
    )


def _orphans_delete(older_than: dt.datetime) -> int:
    """Delete stored uploads that no unfinished batch needs; return how many."""
    folder = limits.uploads_dir()
    if not folder.is_dir():
        return 0
    for batch_id, name in (
        IngestBatch.objects.exclude(stored_file="")
        .exclude(status__in=_UNFINISHED)
        .values_list("pk", "stored_file")
    ):  # finished batches keep no file
        with contextlib.suppress(ValueError):
            _stored_path(name).unlink(missing_ok=True)
        IngestBatch.objects.filter(pk=batch_id, stored_file=name).update(stored_file="")
    needed = set(
        IngestBatch.objects.filter(status__in=_UNFINISHED)
        .exclude(stored_file="")
        .values_list("stored_file", flat=True)
    )
    deleted = 0
    cutoff = older_than.timestamp()
    for path in folder.iterdir():
        with contextlib.suppress(FileNotFoundError):
            if path.is_file() and path.name not in needed and path.stat().st_mtime < cutoff:
                path.unlink()
                deleted += 1
    return deleted


def ingest_recover() -> Recovery:
    """Recover interrupted ingestion; run when a worker starts and by the periodic sweep.

    1. RUNNING tasks whose worker is gone are marked failed.
    2. Unfinished batches that nobody is processing any more (see ``batch_is_live``) are
       restarted from their stored file, which is idempotent: the batch's facts so far are
       removed first and were never visible (facts show only once their batch completes).
       A batch without a file, or interrupted ``XINRONG_INGEST_MAX_ATTEMPTS`` times, fails
       with a message saying what to do, and keeps nothing.
    3. Stored uploads that no unfinished batch needs, older than ``XINRONG_UPLOAD_ORPHAN_HOURS``,
       are deleted (a finished batch's file at once).
    """
    from xinrong.common.workers import tasks_fail_lost

    report = Recovery(tasks_failed=tasks_fail_lost(stale_after=limits.task_stale_seconds()))
    for batch in IngestBatch.objects.filter(status__in=_UNFINISHED).order_by("pk"):
        if batch_is_live(batch):
            continue
        outcome = _batch_recover(batch.pk)
        if outcome == "restarted":
            report.restarted += 1
        elif outcome == "failed":
            report.failed += 1
    report.files_deleted = _orphans_delete(
        timezone.now() - dt.timedelta(seconds=limits.orphan_seconds())
    )
    return report


def _batch_reset(batch: IngestBatch, *, keep_status: bool = False) -> None:
    """Remove whatever an interrupted run of this batch left behind."""
    with transaction.atomic():
        Fact.objects.filter(batch=batch).delete()
        RowError.objects.filter(batch=batch).delete()
        UnresolvedRow.objects.filter(batch=batch).delete()
        fields: dict[str, object] = {
            "received": 0,
            "accepted": 0,
            "rejected": 0,
            "duplicates": 0,
            "unresolved": 0,
            "conflicts": 0,
            "processed": 0,
            "errors_total": 0,
        }
        if not keep_status:
            fields["status"] = BatchStatus.PENDING
        IngestBatch.objects.filter(pk=batch.pk).update(**fields)


def first_seen(hashes: np.ndarray, seen: set[int]) -> np.ndarray:
    """Mark rows whose hash is neither earlier in ``hashes`` nor in ``seen``; add them to it."""
    order = np.argsort(hashes, kind="stable")
    ordered = hashes[order]
    first = np.ones(len(hashes), dtype=bool)
    first[order[1:]] = ordered[1:] != ordered[:-1]  # the earliest row of equal hashes stays
    fresh = first & np.fromiter((h not in seen for h in hashes.tolist()), bool, len(hashes))
    seen.update(hashes[fresh].tolist())
    return fresh


def facts_store(
    *,
    batch: IngestBatch,
    spec: CategorySpec,
    values: dict[str, pa.Array],
    entity_ids: np.ndarray,
    hashes: np.ndarray,
) -> int:
    """Store validated rows (canonical text per field) as facts of a batch; return how many.

    A row whose hash is already stored for the same entity and source is skipped by the
    unique index (the caller counts it as a duplicate). Written column-wise, without model
    objects: COPY into a staging table on PostgreSQL, executemany elsewhere.
    """
    n = len(entity_ids)
    if not n:
        return 0
    typed = columns.fact_columns(spec, values)

    def col(name: str, default: str | None) -> pa.Array:
        arr = typed.get(name)
        if arr is None:
            return pa.nulls(n, pa.string()) if default is None else pa.array([default] * n)
        return pc.fill_null(arr, default) if default is not None else arr

    flag = typed.get("flag")
    table: dict[str, Any] = {
        "batch_id": batch.pk,
        "source_id": batch.source_id,
        "category": spec.code,
        "entity_id": pa.array(entity_ids, pa.int64()),
        "row_hash": pa.array(hashes, pa.int64()),
        "period": col("period", ""),
        "occurred_on": col("occurred_on", None),
        "behaviour_end": col("behaviour_end", None),
        "amount": col("amount", None),
        "arrears": col("arrears", None),
        "quantity": col("quantity", None),
        "grade": col("grade", ""),
        "status": col("status", ""),
        "flag": pc.fill_null(pc.equal(flag, "True"), False)
        if flag is not None
        else pa.array([False] * n),
        "reference_no": col("reference_no", ""),
        "negative": typed["negative"],
        "retention_until": typed["retention_until"],
        "data": columns.json_objects(
            values, [k for k in values if k != "uscc" and not spec.by_key[k].column]
        ),
    }
    return _facts_write(bulk.table_of(table, n))


_STAGE = "xinrong_fact_stage"  # per-connection temporary table the COPY lands in


def _facts_write(table: pa.Table) -> int:
    """Append fact rows; return how many were new (the unique key skips stored rows).

    On PostgreSQL the rows are copied into a per-connection staging table and inserted from
    there, because COPY itself cannot skip conflicts.
    """
    target = Fact._meta.db_table
    skip = " ON CONFLICT (entity_id, source_id, row_hash) DO NOTHING"
    if connection.vendor != "postgresql":
        return bulk.insert_rows(target, table, suffix=skip)
    names = ", ".join(table.column_names)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} ON COMMIT DELETE ROWS AS "  # noqa: S608
            f"SELECT {names} FROM {target} WITH NO DATA"
        )
        bulk.copy_into(cursor, _STAGE, table)
        cursor.execute(f"INSERT INTO {target} ({names}) SELECT {names} FROM {_STAGE}{skip}")  # noqa: S608
        stored = int(cursor.rowcount)
        cursor.execute(f"TRUNCATE {_STAGE}")
        return stored


def _ingest_rows(
    batch: IngestBatch,
    spec: CategorySpec,
    chunks: Iterable[columns.Chunk],
    progress: Progress | None,
) -> None:
    registry = _CodeRegistry()
    by_name = _NameResolver()
    seen: set[int] = set()
    touched: set[int] = set()
    delivered: set[tuple[str, str]] = set()
    counts = {
        "received": 0,
        "accepted": 0,
        "rejected": 0,
        "duplicates": 0,
        "unresolved": 0,
        "errors_total": 0,
    }
    row_limit, error_room = limits.max_rows(), limits.stored_errors()
    run = batch.started_at
    for chunk in chunks:
        last_row = int(chunk.numbers.max())
        if last_row - 1 > row_limit:  # row 1 is the header; empty rows count too
            raise row_io.TooManyRowsError(
                _(
                    "文件（file）不符合行数限制：每批最多 %(n)s 行，"
                    "该文件超过了这一数量；请拆分后分批报送"
                )
                % {"n": f"{row_limit:,}"}
            )
        checked = columns.check_chunk(spec, chunk, registry)
        counts["received"] += len(chunk)
        good = np.flatnonzero(checked.ok)
        counts["rejected"] += len(chunk) - len(good)
        counts["errors_total"] += len(checked.errors)
        # only the first errors are stored; the rest are counted (a bad file must not flood
        # the database: see docs/security.md)
        errors = [
            RowError(batch=batch, row_number=n, column=col, value=val, rule=rule)
            for n, col, val, rule in checked.errors[: max(error_room, 0)]
        ]
        error_room -= len(errors)
        take = pa.array(good)
        values = {k: v.take(take) for k, v in checked.values.items()}
        entity_ids = checked.entity_ids[good]
        numbers = checked.numbers[good]
        hashes = columns.hash64(columns.canonical_rows(spec.code, values))
        fresh = first_seen(hashes, seen)
        counts["duplicates"] += int((~fresh).sum())
        nameless = fresh & (entity_ids < 0) & ~columns.present(values["uscc"])
        for i in np.flatnonzero(nameless).tolist():
            found = by_name(values["name"][i].as_py() or "", values["region"][i].as_py() or "")
            if found is not None:
                entity_ids[i] = found
        waiting = np.flatnonzero(fresh & (entity_ids < 0))
        unresolved = [
            UnresolvedRow(
                batch=batch,
                row_number=int(numbers[i]),
                name=(values["name"][i].as_py() or "")[:200],
                region=values["region"][i].as_py() or "",
                values=columns.row_values(values, i),
            )
            for i in waiting.tolist()
        ]
        counts["unresolved"] += len(unresolved)
        ready = fresh & (entity_ids >= 0)
        keep = pa.array(ready)
        with transaction.atomic():
            stored = facts_store(
                batch=batch,
                spec=spec,
                values={k: pc.filter(v, keep) for k, v in values.items()},
                entity_ids=entity_ids[ready],
                hashes=hashes[ready],
            )
            RowError.objects.bulk_create(errors, batch_size=2000)
            UnresolvedRow.objects.bulk_create(unresolved, batch_size=1000)
            counts["accepted"] += stored
            counts["duplicates"] += int(ready.sum()) - stored
            # ``started_at`` identifies this run: a restart by recovery clears it, and then
            # this chunk is rolled back instead of mixing with the newer run's rows
            if not IngestBatch.objects.filter(pk=batch.pk, started_at=run).update(
                processed=counts["received"],
                heartbeat_at=timezone.now(),
                **{k: v for k, v in counts.items() if k != "received"},
            ):
                raise _SupersededError
        touched.update(np.unique(entity_ids[ready]).tolist())
        delivered.update((spec.code, k) for k, v in values.items() if v.null_count < len(v))
        if progress is not None:
            batch.refresh_from_db()
            progress(batch)
    if not IngestBatch.objects.filter(pk=batch.pk, started_at=run).update(
        status=BatchStatus.COMPLETED,
        finished_at=timezone.now(),
        processed=counts["received"],
        **counts,
    ):
        raise _SupersededError
    found = conflicts_detect(touched, delivered=delivered)
    IngestBatch.objects.filter(pk=batch.pk).update(conflicts=found)
    batch_id = batch.pk
    transaction.on_commit(lambda: batch_completed.send(sender=IngestBatch, batch_id=batch_id))


def source_get(*, code: str) -> Source:
    """Return a source by code or raise NotFoundError naming it."""
    source = Source.objects.select_related("organisation").filter(code=code).first()
    if source is None:
        raise NotFoundError(
            "source_not_found", _("数据来源“%(c)s”不存在") % {"c": code}, {"field": "source"}
        )
    return source


def _require_resolver(actor: User, row: UnresolvedRow) -> None:
    permissions.require(
        actor,
        "datahub.unresolved_resolve",
        row,
        message=_("只有所辖平台运营管理员可以处理待关联记录"),
    )


@transaction.atomic
def unresolved_resolve(*, row: UnresolvedRow, uscc: str, actor: User) -> Fact | None:
    """Attach a waiting row to the entity with this USCC and store it as a fact.

    Returns None when the same row is already a fact (it is then only closed).
    """
    row = (
        UnresolvedRow.objects.select_for_update()
        .select_related("batch__source__organisation")
        .get(pk=row.pk)
    )
    _require_resolver(actor, row)
    if row.status != ResolutionStatus.OPEN:
        raise ApplicationError("already_handled", _("该记录已处理"), {"field": "row"}, status=409)
    code = uscc_codec.parse(uscc).code
    entity = MarketEntity.objects.filter(uscc=code).first()
    if entity is None:
        raise NotFoundError(
            "entity_not_found",
            _("未找到统一社会信用代码为 %(code)s 的市场主体") % {"code": code},
            {"field": "uscc"},
        )
    spec = CATEGORIES[row.batch.category]
    values = {f.key: row.values.get(f.key) or None for f in spec.all_fields}
    values["uscc"] = code
    cols = {k: pa.array([v], pa.string()) for k, v in values.items()}
    digest = columns.hash64(columns.canonical_rows(spec.code, cols))
    stored = facts_store(
        batch=row.batch,
        spec=spec,
        values=cols,
        entity_ids=np.array([entity.pk], dtype=np.int64),
        hashes=digest,
    )
    fact = (
        Fact.objects.get(
            entity=entity, category=spec.code, source=row.batch.source, row_hash=int(digest[0])
        )
        if stored
        else None
    )
    row.status = ResolutionStatus.RESOLVED
    row.resolved_entity = entity
    row.resolved_by = actor
    row.save(update_fields=["status", "resolved_entity", "resolved_by", "updated_at"])
    return fact


@transaction.atomic
def unresolved_discard(*, row: UnresolvedRow, actor: User) -> UnresolvedRow:
    """Close a waiting row without storing it (e.g. the subject is not a market entity)."""
    row = (
        UnresolvedRow.objects.select_for_update()
        .select_related("batch__source__organisation")
        .get(pk=row.pk)
    )
    _require_resolver(actor, row)
    if row.status != ResolutionStatus.OPEN:
        raise ApplicationError("already_handled", _("该记录已处理"), {"field": "row"}, status=409)
    row.status = ResolutionStatus.DISCARDED
    row.resolved_by = actor
    row.save(update_fields=["status", "resolved_by", "updated_at"])
    return row


# ---------------------------------------------------------------- corrections


@dataclass(frozen=True)
class FactCorrection:
    """What a correction changed: the row before and after (canonical text) and the keys."""

    fact: Fact
    before: dict[str, str]
    after: dict[str, str]
    changed: tuple[str, ...]


_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Typed columns stored as text; the others are nullable numbers and dates, or the flag.
_TEXT_COLUMNS = frozenset({"period", "grade", "status", "reference_no"})


def fact_values_check(
    *, category: str, changes: dict[str, Any], field_prefix: str = "values"
) -> dict[str, str]:
    """Validate new values for a fact's fields by its category's rules; return canonical text.

    Keys are the category's field keys (not the identity columns); an empty value clears an
    optional field. Each value goes through ``rows.parse_field``, the rule every delivered cell
    obeys. Errors name the field as ``<field_prefix>.<key>``.
    """
    spec = CATEGORIES.get(category)
    if spec is None:
        raise ApplicationError(
            "unknown_category",
            _("未知的数据类别：%(c)s") % {"c": category},
            {"field": "category"},
            status=422,
        )
    allowed = {f.key: f for f in spec.fields}
    out: dict[str, str] = {}
    for key, raw in changes.items():
        name = f"{field_prefix}.{key}"
        f = allowed.get(str(key))
        if f is None:
            raise ApplicationError(
                "unknown_field",
                _("字段“%(k)s”不属于“%(c)s”信息；可填写的字段：%(keys)s")
                % {
                    "k": key,
                    "c": _(spec.name),
                    "keys": "、".join(f"{x.key}（{_(x.header)}）" for x in spec.fields),
                },
                {"field": name},
                status=422,
            )
        if raw is None:
            text = ""
        elif isinstance(raw, bool):
            text = "是" if raw else "否"
        elif isinstance(raw, str | int | float | Decimal):
            text = str(raw).strip()
        else:
            raise ApplicationError(
                "invalid_value",
                _("“%(h)s”应为文本或数字") % {"h": _(f.header)},
                {"field": name},
                status=422,
            )
        if _CONTROL_CHARS.search(text) or _has_surrogate(text):
            raise ApplicationError(
                "invalid_value",
                _("“%(h)s”不能包含控制字符或无效字符") % {"h": _(f.header)},
                {"field": name},
                status=422,
            )
        if not text:
            if f.required:
                raise ApplicationError(
                    "required_field",
                    _("“%(h)s”为必填项，不能清空") % {"h": _(f.header)},
                    {"field": name},
                    status=422,
                )
            out[f.key] = ""
            continue
        try:
            value = row_io.parse_field(f, text)
        except ValueError as exc:
            raise ApplicationError(
                "invalid_value",
                _("“%(h)s”的值“%(v)s”不正确：%(rule)s")
                % {"h": _(f.header), "v": text[:50], "rule": exc},
                {"field": name},
                status=422,
            ) from exc
        out[f.key] = columns.canonical(value)
    return out


def _has_surrogate(text: str) -> bool:
    """Return True for text with lone surrogates (not storable as UTF-8)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


@transaction.atomic
def fact_correct(*, fact: Fact, changes: dict[str, Any], actor: User) -> FactCorrection:
    """Correct a stored fact's values (a department answering a dispute, or the operator).

    The new values obey the category's rules; the typed columns, ``data``, negativity and
    retention date are rebuilt exactly as ingestion builds them. ``row_hash`` keeps the hash
    of the row as delivered, so a later re-delivery of the same wrong row stays a duplicate
    instead of bringing the wrong value back. Cross-validation reruns for the changed fields.
    """
    fact = Fact.objects.select_for_update().select_related("source", "batch").get(pk=fact.pk)
    if fact.batch.status != BatchStatus.COMPLETED:
        raise NotFoundError("fact_not_found", _("信用信息不存在"), {"field": "fact"})
    if not permissions.can(actor, "datahub.fact_correct", fact.source):
        raise PermissionDeniedError(
            "forbidden",
            _("只有“%(o)s”的数据报送员或平台运营管理员可以更正该信息")
            % {"o": fact.source.organisation},
        )
    spec = CATEGORIES[fact.category]
    checked = fact_values_check(category=fact.category, changes=changes)
    before = fact.values()
    after = dict(before)
    for key, text in checked.items():
        if text:
            after[key] = text
        else:
            after.pop(key, None)
    changed = tuple(k for k in checked if before.get(k) != after.get(k))
    if not changed:
        raise ApplicationError(
            "nothing_changed", _("更正后的值与原值相同"), {"field": "values"}, status=422
        )
    data = dict(fact.data)
    for f in spec.fields:
        text = after.get(f.key, "")
        if not f.column:
            if text:
                data[f.key] = text
            else:
                data.pop(f.key, None)
            continue
        if text:
            value = row_io.parse_field(f, text)
            if f.column in ("amount", "arrears", "quantity"):
                value = Decimal(value)
        else:
            value = "" if f.column in _TEXT_COLUMNS else (False if f.column == "flag" else None)
        setattr(fact, f.column, value)
    typed = columns.fact_columns(
        spec, {f.key: pa.array([after.get(f.key)], pa.string()) for f in spec.all_fields}
    )
    fact.negative = bool(typed["negative"][0].as_py())
    retention = typed["retention_until"][0].as_py()
    fact.retention_until = dt.date.fromisoformat(retention) if retention else None
    fact.data = data
    fact.save(
        update_fields=[
            *sorted({f.column for f in spec.fields if f.column}),
            "negative",
            "retention_until",
            "data",
        ]
    )
    conflicts_detect([fact.entity_id], delivered={(spec.code, k) for k in changed})
    return FactCorrection(fact=fact, before=before, after=after, changed=changed)


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


def _loan_chunk(rows: list[dict[str, Any]]) -> columns.Chunk:
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
    return columns.Chunk(np.arange(len(rows), dtype=np.int64), cells)


def _content_digest(chunk: columns.Chunk) -> str:
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
    _check_delivery(source, LOAN_CATEGORY, None)
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
    batch = _batch_run(batch, lambda: [chunk], None)
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


# ---------------------------------------------------------------- conflicts (交叉验证冲突)

NOTE_MAX = 2000


def _conflict_note(note: str) -> str:
    note = (note or "").strip()
    if not note:
        raise ApplicationError(
            "note_required", _("请填写处理说明（note）"), {"field": "note"}, status=422
        )
    if len(note) > NOTE_MAX:
        raise ApplicationError(
            "note_too_long",
            _("处理说明不能超过 %(n)d 字") % {"n": NOTE_MAX},
            {"field": "note"},
            status=422,
        )
    return note


def _conflict_event_record(
    *, conflict: Conflict, kind: str, actor: User, from_status: str, note: str, data: dict
) -> ConflictEvent:
    event = ConflictEvent(
        conflict=conflict,
        kind=kind,
        actor=actor,
        from_status=from_status,
        to_status=conflict.status,
        note=note,
        data=data,
    )
    event.full_clean()
    event.save()
    return event


def _conflict_save(conflict: Conflict, **values: Any) -> None:
    """Set the handling fields (all of them, every time) and save them after validating."""
    for name, value in values.items():
        setattr(conflict, name, value)
    conflict.full_clean(exclude=["entity"])
    conflict.save(update_fields=[*values, "updated_at"])


def _conflict_notify(*, conflict: Conflict, actor: User, title: str, body: str) -> None:
    """Tell the departments the conflict involves (not the actor) once the change is committed."""
    orgs = set(
        Source.objects.filter(code__in=conflict.sources).values_list("organisation_id", flat=True)
    )
    link = reverse("datahub:conflict_detail", args=[conflict.pk])

    def send() -> None:
        users = (
            User.objects.filter(
                is_active=True,
                api_key__isnull=True,
                organisation_id__in=orgs,
                roles__role=Role.DATA_PROVIDER,
            )
            .exclude(pk=actor.pk)
            .distinct()
        )
        notification_send(
            recipients=list(users), kind="datahub.conflict", title=title, body=body, link=link
        )

    transaction.on_commit(send)


@transaction.atomic
def conflict_resolve(
    *,
    conflict: Conflict,
    actor: User,
    outcome: str,
    note: str,
    blamed_source: Source | None = None,
    blamed_registry: bool = False,
) -> Conflict:
    """Close an open conflict as confirmed_error, explained or dismissed, with a written note.

    confirmed_error names the source whose data was wrong: one of the conflict's sources
    (``blamed_source``), or the registry (``blamed_registry``) when the conflict involves it.
    The involved departments' data providers may close it, and the operator admins of the
    entity's region.
    """
    conflict = Conflict.objects.select_for_update().select_related("entity").get(pk=conflict.pk)
    if not permissions.can(actor, "datahub.conflict_resolve", conflict):
        raise PermissionDeniedError(
            "forbidden",
            _("只有涉及该冲突的数据来源（%(s)s）的数据报送员或所辖平台运营管理员可以处理")
            % {"s": "、".join(conflict.sources)},
        )
    if conflict.status != ConflictStatus.OPEN:
        raise ConflictError(
            "conflict_closed",
            _("该冲突已处理（%(s)s），如需重新处理请由平台运营方重新打开")
            % {"s": conflict.get_status_display()},
            {"field": "status"},
        )
    if outcome not in CONFLICT_OUTCOMES:
        raise ApplicationError(
            "invalid_outcome",
            _("处理结果“%(o)s”无效；可选：%(all)s")
            % {"o": outcome, "all": "、".join(str(o) for o in CONFLICT_OUTCOMES)},
            {"field": "outcome"},
            status=422,
        )
    note = _conflict_note(note)
    blame = rules.REGISTRY if blamed_registry else (blamed_source.code if blamed_source else "")
    if outcome == ConflictStatus.CONFIRMED_ERROR:
        if blamed_source is None and not blamed_registry:
            raise ApplicationError(
                "blame_required",
                _("确认数据有误时须指明哪个来源的数据有误（blamed_source），可选：%(all)s")
                % {"all": "、".join(conflict.sources)},
                {"field": "blamed_source"},
                status=422,
            )
        if blamed_source is not None and blamed_registry:
            raise ApplicationError(
                "blame_twice",
                _("只能指明一个数据有误的来源"),
                {"field": "blamed_source"},
                status=422,
            )
        if blame not in conflict.sources:
            raise rules.blame_not_involved(conflict, blame)
    elif blamed_source is not None or blamed_registry:
        raise ApplicationError(
            "blame_not_allowed",
            _("只有“确认数据有误”时才指明有误的来源"),
            {"field": "blamed_source"},
            status=422,
        )
    before = conflict.status
    _conflict_save(
        conflict,
        status=outcome,
        resolution_note=note,
        blamed_source=blamed_source,
        blamed_registry=blamed_registry,
        resolved_by=actor,
        resolved_at=timezone.now(),
    )
    _conflict_event_record(
        conflict=conflict,
        kind=ConflictEventKind.RESOLVED,
        actor=actor,
        from_status=before,
        note=note,
        data={"blamed": blame} if blame else {},
    )
    _conflict_notify(
        conflict=conflict,
        actor=actor,
        title=_("数据冲突 #%(id)d（%(e)s）已处理：%(s)s")
        % {"id": conflict.pk, "e": conflict.entity.name, "s": conflict.get_status_display()},
        body=note,
    )
    return conflict


@transaction.atomic
def conflict_reopen(*, conflict: Conflict, actor: User, note: str) -> Conflict:
    """Open a closed conflict again (operator admins of the entity's region), with a reason."""
    conflict = Conflict.objects.select_for_update().select_related("entity").get(pk=conflict.pk)
    if not permissions.can(actor, "datahub.conflict_reopen", conflict):
        raise PermissionDeniedError(
            "forbidden", _("只有所辖平台运营管理员可以重新打开已处理的冲突")
        )
    if conflict.status == ConflictStatus.OPEN:
        raise ConflictError("conflict_open", _("该冲突尚未处理，无需重新打开"), {"field": "status"})
    note = _conflict_note(note)
    before = conflict.status
    _conflict_save(
        conflict,
        status=ConflictStatus.OPEN,
        resolution_note="",
        blamed_source=None,
        blamed_registry=False,
        resolved_by=None,
        resolved_at=None,
    )
    _conflict_event_record(
        conflict=conflict,
        kind=ConflictEventKind.REOPENED,
        actor=actor,
        from_status=before,
        note=note,
        data={},
    )
    _conflict_notify(
        conflict=conflict,
        actor=actor,
        title=_("数据冲突 #%(id)d（%(e)s）已重新打开")
        % {"id": conflict.pk, "e": conflict.entity.name},
        body=note,
    )
    return conflict
