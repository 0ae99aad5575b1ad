"""Reads of special funds and 免申即享: who sees which applications, lists and grants."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts.permissions import (
    can,
    is_auditor,
    is_enterprise_user,
    is_operator_admin,
    region_q,
)
from xinrong.common.errors import NotFoundError
from xinrong.policies.choices import (
    Delivery,
    FundApplicationStatus,
    GrantStatus,
    MeasureStatus,
)
from xinrong.policies.models import (
    AutoGrantEntry,
    AutoGrantList,
    AutoListEvent,
    FundApplication,
    FundEvent,
    FundMaterial,
    Grant,
    Measure,
)
from xinrong.policies.models.catalogue import APPLY_KINDS
from xinrong.policies.rules.funds import (
    is_finance,
    is_fund_approver,
    is_publisher,
)
from xinrong.policies.workflows.funds import PROCESS_KEY, holds_step
from xinrong.workflows import engine


def _entity_id(user: Any) -> int | None:
    org = getattr(user, "organisation", None)
    entity = getattr(org, "market_entity", None) if org is not None else None
    return entity.pk if entity is not None else None


def fund_applications(*, user: Any) -> QuerySet[FundApplication]:
    """The applications the user may see (newest first)."""
    qs = FundApplication.objects.select_related("measure__document__department", "entity")
    if is_enterprise_user(user):
        entity_id = _entity_id(user)
        return qs.filter(entity_id=entity_id) if entity_id else qs.none()
    if is_finance(user):
        return qs
    if is_publisher(user) or is_fund_approver(user):
        return qs.filter(measure__document__department_id=user.organisation_id)
    if is_operator_admin(user) or is_auditor(user):
        return qs.filter(region_q(user, "entity__division_code"))
    return qs.none()


def fund_get(*, user: Any, pk: int) -> FundApplication:
    """Return one application the user may see (404 otherwise)."""
    application = fund_applications(user=user).filter(pk=pk).first()
    if application is None or not can(user, "policies.fund_view", application):
        raise NotFoundError("not_found", _("专项资金申请不存在或您无权查看"))
    return application


def fund_waiting_for(*, user: Any) -> list[FundApplication]:
    """The applications whose open approval step the user may complete."""
    ids = [int(s) for s in engine.subjects_waiting_for(user, key=PROCESS_KEY)]
    rows = fund_applications(user=user).filter(pk__in=ids, status__in=("submitted", "in_review"))
    return [a for a in rows.order_by("submitted_at") if holds_step(user, a)]


def fund_events(*, application: FundApplication) -> QuerySet[FundEvent]:
    return FundEvent.objects.filter(application=application).select_related("actor")


def fund_materials(*, application: FundApplication) -> QuerySet[FundMaterial]:
    return FundMaterial.objects.filter(application=application).order_by("id")


def grants_to_pay(*, user: Any) -> QuerySet[Grant]:
    """Committed grants finance may record the payment of (oldest first)."""
    if not is_finance(user):
        return Grant.objects.none()
    return (
        Grant.objects.filter(status=GrantStatus.COMMITTED)
        .select_related("measure__document__department", "entity", "application")
        .order_by("committed_at", "id")
    )


def grants_paid(*, user: Any, limit: int = 50) -> list[Grant]:
    if not is_finance(user):
        return []
    return list(
        Grant.objects.filter(status=GrantStatus.DISBURSED)
        .select_related("measure", "entity")
        .order_by("-disbursed_at")[:limit]
    )


def entity_grants(*, user: Any) -> QuerySet[Grant]:
    """The enterprise's own grants (applied for or granted without applying)."""
    entity_id = _entity_id(user)
    if entity_id is None or not is_enterprise_user(user):
        return Grant.objects.none()
    return (
        Grant.objects.filter(entity_id=entity_id)
        .exclude(status=GrantStatus.CANCELLED)
        .select_related("measure__document__department")
        .order_by("-committed_at")
    )


def open_measures_for_entity(*, user: Any) -> QuerySet[Measure]:
    """Published apply-type measures the user's enterprise is eligible for (per the matches)."""
    entity_id = _entity_id(user)
    if entity_id is None:
        return Measure.objects.none()
    return (
        Measure.objects.filter(
            status=MeasureStatus.PUBLISHED,
            delivery=Delivery.APPLY,
            kind__in=APPLY_KINDS,
            matches__entity_id=entity_id,
            matches__eligible=True,
        )
        # inside the application window (one not open yet, or closed, offers no button)
        .filter(Q(window_start__isnull=True) | Q(window_start__lte=timezone.localdate()))
        .filter(Q(window_end__isnull=True) | Q(window_end__gte=timezone.localdate()))
        .exclude(  # one it already applied for is followed under 我的申请, not offered again
            applications__entity_id=entity_id,
            applications__status__in=[
                s
                for s in FundApplicationStatus.values
                if s not in (FundApplicationStatus.WITHDRAWN, FundApplicationStatus.REJECTED)
            ],
        )
        .select_related("document__department")
        .distinct()
    )


def auto_measures(*, user: Any) -> QuerySet[Measure]:
    """The 免申即享 measures the user may manage or see."""
    qs = Measure.objects.filter(delivery=Delivery.AUTOMATIC).select_related("document__department")
    if is_publisher(user):
        return qs.filter(document__department_id=user.organisation_id)
    if is_finance(user):
        return qs
    if is_operator_admin(user) or is_auditor(user):
        # a sub-station sees the measures of its region's documents only
        return qs.filter(region_q(user, "document__region_code"))
    return qs.none()


def auto_measure_get(*, user: Any, measure_id: int) -> Measure:
    measure = auto_measures(user=user).filter(pk=measure_id).first()
    if measure is None or not can(user, "policies.auto_view", measure):
        raise NotFoundError("not_found", _("免申即享措施不存在或您无权查看"))
    return measure


def auto_lists(*, measure: Measure) -> QuerySet[AutoGrantList]:
    return AutoGrantList.objects.filter(measure=measure).order_by("-drawn_at", "-id")


def auto_list_get(*, measure: Measure, pk: int) -> AutoGrantList:
    found = auto_lists(measure=measure).filter(pk=pk).first()
    if found is None:
        raise NotFoundError("not_found", _("免申即享名单不存在"))
    return found


def auto_entries(*, auto_list: AutoGrantList) -> QuerySet[AutoGrantEntry]:
    return (
        AutoGrantEntry.objects.filter(auto_list=auto_list)
        .select_related("entity")
        .order_by("excluded", "entity__name")
    )


def auto_events(*, auto_list: AutoGrantList) -> QuerySet[AutoListEvent]:
    return AutoListEvent.objects.filter(auto_list=auto_list).select_related("actor")
