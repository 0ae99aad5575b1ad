"""Background work of the marketplace: the 抢单 sweeps (run by `xinrong db_worker`).

Tasks import services inside their bodies so that services may enqueue tasks without a circle.
"""

from __future__ import annotations

from django_tasks import task


@task()
def demands_sweep() -> dict[str, int]:
    """Return ended holds to the pool, then escalate stale untaken demands; return the counts.

    Enqueue every hour (e.g. from cron: ``xinrong demands sweep`` does the same inline).
    """
    from xinrong.marketplace.services.demands import (
        demands_escalate_stale,
        demands_release_expired,
    )

    return {"expired": demands_release_expired(), "escalated": demands_escalate_stale()}


@task()
def applications_sweep() -> dict[str, int]:
    """Flag applications past their service-level limits and mark loans with past-due
    instalments overdue (recording the 30/60/90-day milestones as facts); return the counts.

    Enqueue every hour (``xinrong sweep`` runs every periodic job inline).
    """
    from xinrong.marketplace.services.applications import applications_sla_sweep
    from xinrong.marketplace.services.loans import loans_overdue_sweep

    return {"sla_breached": applications_sla_sweep(), "overdue": loans_overdue_sweep()}
