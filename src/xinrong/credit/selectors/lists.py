"""Reads of the white and black lists (信用红黑名单).

The one-vote veto (一票否决) is asked here by every part that must exclude a black-listed
entity: product matching (marketplace), policy eligibility (policies), risk compensation
(riskfund) and the white list itself. All reads are set-wise (one query for many entities).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts.models import User
from xinrong.accounts.permissions import require
from xinrong.credit.models import (
    BlacklistEntry,
    BlacklistSource,
    FraudReport,
    FraudStatus,
    RecommendConsent,
    WhitelistCriteria,
    WhitelistEntry,
)
from xinrong.enterprises.models import MarketEntity

# What the listed entity reads: how to get off the list, by source.
CLEAR_WAYS = {
    BlacklistSource.DISHONEST: (
        "履行法院判决确定的义务后，法院将您移出失信被执行人名单；数据更新后本平台自动移出黑名单。"
        "如认为信息有误，可在“本企业档案”中对该条信息提出异议。"
    ),
    BlacklistSource.SERIOUS_VIOLATION: (
        "完成整改并期满后，可在“本企业档案”中对该条行政处罚申请信用修复；修复通过后自动移出黑名单。"
        "如认为信息有误，可提出异议。"
    ),
    BlacklistSource.FRAUD: (
        "欺诈认定自认定之日起保留5年，期满自动移出。如有异议，请携相关材料联系平台运营方。"
    ),
}


def blacklist_active_q(on: dt.datetime | None = None) -> Q:
    """The entries in force at ``on`` (now when None)."""
    if on is None:
        return Q(cleared_at__isnull=True)
    return Q(listed_at__lte=on) & (Q(cleared_at__isnull=True) | Q(cleared_at__gt=on))


def blacklisted_ids(
    entity_ids: Iterable[int] | None = None, *, on: dt.datetime | None = None
) -> set[int]:
    """Return the ids (of ``entity_ids``, or all) black-listed at ``on`` (now): one query."""
    qs = BlacklistEntry.objects.filter(blacklist_active_q(on)).order_by()
    if entity_ids is not None:
        wanted = sorted({int(i) for i in entity_ids})
        if not wanted:
            return set()
        qs = qs.filter(entity_id__in=wanted)
    return set(qs.values_list("entity_id", flat=True).distinct())


def is_blacklisted(entity_id: int, *, on: dt.datetime | None = None) -> bool:
    """Return True if the entity is on the black list at ``on`` (now)."""
    return BlacklistEntry.objects.filter(blacklist_active_q(on), entity_id=entity_id).exists()


def blacklisted_by_fraud(entity_id: int) -> bool:
    """Return True if the entity is listed now for confirmed fraud."""
    return BlacklistEntry.objects.filter(
        cleared_at__isnull=True, entity_id=entity_id, source=BlacklistSource.FRAUD
    ).exists()


def veto_reason(entity_id: int, *, on: dt.datetime | None = None) -> str:
    """The veto in words for another page ("" when not listed at ``on``, now when None)."""
    reasons = list(
        BlacklistEntry.objects.filter(blacklist_active_q(on), entity_id=entity_id)
        .order_by("listed_at", "id")
        .values_list("reason", flat=True)
    )
    return "；".join(dict.fromkeys(reasons))


def compensation_veto(entity_id: int, *, on: dt.date) -> str:
    """Why a loan made on ``on`` gets no risk compensation ("" if none): the borrower was
    black-listed that day, or is listed now for confirmed fraud (fraud voids compensation)."""
    end = timezone.make_aware(dt.datetime.combine(on, dt.time.max))
    q = blacklist_active_q(end) | Q(cleared_at__isnull=True, source=BlacklistSource.FRAUD)
    reasons = list(
        BlacklistEntry.objects.filter(q, entity_id=entity_id)
        .order_by("listed_at", "id")
        .values_list("reason", flat=True)
    )
    return "；".join(dict.fromkeys(reasons))


@dataclass(frozen=True)
class ListStatus:
    """An entity's own credit-list status, as it reads it."""

    entity: MarketEntity
    black: list[BlacklistEntry]
    history: list[BlacklistEntry]
    white: WhitelistEntry | None
    consented: bool
    consent_at: dt.datetime | None
    clear_ways: dict[str, str]


def consent_current(entity_id: int) -> RecommendConsent | None:
    return (
        RecommendConsent.objects.filter(entity_id=entity_id).order_by("-recorded_at", "-id").first()
    )


