"""Reads of the data hub; facts are visible only once their batch has completed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts.choices import OrgGroup, Role
from xinrong.accounts.models import User
from xinrong.common.errors import NotFoundError, PermissionDeniedError
from xinrong.datahub.choices import CADENCE_DAYS, BatchStatus, ResolutionStatus
from xinrong.datahub.models import Conflict, Fact, IngestBatch, Source, UnresolvedRow
from xinrong.enterprises.models import MarketEntity


def fact_visible() -> QuerySet[Fact]:
    """Return facts of completed batches (who may read them is decided by credit)."""
    return Fact.objects.filter(batch__status=BatchStatus.COMPLETED)


def is_hub_operator(user: User) -> bool:
    return user.is_superuser or (
        user.group == OrgGroup.OPERATOR and user.has_role(Role.OPERATOR_ADMIN, Role.AUDITOR)
    )


def source_list(*, user: User) -> QuerySet[Source]:
    """Return the sources a user may deliver to or oversee.

    A department's data provider sees its own organisation's sources; operators see all.
    """
    qs = Source.objects.select_related("organisation")
    if is_hub_operator(user):
        return qs
    if user.has_role(Role.DATA_PROVIDER) and user.organisation_id is not None:
        return qs.filter(organisation_id=user.organisation_id)
    raise PermissionDeniedError("forbidden", _("只有数据报送员和平台运营方可以使用信息归集"))


def batch_list(*, user: User) -> QuerySet[IngestBatch]:
    """Return the batches of the sources the user may see, newest first."""
    return IngestBatch.objects.filter(source__in=source_list(user=user)).select_related(
        "source", "created_by"
    )


def batch_get(*, user: User, pk: int) -> IngestBatch:
    """Return one visible batch or raise NotFoundError."""
    batch = batch_list(user=user).filter(pk=pk).first()
    if batch is None:
        raise NotFoundError("batch_not_found", _("归集批次不存在"), {"field": "batch"})
    return batch


def unresolved_open(*, user: User) -> QuerySet[UnresolvedRow]:
    """Return rows waiting for association, for platform operators."""
    if not is_hub_operator(user):
        raise PermissionDeniedError("forbidden", _("只有平台运营方可以处理待关联记录"))
    return UnresolvedRow.objects.filter(status=ResolutionStatus.OPEN).select_related(
        "batch__source"
    )


@dataclass
class SourceQuality:
    """Data-quality figures of one source, all computed from stored batches and facts."""

    source: Source
    batches: int
    last_delivery: dt.datetime | None
    late: bool
    days_since: int | None
    received: int
    accepted: int
    rejected: int
    entities_covered: int
    completeness: float  # share of registered entities with at least one fact
    open_conflicts: int

    @property
    def rejection_pct(self) -> float:
        """Return refused rows as a percentage of rows received."""
        return 100 * self.rejected / self.received if self.received else 0.0

    @property
    def completeness_pct(self) -> float:
        """Return the coverage as a percentage."""
        return 100 * self.completeness


def source_quality(*, user: User) -> list[SourceQuality]:
    """Return completeness, timeliness, rejection rate and open conflicts per visible source."""
    sources = list(source_list(user=user))
    ids = [s.pk for s in sources]
    totals = {
        row["source_id"]: row
        for row in IngestBatch.objects.filter(source_id__in=ids, status=BatchStatus.COMPLETED)
        .values("source_id")
        .annotate(
            n=Count("id"),
            last=Max("finished_at"),
            received=Sum("received"),
            accepted=Sum("accepted"),
            rejected=Sum("rejected"),
        )
    }
    covered = dict(
        fact_visible()
        .filter(source_id__in=ids)
        .values("source_id")
        .annotate(n=Count("entity_id", distinct=True))
        .values_list("source_id", "n")
    )
    registry = MarketEntity.objects.count() or 1
    conflicts: dict[str, int] = {}
    for sources_json in Conflict.objects.filter(resolved_at__isnull=True).values_list(
        "sources", flat=True
    ):
        for code in sources_json:
            conflicts[code] = conflicts.get(code, 0) + 1
    now = timezone.now()
    result = []
    for s in sources:
        t: dict[str, Any] = dict(totals.get(s.pk) or {})
        last = t.get("last")
        days = (now - last).days if last else None
        allowed = CADENCE_DAYS.get(s.cadence, 0)
        result.append(
            SourceQuality(
                source=s,
                batches=t.get("n", 0),
                last_delivery=last,
                late=bool(allowed) and (days is None or days > allowed),
                days_since=days,
                received=t.get("received") or 0,
                accepted=t.get("accepted") or 0,
                rejected=t.get("rejected") or 0,
                entities_covered=covered.get(s.pk, 0),
                completeness=covered.get(s.pk, 0) / registry,
                open_conflicts=conflicts.get(s.code, 0),
            )
        )
    return result


def conflict_list(*, entity: MarketEntity) -> QuerySet[Conflict]:
    """Return an entity's open conflicts (shown to the enterprise itself and to operators)."""
    return Conflict.objects.filter(entity=entity, resolved_at__isnull=True)
