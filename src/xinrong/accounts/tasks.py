"""Background work of accounts (run by `xinrong db_worker`)."""

from __future__ import annotations

from django_tasks import task


@task()
def api_replay_purge_task() -> int:
    """Delete spent nonces past their window and expired idempotency records; return how many.

    Enqueue once a day (e.g. from cron: ``xinrong apikeys purge`` does the same inline).
    """
    from xinrong.accounts.services.api_requests import api_replay_purge

    return sum(api_replay_purge())
