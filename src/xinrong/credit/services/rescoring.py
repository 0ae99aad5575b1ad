"""Coalesced rescoring: entities to rescore wait in a pending set that one drain empties.

Every completed ingestion batch and every fact change outside ingestion (a dispute
correction, a repair) used to queue its own rescoring task: one per loan event. Now they add
their entities to ``PendingRescore`` (one row per entity and batch, so asking twice is one row)
and ask for the drain, which is queued at most once at a time (``datahub.services.coalesce``).
The drain rescores all pending entities together with ``profiles_score`` and then runs the
warning rules as the per-batch task did: every rule on each batch's own facts, the score drop
alone for entities no batch touched.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import get_random_string

from xinrong.credit.models import PendingRescore

logger = logging.getLogger(__name__)

DRAIN_REQUEST = "credit.rescore_drain"
DRAIN_PART = 20_000  # pending rows rescored together (profiles_score splits them further)
_ID_PART = 900  # ids per statement (SQLite's parameter limit)


@dataclass
class DrainReport:
    """What one drain did."""

    entities: int = 0  # distinct entities rescored (0 without an active model)
    alerts: int = 0  # new early-warning alerts
    batches: int = 0  # ingestion batches whose warning rules ran


def rescore_request_entities(*, entity_ids: list[int]) -> None:
    """Add entities to the pending set (in the caller's transaction), for the score-drop rule."""
    ids = sorted(set(entity_ids))
    now = timezone.now()
    for start in range(0, len(ids), _ID_PART):
        PendingRescore.objects.bulk_create(
            [
                PendingRescore(entity_id=eid, batch_id=0, requested_at=now)
                for eid in ids[start : start + _ID_PART]
            ],
            update_conflicts=True,
            unique_fields=["entity", "batch_id"],
            update_fields=["requested_at", "claim", "claimed_at"],
        )


def rescore_request_batch(*, batch_id: int) -> int:
    """Add the entities a completed ingestion batch touched to the pending set, in one
    statement; return how many rows were written."""
    from xinrong.datahub.models import Fact

    pending, fact = PendingRescore._meta.db_table, Fact._meta.db_table
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            # table names from the models, values as parameters
            f"INSERT INTO {qn(pending)} (entity_id, batch_id, requested_at, claim) "  # noqa: S608
            f"SELECT DISTINCT entity_id, %s, %s, '' FROM {qn(fact)} WHERE batch_id = %s "
            "ON CONFLICT (entity_id, batch_id) DO UPDATE "
            "SET requested_at = excluded.requested_at, claim = '', claimed_at = NULL",
            [batch_id, connection.ops.adapt_datetimefield_value(timezone.now()), batch_id],
        )
        return int(cursor.rowcount or 0)


def rescore_drain_request() -> bool:
    """Queue the drain unless one is already queued; return whether this call did."""
    from xinrong.credit.tasks import rescore_drain
    from xinrong.datahub.services.coalesce import task_request

    return task_request(
        name=DRAIN_REQUEST,
        task=rescore_drain,
        delay_seconds=float(getattr(settings, "XINRONG_RESCORE_DRAIN_SECONDS", 5)),
    )


def rescore_drain_run(*, part: int = DRAIN_PART) -> DrainReport:
    """Rescore every pending entity and run the warning rules, ``part`` rows at a time.

    A part is claimed in a short transaction (PostgreSQL skips rows a concurrent drain holds),
    worked outside it, and its rows deleted unless asked for again meanwhile (the request
    cleared the claim). A drain that dies leaves its claims; they are taken over once older
    than ``XINRONG_INGEST_STALE_SECONDS``. Rescoring and alerts are idempotent (a score is
    written only when it changed, an alert already raised is not raised again), so work
    done twice after a crash changes nothing.
    """
    from xinrong.credit.selectors.scoring import model_active
    from xinrong.credit.services.early_warning import alerts_raise
    from xinrong.credit.services.scoring import profiles_score

    report = DrainReport()
    token = get_random_string(16)
    stale = dt.timedelta(seconds=int(getattr(settings, "XINRONG_INGEST_STALE_SECONDS", 900)))
    while True:
        now = timezone.now()
        with transaction.atomic():
            free = PendingRescore.objects.filter(Q(claim="") | Q(claimed_at__lt=now - stale))
            if connection.features.has_select_for_update_skip_locked:
                free = free.select_for_update(skip_locked=True)
            rows = list(free.order_by("id").values_list("id", "entity_id", "batch_id")[:part])
            if not rows:
                return report
            row_ids = [r[0] for r in rows]
            for start in range(0, len(row_ids), _ID_PART):
                PendingRescore.objects.filter(pk__in=row_ids[start : start + _ID_PART]).update(
                    claim=token, claimed_at=now
                )
        by_batch: dict[int, list[int]] = defaultdict(list)
        for _id, entity_id, batch_id in rows:
            by_batch[batch_id].append(entity_id)
        entity_ids = sorted({entity_id for _id, entity_id, _b in rows})
        active = model_active() is not None
        if active:
            report.entities += profiles_score(entity_ids=entity_ids).entities
        for batch_id in sorted(b for b in by_batch if b):
            report.alerts += alerts_raise(entity_ids=sorted(by_batch[batch_id]), batch_id=batch_id)
            report.batches += 1
        if active and by_batch.get(0):
            report.alerts += alerts_raise(entity_ids=sorted(by_batch[0]), only={"score_drop"})
        with transaction.atomic():
            for start in range(0, len(row_ids), _ID_PART):
                PendingRescore.objects.filter(
                    pk__in=row_ids[start : start + _ID_PART], claim=token
                ).delete()
