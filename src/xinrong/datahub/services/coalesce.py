"""Coalesced background tasks: at most one queued run of a task, however often it is asked for.

A caller that has work for a task (events to flush, entities to rescore) first stores the work
durably, then calls ``task_request``. The first request creates the named ``TaskRequest`` row and
queues the task in the same transaction (the database task backend writes its task row there
too, so both exist or neither); later requests find the row and queue nothing. The task calls
``task_request_release`` as its first step, so work stored while it runs asks for the next run,
and a run reads everything stored before it started. The unique name makes this race-free:
two concurrent first requests cannot both create the row.

A row whose task will never start (its task was deleted, or failed before it began) would block
the name forever, so a request that finds the row checks the task and, when it is no longer
queued or running on a live worker, queues a new one.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from xinrong.datahub.models import TaskRequest

logger = logging.getLogger(__name__)

# Without a backend that can look its task up, a request this old is taken as lost.
REQUEST_STALE_SECONDS = 600


def _request_lost(request: TaskRequest, task: Any) -> bool:
    """Return whether the queued run this row stands for will never start."""
    from xinrong.common.workers import task_alive

    backend = task.get_backend()
    if request.task_id and backend.supports_get_result:
        try:
            result = backend.get_result(request.task_id)
        except Exception:  # pruned or unknown: nothing will run it
            return True
        return not task_alive(
            status=result.status,
            worker_ids=list(result.worker_ids),
            started_at=result.started_at,
            stale_after=int(getattr(settings, "XINRONG_INGEST_STALE_SECONDS", 900)),
        )
    age = timezone.now() - request.requested_at
    return age > dt.timedelta(seconds=REQUEST_STALE_SECONDS)


def task_request(*, name: str, task: Any, delay_seconds: float = 0.0) -> bool:
    """Queue one run of ``task`` (no arguments) unless one is already queued; return whether
    this call queued it.

    ``delay_seconds`` debounces: the run starts that long after the first request, so the work
    of many requests meanwhile is done together (only on backends that can defer a task; the
    immediate backend of tests runs it at once).
    """
    with transaction.atomic():
        # a marker locked by another request (which queues or has queued the run) is skipped,
        # not waited for: concurrent loan writes do not queue behind each other's commits
        request = TaskRequest.objects.select_for_update(skip_locked=True).filter(name=name).first()
        if request is None:
            try:
                with transaction.atomic():
                    request = TaskRequest.objects.create(name=name)
            except IntegrityError:  # held by a concurrent request, which queues the run
                return False
        else:
            if not _request_lost(request, task):
                return False
            logger.warning("task request %s: its queued run was lost; queuing another", name)
            TaskRequest.objects.filter(pk=request.pk).update(
                task_id="", requested_at=timezone.now()
            )
        run = task
        if delay_seconds > 0 and task.get_backend().supports_defer:
            run = task.using(run_after=timezone.now() + dt.timedelta(seconds=delay_seconds))
        result = run.enqueue()
        # an update, not save(): a backend that ran the task at once has deleted the row
        TaskRequest.objects.filter(pk=request.pk).update(task_id=str(result.id)[:64])
    return True


def task_request_release(*, name: str) -> None:
    """Forget the queued run of ``name``: the task calls this when it starts."""
    TaskRequest.objects.filter(name=name).delete()
