"""Reads behind the role workbenches: grade and its trend, cases in progress, alerts.

Cases start from the same scoped selectors as the dispute and repair lists (``dispute_list``,
``repair_list``), so a count on a workbench equals the count on the list it links to.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts import permissions
from xinrong.accounts.models import User
from xinrong.credit.choices import (
    OPEN_DISPUTE_STATUSES,
    AlertStatus,
    CultivationStatus,
    RepairStatus,
)
from xinrong.credit.early_warning import RULES_BY_ID
from xinrong.credit.models import Alert, CreditProfile, Dispute, RepairApplication
from xinrong.credit.selectors.cultivation import cultivation_list
from xinrong.credit.selectors.disputes import dispute_list
from xinrong.credit.selectors.repair import repair_list
from xinrong.enterprises.models import MarketEntity


@dataclass
class GradeTrend:
    """An entity's latest grade and its score history (Beijing time, oldest first)."""

    score: int | None
    grade: str
    computed_at: dt.datetime | None
    previous_grade: str
    points: list[dict[str, object]] = field(default_factory=list)  # {"at", "score", "grade"}


def grade_trend(*, entity: MarketEntity, limit: int = 60) -> GradeTrend:
    """Return the entity's grade and its last ``limit`` scores (the caller checked access)."""
    rows = list(
        CreditProfile.objects.filter(entity=entity)
        .order_by("-computed_at", "-id")
        .values_list("computed_at", "score", "grade")[:limit]
    )[::-1]
    if not rows:
        return GradeTrend(None, "", None, "")
    points = [
        {
            "at": timezone.localtime(at).strftime("%Y-%m-%d %H:%M"),
            "score": score,
            "grade": grade,
        }
        for at, score, grade in rows
    ]
    at, score, grade = rows[-1]
    previous = next((g for _a, _s, g in reversed(rows[:-1]) if g != grade), "")
    return GradeTrend(score, grade, at, previous, points)


@dataclass
class Cases:
    """Disputes and repair applications in progress that the user sees (a list's first rows)."""

    disputes_open: int
    disputes_overdue: int
    repairs_pending: int
    disputes: list[Dispute]
    repairs: list[RepairApplication]


def cases_in_progress(*, user: User, limit: int = 5, today: dt.date | None = None) -> Cases:
    """Return the open disputes (earliest legal deadline first) and pending repairs of the user."""
    today = today or timezone.localdate()
    if not permissions.can(user, "credit.case_view") and not permissions.can(
        user, "credit.case_queue"
    ):
        return Cases(0, 0, 0, [], [])
    disputes = dispute_list(user=user).filter(status__in=OPEN_DISPUTE_STATUSES)
    figures = disputes.aggregate(n=Count("id"), late=Count("id", filter=Q(due_on__lt=today)))
    repairs = repair_list(user=user, status=RepairStatus.SUBMITTED)
    return Cases(
        figures["n"] or 0,
        figures["late"] or 0,
        repairs.count(),
        list(disputes[:limit]),
        list(repairs[:limit]),
    )


@dataclass
class Alerts:
    """The institution's open early-warning alerts: how many, and the newest in words."""

    open: int
    high: int
    rows: list[tuple[Alert, str]]


def alerts_open(*, user: User, limit: int = 5) -> Alerts:
    """Return the open alerts on the institution's borrowers (none for other users)."""
    if not permissions.can(user, "credit.alerts_view") or user.organisation_id is None:
        return Alerts(0, 0, [])
    qs = Alert.objects.filter(institution_id=user.organisation_id, status=AlertStatus.OPEN)
    figures = qs.aggregate(n=Count("id"), high=Count("id", filter=Q(severity="high")))
    rows = []
    for a in qs.select_related("entity").order_by("-created_at", "-id")[:limit]:
        rule = RULES_BY_ID.get(a.rule)
        rows.append((a, _(rule.description) if rule else ""))
    return Alerts(figures["n"] or 0, figures["high"] or 0, rows)


def cultivation_counts(*, user: User) -> list[tuple[str, str, int]] | None:
    """Return the department's cultivation cases per status (None: the user runs none)."""
    if not permissions.can(user, "credit.cultivation_run"):
        return None
    rows = dict(
        cultivation_list(user=user)
        .order_by()
        .values("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return [(s, str(label), rows.get(s, 0)) for s, label in CultivationStatus.choices]
