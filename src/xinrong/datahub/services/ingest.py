"""The one ingestion pipeline behind upload, API and CLI; recovery lives in ``recovery``."""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts import permissions
from xinrong.accounts.models import User
from xinrong.common.errors import ApplicationError
from xinrong.common.masking import mask_id_number
from xinrong.datahub import columnar, limits
from xinrong.datahub import rows as row_io
from xinrong.datahub.categories import CATEGORIES, REGISTRY_CATEGORY, CategorySpec
from xinrong.datahub.choices import BatchStatus
from xinrong.datahub.crossval import conflicts_detect
from xinrong.datahub.models import Fact, IngestBatch, RowError, Source, UnresolvedRow
from xinrong.datahub.services import registry as registry_door
from xinrong.datahub.services.facts import facts_store, first_seen
from xinrong.datahub.signals import batch_completed
from xinrong.enterprises.models import MarketEntity
from xinrong.enterprises.names import name_key
from xinrong.notifications.services import notify_on_commit
from xinrong.reference import divisions

Progress = Callable[[IngestBatch], None]


def delivery_check(source: Source, category: str, actor: User | None) -> CategorySpec:
    """Refuse a delivery the source may not make (category, state, the actor's role)."""
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


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
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
    delivery_check(source, category, actor)
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


def stored_path(name: str) -> Path:
    """Return where a stored upload of this name lives; refuse a name with folders."""
    if not name or Path(name).name != name:  # only names this module made: no folders
        raise ValueError(name)
    return limits.uploads_dir() / name


def batch_enqueue(*, batch: IngestBatch, fileobj: IO[bytes]) -> IngestBatch:
    """Save the file under MEDIA_ROOT/uploads and queue the batch for the task worker."""
    from xinrong.datahub.tasks import ingest_stored_file

    if batch.status != BatchStatus.PENDING or batch.processed or batch.errors_total:
        batch_reset(batch)  # a failed batch delivered again starts afresh
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
        stored_path(old).unlink(missing_ok=True)
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
        stored = stored_path(batch.stored_file)
    elif path:
        stored = Path(path)
    else:
        return batch  # already finished by an earlier run of the same task
    if not stored.exists():
        if batch.status not in (BatchStatus.COMPLETED, BatchStatus.FAILED):
            batch_fail(batch, _("处理中断且待处理文件已不存在，请重新上传该文件"))
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


def batch_fail(batch: IngestBatch, failure: str) -> None:
    """Mark a batch failed and remove whatever it had written (nothing half-written remains)."""
    IngestBatch.objects.filter(pk=batch.pk).update(
        status=BatchStatus.FAILED, failure=failure, finished_at=timezone.now()
    )
    batch_reset(batch, keep_status=True)
    batch_owner_notify(batch_id=batch.pk)


def batch_owner_notify(*, batch_id: int) -> None:
    """Tell the person who delivered a batch, after the commit, that it completed or failed.

    Nobody is told of batches the platform delivered itself, nor an API key's service account.
    """
    batch = IngestBatch.objects.select_related("source").filter(pk=batch_id).first()
    if batch is None or batch.created_by_id is None:
        return
    owner = User.objects.filter(
        pk=batch.created_by_id, is_active=True, api_key__isnull=True
    ).first()
    if owner is None:
        return
    label = {"id": batch.pk, "f": batch.filename or batch.source.name}
    if batch.status == BatchStatus.FAILED:
        title = _("数据批次 #%(id)d（%(f)s）处理失败") % label
        body = batch.failure
    else:
        title = _("数据批次 #%(id)d（%(f)s）已处理完成") % label
        body = _(
            "收到 %(n)d 行：接收 %(a)d，拒绝 %(r)d，重复 %(d)d，待关联 %(u)d；发现冲突 %(c)d 个"
        ) % {
            "n": batch.received,
            "a": batch.accepted,
            "r": batch.rejected,
            "d": batch.duplicates,
            "u": batch.unresolved,
            "c": batch.conflicts,
        }
    notify_on_commit(
        recipients=[owner],
        kind="datahub.batch",
        title=title,
        body=body,
        link=reverse("datahub:batch_detail", args=[batch.pk]),
    )


def batch_process(
    *, batch: IngestBatch, fileobj: IO[bytes], progress: Progress | None = None
) -> IngestBatch:
    """Run the pipeline for a registered batch; a completed batch is returned unchanged.

    Facts of a batch become visible only when it completes; a batch interrupted midway is
    cleaned and redone.
    """
    spec = CATEGORIES[batch.category]
    return batch_run(batch, lambda: columnar.read_chunks(spec, fileobj, batch.filename), progress)


class _SupersededError(Exception):
    """Another run of the batch took over (recovery restarted it while this one still ran)."""


def batch_run(
    batch: IngestBatch,
    chunks: Callable[[], Iterable[columnar.Chunk]],
    progress: Progress | None,
) -> IngestBatch:
    """Validate, resolve and store the chunks of a registered batch (see ``batch_process``)."""
    batch.refresh_from_db()
    if batch.status == BatchStatus.COMPLETED:
        return batch
    spec = CATEGORIES[batch.category]
    if batch.status != BatchStatus.PENDING or batch.processed or batch.errors_total:
        batch_reset(batch)
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
        batch_fail(batch, str(exc))
        raise _limit_error(exc) from exc
    except Exception:
        # a fault of the platform, not of the file: fail the batch rather than leave it
        # "processing" for recovery to run again and again; the traceback goes to the caller
        with contextlib.suppress(DatabaseError), transaction.atomic():
            batch_fail(batch, _("处理时发生系统错误，已停止且未保留任何数据；请联系平台运营方"))
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


