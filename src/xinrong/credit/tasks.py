"""Background work of credit: scoring, warnings, dispute deadlines (run by `xinrong db_worker`)."""

from __future__ import annotations

from typing import Any

from django_tasks import task

from xinrong.credit import services
from xinrong.credit.selectors import model_active
from xinrong.datahub.models import Fact


@task()
def rescore_batch(batch_id: int) -> int:
    """Rescore the entities a completed ingestion batch touched, then run the warning rules.

    Returns the number of new alerts.
    """
    ids = list(
        Fact.objects.filter(batch_id=batch_id).values_list("entity_id", flat=True).distinct()
    )
    if not ids:
        return 0
    if model_active() is not None:
        services.profiles_score(entity_ids=ids)
    return services.alerts_raise(entity_ids=ids, batch_id=batch_id)


@task()
def rescore_entities(entity_ids: list[int]) -> int:
    """Rescore some entities after a change to their facts outside ingestion (a dispute
    correction, a repair), then check the score-drop rule; return how many were scored."""
    if model_active() is None or not entity_ids:
        return 0
    scored = services.profiles_score(entity_ids=entity_ids).entities
    services.alerts_raise(entity_ids=entity_ids, only={"score_drop"})
    return scored


@task()
def rescore_all() -> int:
    """Score every entity with the active model; return how many."""
    if model_active() is None:
        return 0
    return services.profiles_score().entities


def on_batch_completed(sender: Any, batch_id: int, **kwargs: Any) -> None:
    """Receiver of datahub's batch_completed: schedule the rescoring."""
    rescore_batch.enqueue(batch_id)


@task()
def disputes_escalate_overdue() -> int:
    """Flag disputes past their 20-day deadline and notify the operator; return how many.

    Enqueue once a day (e.g. from cron: ``xinrong disputes escalate`` does the same inline).
    """
    return len(services.dispute_escalate_overdue())
