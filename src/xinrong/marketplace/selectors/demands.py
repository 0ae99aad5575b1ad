"""Reads of financing demands: the enterprise's demands, matches, the demand hall, 抢单 holds."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts import permissions
from xinrong.accounts.choices import OrgGroup, Role
from xinrong.accounts.models import User
from xinrong.accounts.permissions import (
    is_central_operator_staff,
    is_institution,
    is_operator_staff,
    region_prefix_for,
)
from xinrong.common.errors import ApplicationError, NotFoundError, PermissionDeniedError
from xinrong.common.masking import mask_name, mask_phone
from xinrong.credit.selectors.lists import veto_reason
from xinrong.marketplace.choices import LENDER_KINDS, DemandEventKind, DemandStatus, ProductStatus
from xinrong.marketplace.demand_board import (
    HallEntry,
    demand_board,
    division_in_ranges,
    rank_demands,
    region_ranges,
)
from xinrong.marketplace.eligibility import EntityFacts, entity_facts
from xinrong.marketplace.matching import FACTS_TTL, MatchResult, catalogue, rank_products
from xinrong.marketplace.models import Demand, DemandEvent, Product
from xinrong.marketplace.rules import own_enterprise_user
from xinrong.marketplace.selectors.common import user_entity

# ---------------------------------------------------------------- financing demands


def entity_demands(*, user: User) -> QuerySet[Demand]:
    """Return the demands of the user's own entity, newest first (none for other users)."""
    entity = user_entity(user=user)
    if entity is None:
        return Demand.objects.none()
    return (
        Demand.objects.filter(entity=entity).select_related("entity").order_by("-created_at", "-id")
    )


def demand_is_own(*, user: User, demand: Demand) -> bool:
    """Return whether the user acts for the demand's entity."""
    return bool(own_enterprise_user.test(user, demand))


def demand_visible_get(*, user: User, pk: int) -> Demand:
    """Return a demand the user may read: its entity's users, the operator, and while it is open
    the institution holding it and the lenders whose service regions cover it (as the demand hall
    shows it); anyone else gets 404."""
    demand = Demand.objects.select_related("entity", "created_by", "held_by").filter(pk=pk).first()
    if demand is None:
        raise NotFoundError("not_found", _("融资需求不存在"))
    own = demand_is_own(user=user, demand=demand)
    if not (own or is_central_operator_staff(user) or _institution_sees_demand(user, demand)):
        raise NotFoundError("not_found", _("融资需求不存在"))
    return demand


def _institution_sees_demand(user: User, demand: Demand) -> bool:
    if not is_institution.test(user) or user.organisation_id is None:
        return False
    if demand.status != DemandStatus.OPEN:
        return False
    if demand.held_by_id == user.organisation_id:
        return True
    org = user.organisation
    return (
        org is not None
        and org.kind in LENDER_KINDS
        and institution_covers(institution_id=org.pk, division_code=demand.division_code)
    )


def demand_matches_visible(*, user: User, demand: Demand) -> bool:
    """Return whether the user may see a demand's matches.

    Matches reveal which eligibility conditions (credit and tax grades) the entity meets, which is
    non-public: only its own users and the operator see them, not institutions.
    """
    return demand_is_own(user=user, demand=demand) or is_central_operator_staff(user)


def demand_matches(*, demand: Demand, limit: int = 20, with_excluded: bool = False) -> MatchResult:
    """Rank published products for a demand (the caller has checked the demand is visible)."""
    key = f"marketplace:facts:{demand.entity_id}:{timezone.localdate().isoformat()}"
    facts: EntityFacts | None = cache.get(key)
    if facts is None:
        facts = entity_facts(entity_ids=[demand.entity_id]).get(demand.entity_id)
        cache.set(key, facts, FACTS_TTL)
    held = demand.held_by_id is not None and (
        demand.held_until is None or demand.held_until > timezone.now()
    )
    return rank_products(
        catalogue(),
        demand,
        facts,
        limit=limit,
        with_excluded=with_excluded,
        first_institution=demand.held_by_id if held else None,
        vetoed=veto_reason(demand.entity_id),
    )


