"""Reads for accounts; visibility comes from the permission layer (accounts.permissions)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from xinrong.accounts import permissions
from xinrong.accounts.models import ApiKey, Organisation, User
from xinrong.accounts.permissions import region_prefix_for

__all__ = ["api_key_list", "organisation_counts", "organisation_list", "region_prefix_for"]


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
