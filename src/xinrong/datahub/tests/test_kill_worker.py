"""Kill a task worker midway through a batch in a real subprocess; the next worker recovers it."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from xinrong.datahub.tests.migrated import migrated_env, migrated_template  # noqa: F401
from xinrong.datahub.tests.test_kill_midway import SETUP, _xinrong

ROWS = 40_000  # twenty chunks of 2,000 (XINRONG_INGEST_CHUNK_ROWS below)

DELIVER = """
from pathlib import Path
from xinrong.datahub.models import Source
from xinrong.datahub.services.ingest import batch_deliver
path = Path(CSV_PATH)
with path.open("rb") as fh:
    d = batch_deliver(source=Source.objects.get(code="tax"), category="tax", fileobj=fh,
                      filename=path.name, channel="upload")
print(d.batch.pk, d.queued, d.batch.stored_file)
"""

STATE = """
from django_tasks_db.models import DBTaskResult
from xinrong.datahub.models import IngestBatch
from xinrong.datahub.selectors import fact_visible
b = IngestBatch.objects.get()
print(b.status, b.processed, fact_visible().count(), b.stored_file or "-",
      ",".join(sorted(DBTaskResult.objects.filter(task_path__endswith=".ingest_stored_file")
                      .values_list("status", flat=True))))
"""


def _query(env: dict[str, str], sql: str) -> tuple | None:
    """Read the subprocesses' database directly (fast enough to poll between two chunks)."""
    url = env.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            return conn.execute(sql).fetchone()
    with sqlite3.connect(Path(env["XINRONG_VAR"]) / "xinrong.sqlite3", timeout=5) as conn:
        return conn.execute(sql).fetchone()


def test_killed_worker_batch_is_restarted_by_the_next_worker(migrated_env, tmp_path):  # noqa: F811
    env = {
        **migrated_env,
        "XINRONG_INGEST_CHUNK_ROWS": "2000",
        "XINRONG_INGEST_INLINE_BYTES": "0",  # every delivery goes to the worker
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
    }
    codes = _xinrong(env, "shell", "-v", "0", "-c", SETUP).stdout.split()
    csv_path = Path(tmp_path) / "tax.csv"
    with csv_path.open("w", encoding="utf-8") as fh:
        fh.write("统一社会信用代码,所属期,实缴税额（元）,纳税信用等级\n")
        for i in range(ROWS):
            year, month = 1995 + i // 12 % 30, i % 12 + 1
            fh.write(f"{codes[i % len(codes)]},{year}-{month:02d},{i}.00,A\n")
    out = _xinrong(
        env, "shell", "-v", "0", "-c", DELIVER.replace("CSV_PATH", repr(str(csv_path)))
    ).stdout.split()
    _batch_id, queued, stored_name = out
    assert queued == "True"
    uploads = Path(env["XINRONG_VAR"]) / "media" / "uploads"
    assert (uploads / stored_name).exists()

    worker = subprocess.Popen(
        [sys.executable, "-m", "xinrong.cli", "worker", "--no-startup-delay", "--no-reload"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            row = _query(env, "SELECT status, processed FROM datahub_ingestbatch")
            if row and row[0] == "processing" and row[1] > 0:
                break
            assert worker.poll() is None, "the worker stopped by itself"
            time.sleep(0.02)
        worker.send_signal(signal.SIGKILL)  # mid-batch: some chunks written, the rest not
    finally:
        worker.kill()
        worker.wait(timeout=30)

    status, processed, visible, stored, tasks = _xinrong(
        env, "shell", "-v", "0", "-c", STATE
    ).stdout.split()
    assert (status, visible, stored, tasks) == ("processing", "0", stored_name, "RUNNING")
    assert 0 < int(processed) < ROWS  # the kill landed mid-batch
    assert (uploads / stored_name).exists()

    # the next worker, at start, fails the dead worker's task and restarts the batch
    started = _xinrong(
        env, "worker", "--batch", "--no-startup-delay", "--no-reload", "-v", "0"
    ).stdout
    assert "1 task(s) of dead workers failed, 1 batch(es) restarted" in started, started
    status, processed, visible, stored, tasks = _xinrong(
        env, "shell", "-v", "0", "-c", STATE
    ).stdout.split()
    # every row is distinct (its amount differs) and valid: each is stored exactly once
    assert (status, int(processed), int(visible), stored) == ("completed", ROWS, ROWS, "-")
    assert tasks == "FAILED,SUCCESSFUL"
    assert not list(uploads.iterdir())  # the processed file is deleted


def test_worker_command_is_what_serve_starts():
    from xinrong import cli

    source = Path(cli.__file__).read_text()
    assert '"xinrong.cli", "worker"' in source and '"db_worker"' not in source
    assert os.environ.get("DJANGO_SETTINGS_MODULE")  # pytest-django's settings are in force
