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


@task()
def applications_sweep() -> dict[str, int]:
    """Flag applications past their service-level limits and mark loans with past-due
    instalments overdue (recording the 30/60/90-day milestones as facts); return the counts.

    Enqueue every hour (``xinrong sweep`` runs every periodic job inline).
    """
    return {
        "sla_breached": services.applications_sla_sweep(),
        "overdue": services.loans_overdue_sweep(),
    }
