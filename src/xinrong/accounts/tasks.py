"""Background work of accounts (run by `xinrong db_worker`)."""

from __future__ import annotations

from django_tasks import task

from xinrong.accounts.services import api_replay_purge


@task()
def api_replay_purge_task() -> int:
    """Delete spent nonces past their window and expired idempotency records; return how many.

    Enqueue once a day (e.g. from cron: ``xinrong apikeys purge`` does the same inline).
    """
    return sum(api_replay_purge())
