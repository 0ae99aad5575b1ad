"""Background work of credit: scoring, warnings, dispute deadlines (run by `xinrong db_worker`).

The tasks import the services they run inside their bodies, and no service imports the modules
those tasks import this one from: services enqueue work through the ``*_schedule`` helpers here.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.db import transaction
from django_tasks import task


@task()
def rescore_batch(batch_id: int) -> int:
    """Add the entities a completed ingestion batch touched to the pending rescoring set and ask
    for the drain (kept for tasks queued before the drain existed); return the rows added."""
    from xinrong.credit.services.rescoring import rescore_drain_request, rescore_request_batch

    added = rescore_request_batch(batch_id=batch_id)
    rescore_drain_request()
    return added


@task()
def rescore_entities(entity_ids: list[int]) -> int:
    """Add entities to the pending rescoring set and ask for the drain (kept for tasks queued
    before the drain existed); return how many."""
    from xinrong.credit.services.rescoring import rescore_drain_request, rescore_request_entities

    rescore_request_entities(entity_ids=entity_ids)
    rescore_drain_request()
    return len(set(entity_ids))


@task()
def rescore_drain() -> dict[str, int]:
    """Rescore every pending entity at once and run the warning rules (the coalesced run that
    ``rescore_drain_request`` queued); return what it did."""
    from xinrong.credit.services.rescoring import DRAIN_REQUEST, rescore_drain_run
    from xinrong.datahub.services.coalesce import task_request_release

    # first: requests from now on ask for the next run, the rows already pending are read below
    task_request_release(name=DRAIN_REQUEST)
    return asdict(rescore_drain_run())


@task()
def rescore_drain_sweep() -> dict[str, int]:
    """Drain rows whose request was lost, or left by a drain that died (the periodic job); the
    queued run, if any, is left as it is."""
    from xinrong.credit.services.rescoring import rescore_drain_run

    return asdict(rescore_drain_run())


@task()
def rescore_all() -> int:
    """Score every entity with the active model; return how many."""
    from xinrong.credit.selectors.scoring import model_active
    from xinrong.credit.services.scoring import profiles_score

    if model_active() is None:
        return 0
    return profiles_score().entities


def on_batch_completed(sender: Any, batch_id: int, **kwargs: Any) -> None:
    """Receiver of datahub's batch_completed (sent after the batch's commit): add the batch's
    entities to the pending rescoring set and ask for the drain."""
    from xinrong.credit.services.rescoring import rescore_drain_request, rescore_request_batch

    with transaction.atomic():
        rescore_request_batch(batch_id=batch_id)
    rescore_drain_request()


@task()
def disputes_escalate_overdue() -> int:
    """Flag disputes past their 20-day deadline and notify the operator; return how many.

    Enqueue once a day (e.g. from cron: ``xinrong disputes escalate`` does the same inline).
    """
    from xinrong.credit.services.dispute_deadlines import dispute_escalate_overdue

    return len(dispute_escalate_overdue())


@task()
def model_train_run(actor_id: int, name: str = "") -> dict[str, Any]:
    """Train a new scorecard version (a draft) for the operator who asked from the model page.

    Returns {"version": the new version or None, "error": why it failed, in Chinese}; the
    operator is notified either way.
    """
    from xinrong.credit.services.scoring import model_train_finish

    return model_train_finish(actor_id=actor_id, name=name)


def model_train_schedule(actor_id: int, name: str = "") -> None:
    """Queue a training run after the current transaction commits."""
    transaction.on_commit(lambda: model_train_run.enqueue(actor_id, name))


def rescore_all_schedule() -> None:
    """Queue a full rescoring after the current transaction commits."""
    transaction.on_commit(lambda: rescore_all.enqueue())


def rescore_entities_schedule(entity_ids: list[int]) -> None:
    """Add these entities to the pending rescoring set in the current transaction, and ask for
    the drain after it commits.

    Used where facts change outside an ingestion batch (dispute corrections, repairs), so the
    stored score the portrait and report show follows the facts.
    """
    from xinrong.credit.services.rescoring import rescore_drain_request, rescore_request_entities

    rescore_request_entities(entity_ids=entity_ids)
    transaction.on_commit(rescore_drain_request, robust=True)
