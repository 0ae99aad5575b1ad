"""Who may act on disputes and repair applications: by role and by object.

Shared by services and selectors (which import each other's module otherwise).
"""

from __future__ import annotations

from xinrong.accounts.choices import OrgGroup, Role
from xinrong.accounts.models import User
from xinrong.accounts.selectors import region_prefix_for
from xinrong.datahub.models import Source
from xinrong.enterprises.models import MarketEntity


def is_entity_member(user: User, entity: MarketEntity) -> bool:
    """Return True for the enterprise's own owner and agents."""
    return (
        user.is_active
        and user.group == OrgGroup.ENTERPRISE
        and entity.organisation_id is not None
        and user.organisation_id == entity.organisation_id
        and user.has_role(Role.ENTERPRISE_OWNER, Role.ENTERPRISE_AGENT)
    )


def is_platform_operator(user: User) -> bool:
    """Return True for the operator's (or a sub-station's) admins and superusers."""
    return user.is_superuser or (
        user.group == OrgGroup.OPERATOR and user.has_role(Role.OPERATOR_ADMIN)
    )


def is_platform_auditor(user: User) -> bool:
    """Return True for the operator's auditors (read-only)."""
    return user.group == OrgGroup.OPERATOR and user.has_role(Role.AUDITOR)


def operator_covers(user: User, entity: MarketEntity) -> bool:
    """Return True if an operator admin may act for this entity (sub-stations: their region)."""
    if not is_platform_operator(user):
        return False
    prefix = region_prefix_for(user)
    return prefix is None or entity.division_code.startswith(prefix)


def is_source_handler(user: User, source: Source) -> bool:
    """Return True for the data providers of the department that delivered the information."""
    return (
        user.is_active
        and user.organisation_id is not None
        and user.organisation_id == source.organisation_id
        and user.has_role(Role.DATA_PROVIDER)
    )


def can_handle(user: User, *, source: Source, entity: MarketEntity) -> bool:
    """Return True if the user may answer a dispute or decide a repair about this information."""
    return is_source_handler(user, source) or operator_covers(user, entity)


def can_view(user: User, *, source: Source, entity: MarketEntity) -> bool:
    """Return True for the enterprise, the handlers, and the operator's auditors in region."""
    if is_entity_member(user, entity) or can_handle(user, source=source, entity=entity):
        return True
    if is_platform_auditor(user):
        prefix = region_prefix_for(user)
        return prefix is None or entity.division_code.startswith(prefix)
    return False
