"""Who is told about disputes, repair, queries and alerts (reads of accounts, for notices)."""

from __future__ import annotations

from django.db.models import QuerySet

from xinrong.accounts.choices import OrgKind, Role
from xinrong.accounts.models import User
from xinrong.datahub.models import Source
from xinrong.enterprises.models import MarketEntity
from xinrong.reference import divisions


def _people() -> QuerySet[User]:
    """Active users who log in (an API key's service user reads no inbox)."""
    return User.objects.filter(is_active=True, api_key__isnull=True)


def entity_users(*, entity: MarketEntity) -> list[User]:
    """Return the enterprise's own users."""
    if entity.organisation_id is None:
        return []
    return list(_people().filter(organisation_id=entity.organisation_id))


def operator_users(*, entity: MarketEntity) -> list[User]:
    """Return the operator admins responsible for the entity: the platform's and its region's."""
    users = (
        _people()
        .filter(
            organisation__kind__in=(OrgKind.OPERATOR, OrgKind.SUBSTATION),
            organisation__is_active=True,
            roles__role=Role.OPERATOR_ADMIN,
        )
        .select_related("organisation")
        .distinct()
    )
    out = []
    for user in users:
        org = user.organisation
        assert org is not None
        regional = org.kind == OrgKind.SUBSTATION and org.region_code
        if regional and not entity.division_code.startswith(
            divisions.descendants_prefix(org.region_code)
        ):
            continue
        out.append(user)
    return out


def handler_users(*, source: Source, entity: MarketEntity) -> list[User]:
    """Return the department's data providers; the operators when the department has none."""
    users = list(
        _people()
        .filter(organisation_id=source.organisation_id, roles__role=Role.DATA_PROVIDER)
        .distinct()
    )
    return users or operator_users(entity=entity)


def escalation_users(*, source: Source, entity: MarketEntity) -> list[User]:
    """Return who hears of an overdue dispute: the operators, and the department as reminder."""
    seen: dict[int, User] = {}
    for user in [*operator_users(entity=entity), *handler_users(source=source, entity=entity)]:
        seen.setdefault(user.pk, user)
    return list(seen.values())


def organisation_users(*, organisation_id: int) -> list[User]:
    """Return the people of an organisation (an institution hears of its alerts)."""
    return list(_people().filter(organisation_id=organisation_id))
