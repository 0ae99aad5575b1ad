"""Reads of the enterprise registry, each applying the caller's visibility."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from xinrong.accounts.choices import Role
from xinrong.accounts.models import User
from xinrong.common.errors import ApplicationError, NotFoundError
from xinrong.enterprises.choices import REGISTRATION_KINDS
from xinrong.enterprises.models import MarketEntity, Relationship
from xinrong.reference import divisions, industries
from xinrong.reference import uscc as uscc_codec


@dataclass(frozen=True)
class EntityFilters:
    """Search criteria for the registry; empty strings mean "any"."""

    q: str = ""
    region: str = ""
    industry: str = ""
    size_class: str = ""
    entity_type: str = ""
    status: str = ""


def market_entity_visible(*, user: User) -> QuerySet[MarketEntity]:
    """Return the entities the user may see in the registry.

    Enterprise users see their own entity only; a sub-station or a regional department sees
    its region; institutions and the operator see the whole registry (public registration data).
    """
    return MarketEntity.objects.restrict(user)


def market_entity_visible_ids(*, user: User, ids: Iterable[int]) -> set[int]:
    """Return those of ``ids`` the user may open in the registry (for links to them)."""
    wanted = sorted(set(ids))
    if not wanted:
        return set()
    return set(market_entity_visible(user=user).filter(pk__in=wanted).values_list("pk", flat=True))


def market_entity_search(*, user: User, filters: EntityFilters) -> QuerySet[MarketEntity]:
    """Search the visible registry by name substring or USCC, region, industry, size and type."""
    for name, value in asdict(filters).items():
        if "\x00" in value:  # PostgreSQL cannot compare text with NUL: refuse, don't fail
            raise ApplicationError(
                "invalid_input",
                _("检索条件“%(f)s”不能包含空字符") % {"f": name},
                {"field": name},
                status=422,
            )
    qs = market_entity_visible(user=user)
    q = filters.q.strip()
    if q:
        normalised = uscc_codec.normalize(q)
        if len(normalised) == 18 and uscc_codec.is_valid(normalised):
            qs = qs.filter(uscc=normalised)
        else:
            qs = qs.filter(Q(name__contains=q) | Q(uscc__startswith=normalised))
    if filters.region:
        if divisions.get(filters.region) is None:
            raise NotFoundError(
                "division_not_found",
                _("行政区划代码“%(code)s”不存在") % {"code": filters.region},
                {"field": "region"},
            )
        qs = qs.filter(division_code__startswith=divisions.descendants_prefix(filters.region))
    if filters.industry:
        industry = industries.get(filters.industry)
        if industry is None:
            raise NotFoundError(
                "industry_not_found",
                _("行业代码“%(code)s”不存在") % {"code": filters.industry},
                {"field": "industry"},
            )
        # stored codes may be finer than the division ("K7010" under "K70")
        qs = qs.filter(industry_code__startswith=industry.code)
    if filters.size_class:
        qs = qs.filter(size_class=filters.size_class)
    if filters.entity_type:
        qs = qs.filter(entity_type=filters.entity_type)
    if filters.status:
        qs = qs.filter(registration_status=filters.status)
    return qs.select_related("legal_representative").order_by("-id")


def market_entity_get(*, user: User, uscc: str) -> MarketEntity:
    """Return one visible entity by USCC; a malformed code is a 422 naming its fault."""
    code = uscc_codec.parse(uscc).code
    entity = (
        market_entity_visible(user=user)
        .select_related("legal_representative", "organisation")
        .prefetch_related("tags")
        .filter(uscc=code)
        .first()
    )
    if entity is None:
        raise NotFoundError(
            "entity_not_found",
            _("未找到统一社会信用代码为 %(code)s 的市场主体") % {"code": code},
            {"field": "uscc"},
        )
    return entity


def relationship_list(*, entity: MarketEntity) -> QuerySet[Relationship]:
    """Return an entity's published ties (shareholders, officers) with their parties.

    Guarantees are not registration data: credit reads them under the enterprise's authorisation.
    """
    return (
        entity.relationships.filter(kind__in=REGISTRATION_KINDS)
        .select_related("person", "holder_entity")
        .order_by("kind", "id")
    )


def market_entity_counts(*, user: User) -> dict[str, int]:
    """Return counts of visible entities by type (real figures for dashboards)."""
    from django.db.models import Count

    rows = market_entity_visible(user=user).values("entity_type").annotate(n=Count("id"))
    counts = {row["entity_type"]: row["n"] for row in rows}
    counts["total"] = sum(counts.values())
    return counts


def market_entity_breakdown(*, user: User, by: str) -> list[tuple[str, int]]:
    """Count visible entities grouped by prefecture, size class or industry section."""
    from django.db.models import Count
    from django.db.models.functions import Substr

    qs = market_entity_visible(user=user)
    if by == "prefecture":
        rows = qs.annotate(k=Substr("division_code", 1, 4)).values("k").annotate(n=Count("id"))
        return sorted(((r["k"] + "00", r["n"]) for r in rows), key=lambda kv: kv[0])
    if by == "size_class":
        sizes = qs.values("size_class").annotate(n=Count("id"))
        return sorted(((r["size_class"], r["n"]) for r in sizes), key=lambda kv: -kv[1])
    if by == "industry_section":
        rows = qs.annotate(k=Substr("industry_code", 1, 1)).values("k").annotate(n=Count("id"))
        return sorted(((r["k"], r["n"]) for r in rows), key=lambda kv: -kv[1])
    raise ValueError(by)


def entity_has_owner_login(*, entity: MarketEntity) -> bool:
    """Return True if the entity's platform organisation has an active owner login."""
    if entity.organisation_id is None:
        return False
    return User.objects.filter(
        organisation_id=entity.organisation_id, roles__role=Role.ENTERPRISE_OWNER, is_active=True
    ).exists()
