"""Reads for accounts, and the visibility helpers that other apps' selectors apply."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from xinrong.accounts.choices import KEY_MANAGER_ROLES, OrgGroup, OrgKind, Role
from xinrong.accounts.models import ApiKey, Organisation, User
from xinrong.common.errors import PermissionDeniedError
from xinrong.reference import divisions


def region_prefix_for(user: User) -> str | None:
    """Return the division-code prefix the user is confined to, or None for no region limit.

    A sub-station sees only its region; a government department with a region sees only
    that region; the platform operator and superusers see everything.
    """
    if user.is_superuser:
        return None
    org = user.organisation
    if org is None:
        return None
    if org.kind in (OrgKind.SUBSTATION, OrgKind.GOVERNMENT) and org.region_code:
        return divisions.descendants_prefix(org.region_code)
    return None


def is_operator(user: User) -> bool:
    """Return True for platform operators (incl. sub-stations) and superusers."""
    return user.is_superuser or user.group == OrgGroup.OPERATOR


def organisation_list(*, user: User, kind: str | None = None) -> QuerySet[Organisation]:
    """Return organisations the user may see: operators see all in their region, others own."""
    qs = Organisation.objects.all()
    if not is_operator(user):
        if user.organisation_id is None:
            return qs.none()
        qs = qs.filter(pk=user.organisation_id)
    else:
        prefix = region_prefix_for(user)
        if prefix:
            qs = qs.filter(region_code__startswith=prefix)
    if kind:
        qs = qs.filter(kind=kind)
    return qs


def can_manage_api_keys(user: User, organisation: Organisation) -> bool:
    """Return True for the operator's admins and the organisation's own key managers."""
    if user.is_superuser or user.has_role(Role.OPERATOR_ADMIN):
        return True
    return user.organisation_id == organisation.pk and user.has_role(*KEY_MANAGER_ROLES)


def api_key_list(*, user: User, organisation: Organisation) -> QuerySet[ApiKey]:
    """Return an organisation's API keys if the user may manage them."""
    if not can_manage_api_keys(user, organisation):
        raise PermissionDeniedError("forbidden", _("您无权查看该机构的 API 密钥"))
    return ApiKey.objects.filter(organisation=organisation).select_related("created_by")


def organisation_counts(*, user: User) -> dict[str, int]:
    """Return counts of visible organisations by kind, and of users (real dashboard figures)."""
    from django.db.models import Count

    rows = organisation_list(user=user).values("kind").annotate(n=Count("id"))
    counts = {row["kind"]: row["n"] for row in rows}
    counts["users"] = User.objects.filter(
        organisation__in=organisation_list(user=user), is_active=True
    ).count()
    return counts
