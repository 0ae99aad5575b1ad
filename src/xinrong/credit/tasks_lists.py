"""Background work of the white and black lists: the set-wise sweep (run by `xinrong db_worker`).

Run after every completed ingestion batch (facts changed: a 失信 flag delivered or lifted) and
periodically (retention lapsing, repairs approved, fraud listings expiring).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django_tasks import task


@task()
def lists_sweep() -> dict[str, int]:
    """Recompute the black list (then the white list) for every entity; return the counts."""
    from xinrong.credit.services.lists import lists_sweep as run

    return run()


def on_batch_lists(sender: Any, batch_id: int, **kwargs: Any) -> None:
    """Receiver of datahub's batch_completed: queue the sweep once the batch is committed."""
    transaction.on_commit(lambda: lists_sweep.enqueue())
