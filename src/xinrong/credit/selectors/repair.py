"""Reads of credit repair (信用修复): repaired facts and visible applications."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.utils.translation import gettext as _

from xinrong.accounts import permissions
from xinrong.accounts.models import User
from xinrong.common.errors import ApplicationError, NotFoundError, PermissionDeniedError
from xinrong.credit.choices import RepairStatus
from xinrong.credit.models import RepairApplication, RepairEvent, RepairEvidence
from xinrong.credit.selectors.common import case_scope, chunked, valid_id
from xinrong.credit.workflows_repair import PROCESS_KEY, repair_may
from xinrong.workflows import engine


def repaired_fact_ids(*, entity_ids: Iterable[int] | None = None) -> set[int]:
    """Return the ids of facts whose credit repair was approved (optionally of some entities).

    A repaired penalty record stops being shown publicly and stops counting in the credit
    score. The scoring feature builder drops these ids from the facts it reads, e.g.::

        repaired = repaired_fact_ids(entity_ids=chunk_ids)
        facts = facts.exclude(pk__in=repaired)  # or a NumPy mask over fact ids

    Repairs are few (one approved row per repaired fact), so the set stays small even for a
    province; for a query without a Python set use ``features.exclude_repaired``.
    """
    qs = RepairApplication.objects.filter(status=RepairStatus.APPROVED)
    if entity_ids is None:
        return set(qs.values_list("fact_id", flat=True))
    out: set[int] = set()
    for part in chunked(entity_ids):
        out.update(qs.filter(entity_id__in=part).values_list("fact_id", flat=True))
    return out


def pending_repair_fact_ids(*, fact_ids: Iterable[int]) -> set[int]:
    """Return which of ``fact_ids`` have a repair application waiting for a decision."""
    out: set[int] = set()
    for part in chunked(fact_ids):
        out.update(
            RepairApplication.objects.filter(
                fact_id__in=part, status=RepairStatus.SUBMITTED
            ).values_list("fact_id", flat=True)
        )
    return out


def repair_list(*, user: User, status: str = "") -> QuerySet[RepairApplication]:
    """Return the repair applications the user may see; pending ones first.

    Besides the enterprise, the department and the operator (the case scope), whoever a lane
    of the approval process names (a role or a person the operator configured) sees the
    applications waiting for them.
    """
    base = RepairApplication.objects.select_related(
        "entity", "source__organisation", "filed_by", "decided_by", "fact"
    )
    waiting = repair_waiting_ids(user=user)
    qs: QuerySet[RepairApplication]
    try:
        qs = case_scope(user, base)
    except PermissionDeniedError:
        if not waiting:
            raise
        qs = base.none()
    if waiting:
        qs = qs | base.filter(pk__in=waiting)
    if status:
        if status not in RepairStatus.values:
            raise ApplicationError(
                "invalid_status",
                _("状态只能是：%(s)s") % {"s": " / ".join(RepairStatus.values)},
                {"field": "status"},
                status=422,
            )
        qs = qs.filter(status=status)
    pending = Case(
        When(status=RepairStatus.SUBMITTED, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return qs.annotate(decided=pending).order_by("decided", "-submitted_at", "-id")


def repair_waiting_ids(*, user: User) -> list[int]:
    """Return the ids of the applications waiting for this user's step, or that they handled."""
    ids = [int(i) for i in engine.subjects_waiting_for(user, key=PROCESS_KEY) if i.isdigit()]
    rows = RepairApplication.objects.filter(
        pk__in=ids, status=RepairStatus.SUBMITTED
    ).select_related("entity", "source")
    waiting = [row.pk for row in rows if repair_may(user, row)]
    handled = [int(i) for i in engine.subjects_handled_by(user, key=PROCESS_KEY) if i.isdigit()]
    return sorted({*waiting, *handled})


def repair_get(*, user: User, pk: int) -> RepairApplication:
    """Return one repair application the user may see, or raise NotFoundError."""
    application = repair_list(user=user).filter(pk=pk).first() if valid_id(pk) else None
    if application is None or not (
        permissions.can(user, "credit.case_view", application)
        or application.pk in repair_waiting_ids(user=user)
    ):
        raise NotFoundError("repair_not_found", _("信用修复申请不存在"), {"field": "repair"})
    return application


def repair_events(*, application: RepairApplication) -> QuerySet[RepairEvent]:
    """Return a repair application's timeline, oldest first."""
    return application.events.select_related("actor").order_by("id")


def repair_evidence(*, application: RepairApplication) -> QuerySet[RepairEvidence]:
    """Return a repair application's evidence files."""
    return application.evidence.select_related("uploaded_by")
