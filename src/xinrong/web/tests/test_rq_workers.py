"""Scale-out: XINRONG_TASK_BACKEND=rq, two real `xinrong worker` processes on one Redis queue.

Each of N tasks must run exactly once, and both workers must have run some. Redis database 7 on
127.0.0.1:6379 is flushed before and after (only that database).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

REDIS = "redis://127.0.0.1:6379/7"
N = 10


def _redis():
    import redis

    client = redis.Redis.from_url(REDIS, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    return client


def _env(tmp_path: Path) -> dict[str, str]:
    src = str(Path(__file__).resolve().parents[3])
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]),
        "DJANGO_SETTINGS_MODULE": "xinrong.config.settings",
        "XINRONG_VAR": str(tmp_path),
        "SECRET_KEY": "rq-test-not-secret",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'probe.sqlite3'}",
        "XINRONG_TASK_BACKEND": "rq",
        "XINRONG_RQ_URL": REDIS,
        "TASKS_BACKEND": "",
    }


def test_two_rq_workers_share_one_queue_and_run_each_task_once(tmp_path):
    client = _redis()
    client.flushdb()
    db = tmp_path / "probe.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE ops_probe (n INTEGER, pid INTEGER, ppid INTEGER)")
    env = _env(tmp_path)
    cli = [sys.executable, "-m", "xinrong.cli"]
    workers = [
        subprocess.Popen(
            [*cli, "worker", "--no-recover", "--name", f"h17-ops-{i}"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for i in (1, 2)
    ]
    try:
        from rq import Worker

        deadline = time.monotonic() + 60
        while len(Worker.all(connection=client)) < 2:
            assert time.monotonic() < deadline, "the two workers did not register"
            assert all(w.poll() is None for w in workers), workers[0].stderr.read()
            time.sleep(0.2)
        from django.test import override_settings

        from xinrong.web import health
        from xinrong.web.tests.rq_tasks import probe_write

        rq_settings = {
            "TASKS": {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}},
            "RQ_QUEUES": {"default": {"URL": REDIS}},
        }
        with override_settings(**rq_settings):
            for n in range(N):
                probe_write.enqueue(n, 0.3)
        deadline = time.monotonic() + 60
        rows: list[tuple[int, int, int]] = []
        while len(rows) < N:
            assert time.monotonic() < deadline, f"only {len(rows)} of {N} tasks ran"
            time.sleep(0.3)
            with sqlite3.connect(db) as conn:
                rows = conn.execute("SELECT n, pid, ppid FROM ops_probe").fetchall()
        time.sleep(0.5)  # a task run twice would show up now
        with override_settings(**rq_settings):
            queue = health._queue()  # /healthz's queue check on this backend
        assert queue["ok"] and queue["backend"] == "rq"
        assert queue["workers"] == 2 and queue["ready"] == 0
        with sqlite3.connect(db) as conn:
            rows = conn.execute("SELECT n, pid, ppid FROM ops_probe").fetchall()
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
        client.flushdb()
    assert sorted(n for n, _, _ in rows) == list(range(N))  # each exactly once
    # RQ runs each job in a child ("work horse") of its worker: the parent names the worker.
    by_worker = {w.pid: 0 for w in workers}
    for _, pid, ppid in rows:
        owner = pid if pid in by_worker else ppid
        assert owner in by_worker
        by_worker[owner] += 1
    assert all(count > 0 for count in by_worker.values()), by_worker
