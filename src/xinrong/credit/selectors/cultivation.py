"""Reads of credit cultivation: candidates and cases."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import F, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts import permissions
from xinrong.accounts.models import User
from xinrong.accounts.permissions import region_prefix_for
from xinrong.common.errors import NotFoundError, PermissionDeniedError
from xinrong.credit.choices import CultivationStatus
from xinrong.credit.models import CreditProfile, CultivationCase, CultivationEvent
from xinrong.credit.scorecard import BANKABLE_GRADE, DEFAULT_BANDS
from xinrong.enterprises.models import MarketEntity


@dataclass
class Candidate:
    """An enterprise below the bankable grade whose score is rising."""

    entity: MarketEntity
    score: int
    grade: str
    score_before: int
    since: dt.date


def _require_government(user: User) -> None:
    permissions.require(user, "credit.cultivation_run", message=_("信用培植由行业主管部门办理"))


def _below_bankable() -> list[str]:
    names = [g for g, _floor in DEFAULT_BANDS]
    return names[names.index(BANKABLE_GRADE) + 1 :]


def cultivation_candidates(
    *, user: User, industry: str = "", months: int = 12, limit: int = 200
) -> list[Candidate]:
    """Entities below the bankable grade whose score rose over the last ``months``, in the
    user's region and industry sections, not already in cultivation; biggest rise first."""
    _require_government(user)
    org = user.organisation
    latest = CreditProfile.objects.filter(is_latest=True, grade__in=_below_bankable())
    prefix = region_prefix_for(user)
    if prefix:
        latest = latest.filter(entity__division_code__startswith=prefix)
    sections = list(org.industry_sections) if org is not None else []
    if industry:
        sections = [industry] if not sections or industry in sections else ["-"]
    if sections:
        within = Q()
        for letter in sections:
            within |= Q(entity__industry_code__startswith=letter)
        latest = latest.filter(within)
    active = CultivationCase.objects.filter(status=CultivationStatus.ACTIVE).values("entity_id")
    latest = latest.exclude(entity_id__in=active)
    now = {p.entity_id: p for p in latest.select_related("entity").order_by("entity_id")[:20_000]}
    since = timezone.localdate() - dt.timedelta(days=31 * months)
    first = (
        CreditProfile.objects.filter(entity_id__in=list(now), computed_at__date__gte=since)
        .annotate(
            rank=Window(
                RowNumber(), partition_by=[F("entity_id")], order_by=[F("computed_at"), F("id")]
            )
        )
        .filter(rank=1)
        .values_list("entity_id", "score", "computed_at")
    )
    out = [
        Candidate(now[eid].entity, now[eid].score, now[eid].grade, score, timezone.localdate(at))
        for eid, score, at in first
        if now[eid].score > score
    ]
    out.sort(key=lambda c: (c.score_before - c.score, c.entity.pk))
    return out[:limit]


def cultivation_list(*, user: User) -> QuerySet[CultivationCase]:
    """Cases of the user's department (operators: the cases of their region's entities)."""
    if not (
        permissions.can(user, "credit.cultivation_run")
        or permissions.can(user, "credit.cultivation_view")
    ):
        raise PermissionDeniedError("forbidden", _("信用培植由行业主管部门办理"))
    return CultivationCase.objects.restrict(user).select_related(
        "entity", "authority", "started_by"
    )


def cultivation_get(*, user: User, pk: int) -> CultivationCase:
    """One case the user may see."""
    case = cultivation_list(user=user).filter(pk=pk).first()
    if case is None:
        raise NotFoundError("case_not_found", _("培植记录不存在"), {"field": "case"})
    return case


def cultivation_events(*, case: CultivationCase) -> QuerySet[CultivationEvent]:
    """Return the case's timeline, oldest first (the caller has already read the case)."""
    return case.events.select_related("actor").order_by("created_at", "id")
