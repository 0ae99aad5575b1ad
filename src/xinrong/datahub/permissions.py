"""Who may see and handle cross-validation conflicts: by role and by object.

Shared by services and selectors. A conflict names its sources by code (``Conflict.sources``,
e.g. ``["registry", "tax"]``); ``registry`` is the market-entity registry, not a ``Source``.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from xinrong.accounts.choices import OrgGroup, Role
from xinrong.accounts.models import User
from xinrong.accounts.selectors import region_prefix_for
from xinrong.common.errors import ApplicationError
from xinrong.datahub.models import Conflict, Source

REGISTRY = "registry"


def is_conflict_operator(user: User) -> bool:
    """Return True for the operator's (or a sub-station's) admins and superusers."""
    return user.is_superuser or (
        user.group == OrgGroup.OPERATOR and user.has_role(Role.OPERATOR_ADMIN)
    )


def is_conflict_overseer(user: User) -> bool:
    """Return True for operator admins and auditors, who see conflicts in their region."""
    return is_conflict_operator(user) or (
        user.group == OrgGroup.OPERATOR and user.has_role(Role.AUDITOR)
    )


def _in_region(user: User, conflict: Conflict) -> bool:
    prefix = region_prefix_for(user)
    return prefix is None or conflict.entity.division_code.startswith(prefix)


def provider_source_codes(user: User) -> set[str]:
    """Return the codes of the sources the user's department delivers (empty for others)."""
    if not (user.is_active and user.organisation_id and user.has_role(Role.DATA_PROVIDER)):
        return set()
    return set(
        Source.objects.filter(organisation_id=user.organisation_id).values_list("code", flat=True)
    )


def is_conflict_party(user: User, conflict: Conflict) -> bool:
    """Return True for the data providers of a department whose source the conflict involves."""
    return bool(provider_source_codes(user) & set(conflict.sources))


def can_resolve_conflict(user: User, conflict: Conflict) -> bool:
    """Return True for the involved departments and the operator admins of the entity's region."""
    return is_conflict_party(user, conflict) or (
        is_conflict_operator(user) and _in_region(user, conflict)
    )


def can_reopen_conflict(user: User, conflict: Conflict) -> bool:
    """Return True for the operator admins of the entity's region (a department may not)."""
    return is_conflict_operator(user) and _in_region(user, conflict)


def can_view_conflict(user: User, conflict: Conflict) -> bool:
    """Return True for those who may handle the conflict and the auditors of its region."""
    return is_conflict_party(user, conflict) or (
        is_conflict_overseer(user) and _in_region(user, conflict)
    )


def blame_not_involved(conflict: Conflict, code: str) -> ApplicationError:
    """Return the error for naming, as the wrong source, one the conflict does not involve."""
    return ApplicationError(
        "blame_not_involved",
        _("来源“%(b)s”不涉及该冲突；可选：%(all)s")
        % {"b": code, "all": "、".join(conflict.sources)},
        {"field": "blamed_source"},
        status=422,
    )