def institution_service_regions(*, institution_id: int) -> list[str] | None:
    """Return the union of the institution's published products' regions (None: everywhere)."""
    rows = Product.objects.filter(
        institution_id=institution_id,
        status=ProductStatus.PUBLISHED,
        current_version__isnull=False,
    ).values_list("current_version__regions", flat=True)
    regions: set[str] = set()
    for value in rows:
        if not value:  # a product open everywhere serves everywhere
            return None
        regions.update(value)
    return sorted(regions) or None


def demand_hall(*, user: User, limit: int = 50) -> tuple[list[tuple[HallEntry, Demand]], int]:
    """Return open demands in the institution's service regions, best for it first, and count."""
    if not is_institution.test(user) or user.organisation_id is None:
        return [], 0
    regions = institution_service_regions(institution_id=user.organisation_id)
    amounts = list(
        Product.objects.filter(
            institution_id=user.organisation_id,
            status=ProductStatus.PUBLISHED,
            current_version__isnull=False,
        ).values_list("current_version__amount_min", "current_version__amount_max")
    )
    entries, total = rank_demands(
        demand_board(),
        ranges=None if regions is None else region_ranges(regions),
        amount_ranges=amounts,
        now=timezone.now(),
        limit=limit,
    )
    demands = Demand.objects.select_related("entity", "held_by").in_bulk(
        [e.demand_id for e in entries]
    )
    return [(e, demands[e.demand_id]) for e in entries if e.demand_id in demands], total


# ---------------------------------------------------------------- 抢单 (institutions take demands)

GRAB_ROLES = (Role.INSTITUTION_ADMIN, Role.LOAN_OFFICER)


def grab_refusal(*, user: User) -> ApplicationError | None:
    """Return why the user may not take (抢单) demands at all, or None if its role allows it.

    Only the institution admins and loan officers of a lending institution (bank, microloan
    company) take demands; guarantors, insurers and investors do not lend.
    """
    org = user.organisation
    if user.group != OrgGroup.INSTITUTION or org is None:
        return PermissionDeniedError("forbidden", _("只有金融机构的用户可以承接融资需求"))
    if org.kind not in LENDER_KINDS:
        return PermissionDeniedError(
            "not_lender",
            _("%(k)s不发放贷款，不能承接融资需求；只有银行和小额贷款公司可以抢单")
            % {"k": org.get_kind_display()},
        )
    if not org.is_active:
        return PermissionDeniedError("forbidden", _("本机构已停用，不能承接融资需求"))
    if not user.has_role(*GRAB_ROLES):
        return PermissionDeniedError("forbidden", _("只有机构管理员或客户经理可以承接融资需求"))
    return None


def institution_covers(*, institution_id: int, division_code: str) -> bool:
    """Return whether the institution's service regions (as in the demand hall) cover a place."""
    regions = institution_service_regions(institution_id=institution_id)
    return division_in_ranges(division_code, None if regions is None else region_ranges(regions))


def lenders_covering(*, division_code: str) -> list[int]:
    """Return the active lending institutions whose published products cover a place (the
    institutions that see a demand there in their hall and are told when one is published)."""
    rows = Product.objects.filter(
        status=ProductStatus.PUBLISHED,
        current_version__isnull=False,
        institution__kind__in=sorted(LENDER_KINDS),
        institution__is_active=True,
    ).values_list("institution_id", "current_version__regions")
    regions: dict[int, set[str]] = {}
    everywhere: set[int] = set()
    for institution_id, value in rows:
        if not value:  # a product open everywhere serves everywhere
            everywhere.add(institution_id)
        else:
            regions.setdefault(institution_id, set()).update(value)
    covering = {
        i for i, r in regions.items() if division_in_ranges(division_code, region_ranges(sorted(r)))
    }
    return sorted(everywhere | covering)


def demand_is_held(demand: Demand, *, now: dt.datetime | None = None) -> bool:
    """Return whether an institution holds the demand right now (an ended hold is free)."""
    return (
        demand.held_by_id is not None
        and demand.held_until is not None
        and demand.held_until > (now or timezone.now())
    )


def held_demands(*, user: User) -> QuerySet[Demand]:
    """Return the open demands the user's institution holds now, the nearest deadline first."""
    if not is_institution.test(user) or user.organisation_id is None:
        return Demand.objects.none()
    return (
        Demand.objects.filter(
            held_by_id=user.organisation_id,
            status=DemandStatus.OPEN,
            held_until__gt=timezone.now(),
        )
        .select_related("entity")
        .order_by("held_until", "id")
    )


