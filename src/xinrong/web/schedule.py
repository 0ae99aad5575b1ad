"""The platform's periodic jobs and the loop that enqueues them (`xinrong schedule`).

Each job is idempotent (a second run finds nothing new), so the scheduler may restart at any time
and run every job at start-up; two schedulers by mistake only duplicate harmless sweeps. Jobs run
on the task worker, never inside the scheduler.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from xinrong.accounts import tasks as accounts_tasks
from xinrong.credit import tasks as credit_tasks
from xinrong.credit import tasks_lists as credit_lists_tasks
from xinrong.datahub import tasks as datahub_tasks
from xinrong.insight import tasks as insight_tasks
from xinrong.marketplace import tasks as marketplace_tasks
from xinrong.policies import tasks as policies_tasks
from xinrong.riskfund import tasks as riskfund_tasks
from xinrong.workflows import tasks as workflows_tasks

logger = logging.getLogger(__name__)


DAY_MINUTES = 24 * 60


@dataclass(frozen=True)
class Job:
    """A task enqueued every ``minutes``."""

    name: str
    task: Any
    minutes: int


def jobs() -> list[Job]:
    """Return the periodic jobs with their intervals (minutes, from settings)."""
    every = int(getattr(settings, "XINRONG_SWEEP_MINUTES", 60))
    return [
        Job("demands_sweep", marketplace_tasks.demands_sweep, every),
        Job("applications_sweep", marketplace_tasks.applications_sweep, every),
        Job("disputes_escalate", credit_tasks.disputes_escalate_overdue, max(every, DAY_MINUTES)),
        # Negative facts leave the score when their retention ends, with no delivery to trigger
        # a rescoring: a daily full run (written only where a score changed) keeps them current.
        Job("profiles_refresh", credit_tasks.rescore_all, max(every, DAY_MINUTES)),
        Job("api_replay_purge", accounts_tasks.api_replay_purge_task, max(every, DAY_MINUTES)),
        # interrupted ingestion: dead workers' tasks, stale batches, orphan uploads
        Job("ingest_recover", datahub_tasks.ingest_recover_task, min(every, 15)),
        # loan events and rescoring requests whose coalesced run was lost (a crash between a
        # commit and its request, a drain that died): picked up within a quarter of an hour
        Job("platform_events_flush", datahub_tasks.platform_events_sweep_task, min(every, 15)),
        Job("rescore_drain", credit_tasks.rescore_drain_sweep, min(every, 15)),
        # deadlines that near (answers, service levels, repayments): each reminded once
        Job("deadlines_remind", workflows_tasks.deadlines_remind_task, every),
        # policy matching when measures or facts changed since the last pass (daily at least)
        Job("policy_match", policies_tasks.policy_match_sweep, every),
        # risk fund: record each lender's breaker trip/reset once and tell it
        Job("riskfund_breaker", riskfund_tasks.breaker_sweep_task, every),
        # black and white lists: sources that clear with no delivery (retention ends, a repair
        # approved, a fraud listing's five years) leave the lists within a day
        Job("credit_lists", credit_lists_tasks.lists_sweep, max(every, DAY_MINUTES)),
        # statistics summary of past complete months (status figures of past months lag ≤ this)
        Job("statistics_refresh", insight_tasks.statistics_refresh_task, every),
    ]


def run_due(
    last: dict[str, float], *, now: float, enqueue: Callable[[Job], None] | None = None
) -> list[str]:
    """Enqueue every job whose interval has passed since ``last`` run; return their names."""
    due = []
    for job in jobs():
        if now - last.get(job.name, float("-inf")) >= job.minutes * 60:
            (enqueue or (lambda j: j.task.enqueue()))(job)
            last[job.name] = now
            due.append(job.name)
    return due


def run_inline(*, daily: bool = True) -> dict[str, Any]:
    """Run the jobs now in this process (cron's `xinrong sweep`); return their results.

    With ``daily=False`` only the jobs due more often than daily run, so cron may call it
    hourly without a full rescoring every hour (and run it with ``daily`` once a day).
    """
    return {job.name: job.task.call() for job in jobs() if daily or job.minutes < DAY_MINUTES}


def loop(*, tick_seconds: float = 30.0, stop: Callable[[], bool] = lambda: False) -> None:
    """Enqueue due jobs forever (until ``stop``), checking every ``tick_seconds``."""
    last: dict[str, float] = {}
    while not stop():
        try:
            for name in run_due(last, now=time.monotonic()):
                logger.info("enqueued %s", name)
        except Exception:  # keep the loop alive across a database hiccup; logged with traceback
            logger.exception("scheduling failed; retrying at the next tick")
        time.sleep(tick_seconds)
