"""Background work of the marketplace: the 抢单 sweeps (run by `xinrong db_worker`)."""

from __future__ import annotations

from django_tasks import task

from xinrong.marketplace import services


@task()
def demands_sweep() -> dict[str, int]:
    """Return ended holds to the pool, then escalate stale untaken demands; return the counts.

    Enqueue every hour (e.g. from cron: ``xinrong demands sweep`` does the same inline).
    """
    return {
        "expired": services.demands_release_expired(),
        "escalated": services.demands_escalate_stale(),
    }
