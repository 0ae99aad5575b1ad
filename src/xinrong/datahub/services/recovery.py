"""Recovery of interrupted ingestion: restart or fail stale batches, delete orphan uploads."""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.datahub import limits
from xinrong.datahub.models import IngestBatch
from xinrong.datahub.services.ingest import (
    UNFINISHED,
    batch_fail,
    batch_is_live,
    batch_reset,
    stored_path,
)


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
        stored = stored_path(batch.stored_file) if batch.stored_file else None
        if stored is not None and stored.exists() and batch.attempts < limits.max_attempts():
            batch_reset(batch)  # its chunks so far are removed; the rerun writes them again
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
        batch_fail(batch, failure)
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
        .exclude(status__in=UNFINISHED)
        .values_list("pk", "stored_file")
    ):  # finished batches keep no file
        with contextlib.suppress(ValueError):
            stored_path(name).unlink(missing_ok=True)
        IngestBatch.objects.filter(pk=batch_id, stored_file=name).update(stored_file="")
    needed = set(
        IngestBatch.objects.filter(status__in=UNFINISHED)
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
    for batch in IngestBatch.objects.filter(status__in=UNFINISHED).order_by("pk"):
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
