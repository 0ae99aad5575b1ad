"""Interrupted ingestion: dead workers' tasks fail, stale batches restart, orphan uploads go."""

from __future__ import annotations

import datetime as dt
import io
import os
import socket
import subprocess
import sys
import time

import pytest
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from xinrong.datahub.choices import BatchChannel, BatchStatus
from xinrong.datahub.models import Fact, IngestBatch
from xinrong.datahub.selectors import fact_visible
from xinrong.datahub.services.ingest import batch_deliver, batch_process_stored
from xinrong.datahub.services.recovery import ingest_recover
from xinrong.datahub.tasks import ingest_stored_file
from xinrong.datahub.tests.test_pipeline import _csv
from xinrong.enterprises.tests.factories import MarketEntityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(settings, tmp_path):
    """Deliveries go to a database task queue, files under a temporary MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path
    settings.XINRONG_INGEST_INLINE_BYTES = 0
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    return tmp_path / "uploads"


def _rows(n: int = 30):
    entity = MarketEntityFactory()
    return [
        [entity.uscc, "", f"{2000 + i // 12}-{i % 12 + 1:02d}", str(i), "A", "0"] for i in range(n)
    ]


def _deliver(source, rows) -> IngestBatch:
    return batch_deliver(
        source=source,
        category="tax",
        fileobj=_csv(rows),
        filename="tax.csv",
        channel=BatchChannel.UPLOAD,
    ).batch


def _dead_worker_id() -> str:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return f"{socket.gethostname()[:40]}:{proc.pid}:deadbeef"


def _age(batch: IngestBatch, seconds: int) -> None:
    past = timezone.now() - dt.timedelta(seconds=seconds)
    IngestBatch.objects.filter(pk=batch.pk).update(
        heartbeat_at=past, started_at=past, created_at=past
    )


def test_batch_of_a_killed_worker_is_restarted_without_duplicating_facts(
    tax_source, queued, django_capture_on_commit_callbacks
):
    batch = _deliver(tax_source, _rows(30))
    stored = queued / batch.stored_file
    assert batch.status == BatchStatus.PENDING and stored.exists()
    task = DBTaskResult.objects.get(id=batch.task_id)
    task.claim(_dead_worker_id())  # a worker took it ...
    with stored.open("rb") as fh:  # ... wrote every chunk, and was killed before finishing
        from xinrong.datahub.services.ingest import batch_process

        batch_process(batch=batch, fileobj=fh)
    IngestBatch.objects.filter(pk=batch.pk).update(
        status=BatchStatus.PROCESSING, heartbeat_at=timezone.now()
    )
    assert Fact.objects.filter(batch=batch).count() == 30 and not fact_visible().exists()

    with django_capture_on_commit_callbacks(execute=True):
        report = ingest_recover()

    assert (report.tasks_failed, report.restarted, report.failed) == (1, 1, 0)
    task.refresh_from_db()
    assert task.status == TaskResultStatus.FAILED and "WorkerLost" in task.exception_class_path
    batch.refresh_from_db()
    assert batch.status == BatchStatus.PENDING and batch.task_id and batch.task_id != str(task.id)
    assert not Fact.objects.filter(batch=batch).exists()  # the interrupted run's rows are gone
    retry = DBTaskResult.objects.get(id=batch.task_id)
    assert retry.status == TaskResultStatus.READY and retry.args_kwargs["args"] == [batch.pk]
    ingest_stored_file.call(batch.pk)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.COMPLETED and batch.accepted == 30
    assert fact_visible().filter(batch=batch).count() == 30
    assert not stored.exists() and batch.stored_file == ""
    assert ingest_recover().restarted == 0  # nothing left to do


def test_live_work_is_left_alone(tax_source, queued):
    batch = _deliver(tax_source, _rows(5))  # queued, not yet claimed
    running = _deliver(tax_source, _rows(6))
    DBTaskResult.objects.get(id=running.task_id).claim(
        f"{socket.gethostname()[:40]}:{os.getpid()}:abcdefgh"  # this very process: alive
    )
    IngestBatch.objects.filter(pk=running.pk).update(status=BatchStatus.PROCESSING)
    report = ingest_recover()
    assert (report.tasks_failed, report.restarted, report.failed) == (0, 0, 0)
    assert (queued / batch.stored_file).exists() and (queued / running.stored_file).exists()


def test_batch_interrupted_in_a_request_or_the_cli_fails_once_stale_and_keeps_nothing(
    tax_source, settings
):
    from xinrong.datahub.services.ingest import batch_ingest

    batch = batch_ingest(
        source=tax_source, category="tax", fileobj=_csv(_rows(8)), filename="t.csv", channel="cli"
    )
    IngestBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.PROCESSING)
    assert ingest_recover().failed == 0  # progress is recent: someone may still be at it
    _age(batch, settings.XINRONG_INGEST_STALE_SECONDS + 60)
    assert ingest_recover().failed == 1
    batch.refresh_from_db()
    assert batch.status == BatchStatus.FAILED and "处理中断" in batch.failure
    assert not Fact.objects.filter(batch=batch).exists()


def test_batch_interrupted_too_often_fails_and_its_file_is_deleted(tax_source, queued, settings):
    batch = _deliver(tax_source, _rows(5))
    DBTaskResult.objects.get(id=batch.task_id).claim(_dead_worker_id())
    IngestBatch.objects.filter(pk=batch.pk).update(
        status=BatchStatus.PROCESSING, attempts=settings.XINRONG_INGEST_MAX_ATTEMPTS
    )
    report = ingest_recover()
    assert (report.restarted, report.failed) == (0, 1)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.FAILED and "已中断 3 次" in batch.failure
    assert not any(queued.iterdir())


def test_running_task_of_an_unknown_worker_fails_only_when_old(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    from xinrong.credit.tasks import disputes_escalate_overdue

    old = DBTaskResult.objects.get(id=disputes_escalate_overdue.enqueue().id)
    new = DBTaskResult.objects.get(id=disputes_escalate_overdue.enqueue().id)
    for row in (old, new):
        row.claim("a-plain-db-worker-id")  # another host, or plain db_worker: cannot be checked
    DBTaskResult.objects.filter(pk=old.pk).update(
        started_at=timezone.now() - dt.timedelta(hours=settings.XINRONG_TASK_STALE_HOURS + 1)
    )
    assert ingest_recover().tasks_failed == 1
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.status, new.status) == (TaskResultStatus.FAILED, TaskResultStatus.RUNNING)


def test_orphan_uploads_are_deleted_and_needed_ones_kept(tax_source, queued, settings):
    batch = _deliver(tax_source, _rows(5))
    queued.mkdir(exist_ok=True)
    orphan, fresh = queued / "orphan.xlsx", queued / "fresh.csv"
    orphan.write_bytes(b"x" * 1000)
    fresh.write_bytes(b"x")
    ancient = time.time() - settings.XINRONG_UPLOAD_ORPHAN_HOURS * 3600 - 60
    os.utime(orphan, (ancient, ancient))
    os.utime(queued / batch.stored_file, (ancient, ancient))  # old, but its batch waits for it
    assert ingest_recover().files_deleted == 1
    assert not orphan.exists() and fresh.exists() and (queued / batch.stored_file).exists()


def test_stored_file_is_deleted_when_the_batch_completes_or_fails(tax_source, queued):
    good = _deliver(tax_source, _rows(5))
    bad = batch_deliver(
        source=tax_source,
        category="tax",
        fileobj=io.BytesIO("名称\n某公司\n".encode()),
        filename="bad.csv",
        channel=BatchChannel.UPLOAD,
    ).batch
    assert batch_process_stored(batch_id=good.pk).status == BatchStatus.COMPLETED
    with pytest.raises(Exception, match="缺少必填列"):
        batch_process_stored(batch_id=bad.pk)
    bad.refresh_from_db()
    assert bad.status == BatchStatus.FAILED and bad.stored_file == ""
    assert not any(queued.iterdir())


def test_stored_file_is_kept_when_the_worker_is_stopped_midway(tax_source, queued, monkeypatch):
    from xinrong.datahub.services import ingest

    batch = _deliver(tax_source, _rows(5))

    def stopped(*args, **kwargs):
        raise SystemExit(1)  # db_worker's second Ctrl+C, or a SIGTERM handler, mid-batch

    monkeypatch.setattr(ingest, "_ingest_rows", stopped)
    with pytest.raises(SystemExit):
        batch_process_stored(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.PROCESSING
    assert (queued / batch.stored_file).exists()  # recovery restarts from it


def test_a_run_overtaken_by_a_restart_stops_and_rolls_back_its_chunk(tax_source, settings):
    """A worker judged dead that still runs must not mix its rows with the restarted run's."""
    from xinrong.datahub.services.ingest import batch_process, batch_register

    settings.XINRONG_INGEST_CHUNK_ROWS = 10
    fileobj = _csv(_rows(30))
    batch = batch_register(
        source=tax_source, category="tax", fileobj=fileobj, filename="t.csv", channel="cli"
    )

    def restarted_by_recovery(progress_batch: IngestBatch) -> None:
        if progress_batch.processed == 10:  # after the first chunk, recovery restarts it
            IngestBatch.objects.filter(pk=batch.pk).update(started_at=None)

    result = batch_process(batch=batch, fileobj=fileobj, progress=restarted_by_recovery)
    assert result.status == BatchStatus.PROCESSING and result.failure == ""
    assert result.processed == 10  # the second chunk was rolled back, the run stopped
    assert Fact.objects.filter(batch=batch).count() == 10
