"""Reads for accounts; visibility comes from the permission layer (accounts.permissions)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from xinrong.accounts import permissions
from xinrong.accounts.models import ApiKey, LoginThrottle, Organisation, SecurityEvent, User

__all__ = [
    "api_key_list",
    "locked_usernames",
    "organisation_counts",
    "organisation_list",
    "security_event_list",
    "user_list",
]


def organisation_list(*, user: User, kind: str | None = None) -> QuerySet[Organisation]:
    """Return organisations the user may see: operators see all in their region, others own."""
    qs = Organisation.objects.restrict(user)
    if kind:
        qs = qs.filter(kind=kind)
    return qs


def api_key_list(*, user: User, organisation: Organisation) -> QuerySet[ApiKey]:
    """Return an organisation's API keys if the user may manage them."""
    permissions.require(
        user, "accounts.apikey_manage", organisation, message=_("您无权查看该机构的 API 密钥")
    )
    return (
        ApiKey.objects.restrict(user).filter(organisation=organisation).select_related("created_by")
    )


def organisation_counts(*, user: User) -> dict[str, int]:
    """Return counts of visible organisations by kind, and of users (real dashboard figures)."""
    from django.db.models import Count

    rows = organisation_list(user=user).values("kind").annotate(n=Count("id"))
    counts = {row["kind"]: row["n"] for row in rows}
    counts["users"] = User.objects.filter(
        organisation__in=organisation_list(user=user), is_active=True
    ).count()
    return counts


def security_event_list(
    *,
    user: User,
    action: str = "",
    q: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[SecurityEvent]:
    """Return the security events the user may read (its region or organisation), newest first."""
    permissions.require(
        user, "accounts.security_log_view", message=_("您无权查看账号与密钥的操作记录")
    )
    qs = SecurityEvent.objects.restrict(user).select_related(
        "actor", "actor_organisation", "target_user", "target_organisation", "target_api_key"
    )
    if action:
        qs = qs.filter(action=action)
    if q:
        q = q.strip()
        qs = qs.filter(
            Q(username__icontains=q)
            | Q(actor__username__icontains=q)
            | Q(ip_address__startswith=q)
            | Q(target_organisation__name__icontains=q)
        )
    if date_from:
        qs = qs.filter(created_at__date__gte=date_from)
    if date_to:
        qs = qs.filter(created_at__date__lte=date_to)
    return qs.order_by("-created_at", "-id")


def locked_usernames(*, usernames: list[str]) -> set[str]:
    """Return which of these usernames are locked from some address now (one query)."""
    from django.utils import timezone

    lowered = {u.lower(): u for u in usernames}
    rows = LoginThrottle.objects.filter(
        username__in=list(lowered), locked_until__gt=timezone.now()
    ).values_list("username", flat=True)
    return {lowered[name] for name in rows}


def user_list(*, user: User, q: str = "", active: str = "") -> QuerySet[User]:
    """Return the logins of the organisations the user manages (operator: its region's)."""
    permissions.require(user, "accounts.user_list_view", message=_("您无权查看账号名单"))
    qs = (
        User.objects.filter(organisation__in=organisation_list(user=user))
        .select_related("organisation")
        .prefetch_related("roles")
    )
    if q:
        q = q.strip()
        qs = qs.filter(
            Q(username__icontains=q)
            | Q(display_name__icontains=q)
            | Q(organisation__name__icontains=q)
        )
    if active in ("0", "1"):
        qs = qs.filter(is_active=active == "1")
    return qs.order_by("organisation__kind", "organisation__name", "username")
