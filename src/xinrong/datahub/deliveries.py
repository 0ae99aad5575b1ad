"""Reads behind the workbenches: a department's deliveries (batches) and their errors, conflicts.

Batches come from the same scoped selector as the data hub's page (``batch_list``), conflicts from
``conflict_queue``, so the counts equal the lists they link to.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, Sum
from django.utils import timezone

from xinrong.accounts import permissions
from xinrong.accounts.models import User
from xinrong.common.errors import PermissionDeniedError
from xinrong.datahub.choices import BatchStatus, ConflictStatus
from xinrong.datahub.models import IngestBatch
from xinrong.datahub.selectors import batch_list, conflict_queue

RECENT_DAYS = 30


@dataclass
class Deliveries:
    """The batches a user sees: the last 30 days' totals and the newest batches."""

    batches: int
    failed: int
    in_progress: int
    received: int
    rejected: int
    unresolved: int
    with_errors: int
    recent: list[IngestBatch]


def deliveries(*, user: User, limit: int = 6, now: dt.datetime | None = None) -> Deliveries | None:
    """Return the user's deliveries of the last 30 days (None if the user has no data hub)."""
    if not permissions.can(user, "datahub.hub_use"):
        return None
    qs = batch_list(user=user)
    since = (now or timezone.now()) - dt.timedelta(days=RECENT_DAYS)
    window = qs.filter(created_at__gte=since).order_by()
    f = window.aggregate(
        n=Count("id"),
        failed=Count("id", filter=Q(status=BatchStatus.FAILED)),
        running=Count("id", filter=Q(status__in=(BatchStatus.PENDING, BatchStatus.PROCESSING))),
        rows_received=Sum("received"),
        rows_rejected=Sum("rejected"),
        rows_unresolved=Sum("unresolved"),
        with_errors=Count("id", filter=Q(rejected__gt=0) | Q(status=BatchStatus.FAILED)),
    )
    return Deliveries(
        f["n"] or 0,
        f["failed"] or 0,
        f["running"] or 0,
        f["rows_received"] or 0,
        f["rows_rejected"] or 0,
        f["rows_unresolved"] or 0,
        f["with_errors"] or 0,
        list(qs[:limit]),
    )


def open_conflicts(*, user: User) -> int | None:
    """Return how many open conflicts the user's conflict queue holds (None: no queue)."""
    if not permissions.can(user, "datahub.conflict_view"):
        return None
    try:
        return conflict_queue(user=user, status=ConflictStatus.OPEN).count()
    except PermissionDeniedError:
        return None