def list_status(*, user: User, entity: MarketEntity) -> ListStatus:
    """The entity's black-list entries (in force and past), white-list entry and consent."""
    require(
        user, "credit.list_status_view", entity, message=_("只有企业本身可以查看本企业的名单状态")
    )
    entries = list(BlacklistEntry.objects.filter(entity=entity).order_by("-listed_at", "-id"))
    consent = consent_current(entity.pk)
    white = WhitelistEntry.objects.filter(entity=entity, cleared_at__isnull=True).first()
    black = [e for e in entries if e.cleared_at is None]
    return ListStatus(
        entity=entity,
        black=black,
        history=[e for e in entries if e.cleared_at is not None],
        white=white,
        consented=bool(consent and consent.consented),
        consent_at=consent.recorded_at if consent else None,
        clear_ways={str(e.source): CLEAR_WAYS[BlacklistSource(e.source)] for e in black},
    )


def criteria_current() -> WhitelistCriteria | None:
    """The white-list criteria in force (None: the operator never set them)."""
    return WhitelistCriteria.objects.order_by("-changed_at", "-id").first()


def blacklist_entries(*, user: User) -> QuerySet[BlacklistEntry]:
    """The black-list entries (in force and history) the operator may see (sub-station: region)."""
    require(user, "credit.lists_view", message=_("只有平台运营方可以管理红黑名单"))
    return BlacklistEntry.objects.restrict(user).select_related("entity")


def whitelist_entries(*, user: User) -> QuerySet[WhitelistEntry]:
    """The white-list entries (in force and history) the operator may see."""
    require(user, "credit.lists_view", message=_("只有平台运营方可以管理红黑名单"))
    return WhitelistEntry.objects.restrict(user).select_related("entity")


def prospects(*, user: User) -> QuerySet[WhitelistEntry]:
    """The white-listed entities pushed to an institution: consenting, not black-listed now.

    Names and grades only (the template shows no more); a sub-station's institution its region.
    """
    require(user, "credit.prospects_view", message=_("只有金融机构可以查看白名单推荐客户"))
    latest = (
        RecommendConsent.objects.filter(entity_id=OuterRef("entity_id"))
        .order_by("-recorded_at", "-id")
        .values("consented")[:1]
    )
    listed = BlacklistEntry.objects.filter(entity_id=OuterRef("entity_id"), cleared_at__isnull=True)
    return (
        WhitelistEntry.objects.restrict(user)
        .filter(cleared_at__isnull=True)
        .annotate(_consent=Subquery(latest))
        .filter(_consent=True)
        .exclude(Exists(listed))
        .select_related("entity")
        .order_by("entity__name", "id")
    )


def fraud_reports(*, user: User) -> QuerySet[FraudReport]:
    """Fraud reports: the institution's own, or the operator's queue (sub-station: region)."""
    require(user, "credit.fraud_view", message=_("只有金融机构和平台运营方可以查看欺诈举报"))
    return FraudReport.objects.restrict(user).select_related("entity", "institution")


def lists_card(user: User) -> dict[str, Any] | None:
    """The home page's list card (None: nothing for this user).

    Enterprise: listed or not with the reasons, and its consent; institution: prospects and its
    fraud reports waiting; operator: entries in force (its region) and reports to decide.
    """
    from xinrong.accounts.permissions import can

    if can(user, "credit.lists_view"):
        return {
            "role": "operator",
            "black": BlacklistEntry.objects.restrict(user).filter(cleared_at__isnull=True).count(),
            "white": WhitelistEntry.objects.restrict(user).filter(cleared_at__isnull=True).count(),
            "fraud_waiting": FraudReport.objects.restrict(user)
            .filter(status=FraudStatus.REPORTED)
            .count(),
        }
    if can(user, "credit.prospects_view"):
        return {
            "role": "institution",
            "prospects": prospects(user=user).count(),
            "fraud_waiting": FraudReport.objects.restrict(user)
            .filter(status=FraudStatus.REPORTED)
            .count(),
            "can_report": can(user, "credit.fraud_report"),
        }
    org = getattr(user, "organisation", None)
    entity = getattr(org, "market_entity", None) if org is not None else None
    if entity is not None and can(user, "credit.list_status_view", entity):
        black = list(
            BlacklistEntry.objects.filter(entity=entity, cleared_at__isnull=True).order_by(
                "listed_at", "id"
            )
        )
        consent = consent_current(entity.pk)
        return {
            "role": "enterprise",
            "black": black,
            "white": WhitelistEntry.objects.filter(entity=entity, cleared_at__isnull=True).exists(),
            "consented": bool(consent and consent.consented),
        }
    return None
