"""Background work of the workflow kernel (run by the task worker)."""

from __future__ import annotations

from django_tasks import task


@task()
def deadlines_remind_task() -> dict[str, int]:
    """Remind everyone waiting on a deadline that nears (once per object and deadline)."""
    from xinrong.workflows.kernel import deadlines_remind

    return deadlines_remind()
