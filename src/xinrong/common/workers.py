"""Task workers: ids that tell where a worker runs, and failing the tasks of workers that died.

django-tasks-db marks a task RUNNING when a worker claims it and never looks at it again, so a
worker killed midway (SIGKILL, out of memory, a power cut) leaves the task RUNNING forever.
``xinrong worker`` names each worker ``host:pid:random``; a RUNNING task whose worker ran on this
host and whose process is gone is failed at once, and one whose worker cannot be checked (another
host, an id from plain ``db_worker``) is failed when it started longer ago than the caller's
threshold.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django.utils.crypto import get_random_string

logger = logging.getLogger(__name__)

_SEP = ":"


class WorkerLostError(Exception):
    """The worker that was running this task stopped without finishing it."""


def _host() -> str:
    return socket.gethostname().replace(_SEP, "-")[:40]


def worker_id_new() -> str:
    """Return a worker id naming this host and process (at most 64 characters)."""
    return _SEP.join((_host(), str(os.getpid()), get_random_string(8)))


def _zombie(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def worker_alive(worker_id: str) -> bool | None:
    """Return whether the worker's process runs; None when this host cannot tell."""
    parts = worker_id.split(_SEP)
    if len(parts) != 3 or parts[0] != _host() or not parts[1].isdigit():
        return None
    pid = int(parts[1])
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a process of another user: alive
        return True
    return not _zombie(pid)


def task_alive(
    *, status: str, worker_ids: list[str], started_at: dt.datetime | None, stale_after: int
) -> bool:
    """Return whether a task is queued or still being run by a live worker."""
    from django_tasks import TaskResultStatus

    if status == TaskResultStatus.READY:
        return True
    if status != TaskResultStatus.RUNNING:
        return False
    alive = worker_alive(worker_ids[-1]) if worker_ids else None
    if alive is not None:
        return alive
    return started_at is not None and started_at >= timezone.now() - dt.timedelta(
        seconds=stale_after
    )


def tasks_fail_lost(*, stale_after: int) -> int:
    """Mark failed the RUNNING database tasks whose worker is gone; return how many.

    ``stale_after`` (seconds) applies to tasks whose worker cannot be checked from here.
    """
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    failed = 0
    running = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING)
    for task_id, worker_ids, started_at in running.values_list("id", "worker_ids", "started_at"):
        if task_alive(
            status=TaskResultStatus.RUNNING,
            worker_ids=worker_ids,
            started_at=started_at,
            stale_after=stale_after,
        ):
            continue
        with transaction.atomic():
            row = DBTaskResult.objects.select_for_update().filter(pk=task_id).first()
            if (
                row is None
                or row.status != TaskResultStatus.RUNNING
                or row.worker_ids != worker_ids
            ):
                continue  # finished, or claimed again, meanwhile
            worker = worker_ids[-1] if worker_ids else "?"
            row.set_failed(WorkerLostError(f"worker {worker} stopped while running this task"))
        logger.warning("task %s (%s) failed: its worker %s is gone", task_id, row.task_path, worker)
        failed += 1
    return failed