def escalated_demands(*, user: User) -> QuerySet[Demand]:
    """Return open demands escalated to the operator (a sub-station: its region), oldest first."""
    if not (is_operator_staff(user)):
        return Demand.objects.none()
    qs = Demand.objects.filter(status=DemandStatus.OPEN, escalated_at__isnull=False)
    prefix = region_prefix_for(user)
    if prefix is not None:
        qs = qs.filter(division_code__startswith=prefix)
    return qs.select_related("entity", "held_by").order_by("escalated_at", "id")


def demand_events(*, demand: Demand) -> QuerySet[DemandEvent]:
    """Return a demand's timeline, oldest first."""
    return demand.events.select_related("actor", "organisation").order_by("created_at", "id")


def demand_timeline_visible(*, user: User, demand: Demand) -> bool:
    """Return whether the user sees the timeline: the enterprise, the operator, the holder.

    The timeline names every institution that took or gave up the demand; other institutions
    see only who holds it now.
    """
    return (
        demand_is_own(user=user, demand=demand)
        or is_central_operator_staff(user)
        or (user.organisation_id is not None and user.organisation_id == demand.held_by_id)
    )


@dataclass(frozen=True)
class DemandContact:
    """Whom the institution holding a demand calls: name and phone, masked unless allowed."""

    name: str
    phone: str
    full: bool  # shown in full (the enterprise has authorised the institution)
    source: str  # 需求发布人 / 法定代表人


def demand_contact(*, user: User, demand: Demand) -> DemandContact | None:
    """Return the demand's contact for the holding institution's staff, else None.

    The person who published the demand (their account's phone), else the legal
    representative. Masked (``common.masking``) as everywhere on the platform; in full only when
    the enterprise has a live authorisation for the institution
    (``marketplace.demand_contact_full``)."""
    if not permissions.can(user, "marketplace.demand_contact_view", demand):
        return None
    full = permissions.can(user, "marketplace.demand_contact_full", demand)
    name, phone, source = "", "", ""
    publisher = demand.created_by
    if publisher is not None and publisher.phone:
        name, phone, source = publisher.display_name, publisher.phone, _("需求发布人")
    else:
        rep = demand.entity.legal_representative
        if rep is not None:
            name, phone, source = rep.name, rep.phone, _("法定代表人")
    return DemandContact(
        name=name if full else mask_name(name),
        phone=phone if full else mask_phone(phone),
        full=full,
        source=str(source),
    )


def demand_invitations(*, demand: Demand) -> list[DemandEvent]:
    """Return the demand's invitations to apply, newest first (with the inviting institution)."""
    return list(
        demand.events.filter(kind=DemandEventKind.INVITED)
        .select_related("organisation")
        .order_by("-created_at", "-id")
    )


def invitable_products(*, user: User, demand: Demand) -> list[Product]:
    """Return the user's institution's published loan products (what the holder may invite the
    enterprise to apply for): those the enterprise qualifies for first, then those whose amount
    and term ranges cover the demand."""
    org_id = user.organisation_id
    if org_id is None:
        return []
    rows = list(
        Product.objects.filter(
            institution_id=org_id, status=ProductStatus.PUBLISHED, current_version__isnull=False
        )
        .exclude(current_version__product_type="guarantee")
        .select_related("current_version")
        .order_by("name", "id")
    )

    def fits(p: Product) -> bool:
        v = p.current_version
        return bool(
            v
            and v.amount_min <= demand.amount <= v.amount_max
            and v.term_min_months <= demand.term_months <= v.term_max_months
        )

    # those the enterprise qualifies for first (the reasons stay the enterprise's own)
    from xinrong.marketplace.selectors.products import eligibility_for

    verdicts = eligibility_for(
        entity=demand.entity, versions=[p.current_version for p in rows if p.current_version]
    )

    def rank(p: Product) -> tuple[bool, bool]:
        verdict = verdicts.get(p.current_version_id or 0)
        return (not (verdict is not None and verdict.eligible), not fits(p))

    rows.sort(key=rank)
    return rows
