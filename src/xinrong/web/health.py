"""Health checks behind /healthz: the database, the task queue and the cache.

Each check returns a small dict with ``ok`` and a few figures, never a secret (no addresses,
user names or passwords); a check that raises is reported as failed with the exception's class
name only.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Min
from django.utils import timezone

from xinrong.common.replica import REPLICA, replica_configured

Check = dict[str, Any]


def _database(alias: str = DEFAULT_DB_ALIAS) -> Check:
    started = time.monotonic()
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True, "vendor": connections[alias].vendor, "ms": _ms(started)}


def _replica() -> Check:
    """The read replica (``DATABASE_REPLICA_URL``) answers, when there is one."""
    if not replica_configured():
        return {"ok": True, "configured": False}
    return _database(REPLICA)


def _queue_db(max_age: int) -> Check:
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult, get_date_max

    now = timezone.now()
    ready = DBTaskResult.objects.ready()
    waiting_since = [
        ready.filter(run_after=get_date_max()).aggregate(t=Min("enqueued_at"))["t"],
        ready.exclude(run_after=get_date_max()).aggregate(t=Min("run_after"))["t"],
    ]
    oldest = min((t for t in waiting_since if t is not None), default=None)
    age = int((now - oldest).total_seconds()) if oldest is not None else 0
    running = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).count()
    return {
        "ok": age <= max_age,
        "backend": "database",
        "ready": ready.count(),
        "running": running,
        "oldest_ready_seconds": age,
        "max_age_seconds": max_age,
    }


def _queue_rq(max_age: int) -> Check:
    import django_rq
    from rq import Worker

    queue = django_rq.get_queue("default")
    jobs = queue.get_jobs(0, 0)  # the head of the queue is the oldest waiting job
    age = 0
    if jobs and jobs[0].enqueued_at is not None:
        enqueued = jobs[0].enqueued_at
        if enqueued.tzinfo is None:
            enqueued = enqueued.replace(tzinfo=dt.UTC)
        age = max(0, int((timezone.now() - enqueued).total_seconds()))
    workers = Worker.count(queue=queue)
    return {
        "ok": age <= max_age and workers > 0,
        "backend": "rq",
        "ready": queue.count,
        "workers": workers,
        "oldest_ready_seconds": age,
        "max_age_seconds": max_age,
    }


def _queue() -> Check:
    max_age = settings.XINRONG_HEALTH_QUEUE_MAX_AGE
    backend = settings.TASKS.get("default", {}).get("BACKEND", "")
    if backend.startswith("django_tasks_db."):
        return _queue_db(max_age)
    if backend.startswith("django_tasks_rq."):
        return _queue_rq(max_age)
    # Immediate/dummy backends (tests, a demo without worker) have no queue to watch.
    return {"ok": True, "backend": backend.rsplit(".", 1)[-1]}


def _cache() -> Check:
    started = time.monotonic()
    key = f"xinrong:healthz:{uuid.uuid4().hex}"
    value = uuid.uuid4().hex
    cache.set(key, value, timeout=30)
    seen = cache.get(key)
    cache.delete(key)
    return {"ok": seen == value, "ms": _ms(started)}


def _ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)


CHECKS: dict[str, Callable[[], Check]] = {
    "database": _database,
    "replica": _replica,
    "queue": _queue,
    "cache": _cache,
}


def health_report() -> tuple[bool, dict[str, Any]]:
    """Run every check; return whether all passed and the JSON body of /healthz."""
    checks: dict[str, Check] = {}
    for name, check in CHECKS.items():
        try:
            checks[name] = check()
        except Exception as exc:  # a check that cannot run has failed, and says how
            checks[name] = {"ok": False, "error": type(exc).__name__}
    failed = [name for name, result in checks.items() if not result["ok"]]
    body: dict[str, Any] = {"status": "fail" if failed else "ok", "checks": checks}
    if failed:
        body["failed"] = failed
    return not failed, body