# ---------------------------------------------------------------- liveness and reset

UNFINISHED = (BatchStatus.PENDING, BatchStatus.PROCESSING)


def batch_is_live(batch: IngestBatch) -> bool:
    """Return whether an unfinished batch is being (or about to be) processed by someone.

    Its task, when it has one the backend can look up, tells: queued, or running on a live
    worker. Otherwise (processed in a request or by ``xinrong ingest``, or a backend that keeps
    no results) recent progress does: a chunk written within ``XINRONG_INGEST_STALE_SECONDS``.
    """
    from xinrong.common.workers import task_alive

    if batch.status not in UNFINISHED:
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


def batch_reset(batch: IngestBatch, *, keep_status: bool = False) -> None:
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


def _original_rows(
    chunk: columnar.Chunk, numbers: set[int], sensitive: frozenset[str] = frozenset()
) -> dict[int, dict[str, str]]:
    """Return the cells of the given rows as delivered (non-empty text by field key).

    Cells of ``sensitive`` fields (an ID number) are kept masked.
    """
    if not numbers:
        return {}
    positions = [i for i, n in enumerate(chunk.numbers.tolist()) if n in numbers]
    take = pa.array(positions, pa.int64())
    columns = {k: arr.take(take).to_pylist() for k, arr in chunk.cells.items()}
    out: dict[int, dict[str, str]] = {}
    for j, i in enumerate(positions):
        out[int(chunk.numbers[i])] = {
            k: (mask_id_number(str(v)) if k in sensitive else str(v)[:1000])
            for k, values in columns.items()
            if (v := values[j]) not in (None, "")
        }
    return out


def _row_errors(
    batch: IngestBatch,
    spec: CategorySpec,
    chunk: columnar.Chunk,
    errors: list[tuple[int, str, str, str]],
) -> list[RowError]:
    """Return the stored form of a chunk's errors, with sensitive values masked."""
    keys = frozenset(f.key for f in spec.all_fields if f.sensitive)
    headers = {_(f.header) for f in spec.all_fields if f.sensitive}
    originals = _original_rows(chunk, {n for n, _c, _v, _r in errors}, keys)
    return [
        RowError(
            batch=batch,
            row_number=n,
            column=col,
            value=mask_id_number(val) if col in headers and val else val,
            rule=rule,
            cells=originals.get(n, {}),
        )
        for n, col, val, rule in errors
    ]


def _ingest_rows(
    batch: IngestBatch,
    spec: CategorySpec,
    chunks: Iterable[columnar.Chunk],
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
    door = (
        registry_door.RegistryState(codes=registry, known=registry.ids, absent=registry.absent)
        if spec.code == REGISTRY_CATEGORY
        else None
    )
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
        checked = columnar.check_chunk(spec, chunk, registry)
        if door is not None:  # the registry: rows create and update market entities
            with transaction.atomic():
                outcome = registry_door.chunk_apply(
                    batch=batch, spec=spec, chunk=chunk, checked=checked, state=door
                )
                counts["received"] += len(chunk)
                counts["rejected"] += int((~checked.ok).sum())
                counts["errors_total"] += len(checked.errors)
                counts["accepted"] += outcome.accepted
                counts["duplicates"] += outcome.duplicates
                errors = _row_errors(batch, spec, chunk, checked.errors[: max(error_room, 0)])
                error_room -= len(errors)
                RowError.objects.bulk_create(errors, batch_size=2000)
                if not IngestBatch.objects.filter(pk=batch.pk, started_at=run).update(
                    processed=counts["received"],
                    heartbeat_at=timezone.now(),
                    **{k: v for k, v in counts.items() if k != "received"},
                ):
                    raise _SupersededError
            # new entities have no other source's facts: cross-validation reads only the others
            touched.update(outcome.updated)
            if progress is not None:
                batch.refresh_from_db()
                progress(batch)
            continue
        counts["received"] += len(chunk)
        good = np.flatnonzero(checked.ok)
        counts["rejected"] += len(chunk) - len(good)
        counts["errors_total"] += len(checked.errors)
        # only the first errors are stored; the rest are counted (a bad file must not flood
        # the database: see docs/security.md)
        errors = _row_errors(batch, spec, chunk, checked.errors[: max(error_room, 0)])
        error_room -= len(errors)
        take = pa.array(good)
        values = {k: v.take(take) for k, v in checked.values.items()}
        entity_ids = checked.entity_ids[good]
        numbers = checked.numbers[good]
        hashes = columnar.hash64(columnar.canonical_rows(spec.code, values))
        fresh = first_seen(hashes, seen)
        counts["duplicates"] += int((~fresh).sum())
        nameless = fresh & (entity_ids < 0) & ~columnar.present(values["uscc"])
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
                values=columnar.row_values(values, i),
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
    # a registry delivery changes the registry side of every registry-vs-department rule
    found = conflicts_detect(
        touched,
        delivered=None if door is not None else delivered,
        submitter_id=batch.created_by_id,
    )
    IngestBatch.objects.filter(pk=batch.pk).update(conflicts=found)
    batch_id = batch.pk
    batch_owner_notify(batch_id=batch_id)
    transaction.on_commit(lambda: batch_completed.send(sender=IngestBatch, batch_id=batch_id))
