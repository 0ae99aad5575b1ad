"""Reads of disputes (异议): flags other features reuse, and visible lists."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts import permissions
from xinrong.accounts.models import User
from xinrong.common.errors import ApplicationError, NotFoundError
from xinrong.credit.choices import OPEN_DISPUTE_STATUSES, DisputeStatus
from xinrong.credit.models import Dispute, DisputeEvent, DisputeEvidence
from xinrong.credit.selectors.common import case_scope, chunked, valid_id


def open_dispute_by_fact(*, fact_ids: Iterable[int]) -> dict[int, int]:
    """Return {fact id: id of its open dispute} for those of ``fact_ids`` in dispute."""
    out: dict[int, int] = {}
    for part in chunked(fact_ids):
        out.update(
            Dispute.objects.filter(fact_id__in=part, status__in=OPEN_DISPUTE_STATUSES).values_list(
                "fact_id", "pk"
            )
        )
    return out


def disputed_fact_ids(*, fact_ids: Iterable[int]) -> set[int]:
    """Return which of ``fact_ids`` have an open dispute (submitted or in review).

    Every place that shows a fact flags these as 「异议处理中」 (征信业管理条例 第二十五条:
    an objection is marked on the information while it is checked): the archive page and API,
    the export, and — through this same selector — the portrait and the PDF report.
    """
    return set(open_dispute_by_fact(fact_ids=fact_ids))


def dispute_list(
    *, user: User, status: str = "", overdue: bool = False, today: dt.date | None = None
) -> QuerySet[Dispute]:
    """Return the disputes the user may see; open ones first, earliest deadline first.

    ``overdue`` keeps open disputes past their deadline (as of ``today``).
    """
    qs = case_scope(
        user,
        Dispute.objects.select_related("entity", "source__organisation", "filed_by", "handled_by"),
    )
    if status:
        if status not in DisputeStatus.values:
            raise ApplicationError(
                "invalid_status",
                _("状态只能是：%(s)s") % {"s": " / ".join(DisputeStatus.values)},
                {"field": "status"},
                status=422,
            )
        qs = qs.filter(status=status)
    if overdue:
        qs = qs.filter(status__in=OPEN_DISPUTE_STATUSES, due_on__lt=today or timezone.localdate())
    closed = Case(
        When(status__in=OPEN_DISPUTE_STATUSES, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    ordered: QuerySet[Dispute] = qs.annotate(closed=closed).order_by(
        "closed", "due_on", "-submitted_at", "-id"
    )
    return ordered


def dispute_get(*, user: User, pk: int) -> Dispute:
    """Return one dispute the user may see, or raise NotFoundError."""
    dispute = (
        dispute_list(user=user).select_related("fact").filter(pk=pk).first()
        if valid_id(pk)
        else None
    )
    if dispute is None or not permissions.can(user, "credit.case_view", dispute):
        raise NotFoundError("dispute_not_found", _("异议不存在"), {"field": "dispute"})
    return dispute


def dispute_events(*, dispute: Dispute) -> QuerySet[DisputeEvent]:
    """Return a dispute's timeline, oldest first."""
    return dispute.events.select_related("actor").order_by("id")


def dispute_evidence(*, dispute: Dispute) -> QuerySet[DisputeEvidence]:
    """Return a dispute's evidence files."""
    return dispute.evidence.select_related("uploaded_by")


def dispute_counts(*, user: User, today: dt.date | None = None) -> dict[str, int]:
    """Return open and overdue disputes the user may see (for dashboards and badges)."""
    qs = case_scope(user, Dispute.objects.filter(status__in=OPEN_DISPUTE_STATUSES))
    return qs.aggregate(
        open=Count("id"), overdue=Count("id", filter=Q(due_on__lt=today or timezone.localdate()))
    )
