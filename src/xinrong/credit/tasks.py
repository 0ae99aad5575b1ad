"""Background work of credit: scoring, warnings, dispute deadlines (run by `xinrong db_worker`).

The tasks import the services they run inside their bodies, and no service imports the modules
those tasks import this one from: services enqueue work through the ``*_schedule`` helpers here.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django_tasks import task

from xinrong.datahub.models import Fact


@task()
def rescore_batch(batch_id: int) -> int:
    """Rescore the entities a completed ingestion batch touched, then run the warning rules.

    Returns the number of new alerts.
    """
    from xinrong.credit.selectors.scoring import model_active
    from xinrong.credit.services.early_warning import alerts_raise
    from xinrong.credit.services.scoring import profiles_score

    ids = list(
        Fact.objects.filter(batch_id=batch_id).values_list("entity_id", flat=True).distinct()
    )
    if not ids:
        return 0
    if model_active() is not None:
        profiles_score(entity_ids=ids)
    return alerts_raise(entity_ids=ids, batch_id=batch_id)


@task()
def rescore_entities(entity_ids: list[int]) -> int:
    """Rescore some entities after a change to their facts outside ingestion (a dispute
    correction, a repair), then check the score-drop rule; return how many were scored."""
    from xinrong.credit.selectors.scoring import model_active
    from xinrong.credit.services.early_warning import alerts_raise
    from xinrong.credit.services.scoring import profiles_score

    if model_active() is None or not entity_ids:
        return 0
    scored = profiles_score(entity_ids=entity_ids).entities
    alerts_raise(entity_ids=entity_ids, only={"score_drop"})
    return scored


@task()
def rescore_all() -> int:
    """Score every entity with the active model; return how many."""
    from xinrong.credit.selectors.scoring import model_active
    from xinrong.credit.services.scoring import profiles_score

    if model_active() is None:
        return 0
    return profiles_score().entities


def on_batch_completed(sender: Any, batch_id: int, **kwargs: Any) -> None:
    """Receiver of datahub's batch_completed: schedule the rescoring."""
    rescore_batch.enqueue(batch_id)


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
    """Queue a rescoring of these entities after the current transaction commits.

    Used where facts change outside an ingestion batch (dispute corrections, repairs), so the
    stored score the portrait and report show follows the facts.
    """
    ids = sorted(set(entity_ids))
    transaction.on_commit(lambda: rescore_entities.enqueue(ids))
