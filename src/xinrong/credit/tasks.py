"""Background work of credit (run by `xinrong db_worker`)."""

from __future__ import annotations

from django_tasks import task

from xinrong.credit.services import dispute_escalate_overdue


@task()
def disputes_escalate_overdue() -> int:
    """Flag disputes past their 20-day deadline and notify the operator; return how many.

    Enqueue once a day (e.g. from cron: ``xinrong disputes escalate`` does the same inline).
    """
    return len(dispute_escalate_overdue())
