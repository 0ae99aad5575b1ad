"""Reads of the product supermarket; each applies the caller's visibility."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
import pandas as pd
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts.choices import OrgGroup, OrgKind, Role
from xinrong.accounts.models import Organisation, User
from xinrong.accounts.permissions import (
    is_central_operator_staff,
    is_operator_staff,
    is_substation_staff,
    region_prefix_for,
    region_q,
)
from xinrong.common.errors import ApplicationError, NotFoundError, PermissionDeniedError
from xinrong.credit.features import feature_matrix
from xinrong.credit.models import CreditProfile
from xinrong.credit.scorecard import BANKABLE_GRADE, DEFAULT_BANDS
from xinrong.datahub.selectors import fact_visible
from xinrong.enterprises.choices import RegistrationStatus
from xinrong.enterprises.models import MarketEntity
from xinrong.enterprises.selectors import market_entity_visible
from xinrong.marketplace.choices import (
    ACTIVE_STATUSES,
    FIRST_LOAN_TAG,
    LENDER_KINDS,
    LOCAL_SPECIAL_TAGS,
    PENDING_STATUSES,
    PRODUCT_KINDS,
    RENEWAL_HORIZON_DAYS,
    RENEWAL_TAGS,
    DemandStatus,
    InterestStatus,
    LoanStatus,
    ProductStatus,
    ProductType,
    ReserveStatus,
    VersionStatus,
)
from xinrong.marketplace.eligibility import EntityFacts, Verdict, entity_facts, evaluate
from xinrong.marketplace.matching import (
    FACTS_TTL,
    HallEntry,
    MatchResult,
    catalogue,
    demand_board,
    division_in_ranges,
    rank_demands,
    rank_products,
    region_ranges,
)
from xinrong.marketplace.models import (
    ApplicationEvent,
    Demand,
    DemandEvent,
    DirectFinancingCase,
    InvestorInterest,
    Loan,
    LoanApplication,
    Product,
    ProductEvent,
    ProductVersion,
    ReserveCandidate,
    ReserveEvent,
)
from xinrong.reference import divisions

SORTS = {
    "newest": ("-published_at", "-id"),
    "rate": ("current_version__rate_min", "current_version__rate_max", "id"),
    "amount": ("-current_version__amount_max", "id"),
    "service": ("service_days", "id"),
}
COMPARE_LIMIT = 4


@dataclass(frozen=True)
class ProductFilter:
    """Validated supermarket filters."""

    q: str = ""
    product_type: str = ""
    tag: str = ""
    amount: Decimal | None = None
    term: int | None = None
    max_rate: Decimal | None = None
    region: str = ""
    institution_kind: str = ""
    sort: str = "newest"


def product_filter_parse(data: Mapping[str, object]) -> ProductFilter:
    """Return filters from query parameters, or raise ValidationError naming the field."""

    def text(name: str) -> str:
        value = data.get(name)
        out = str(value).strip() if value is not None else ""
        if "\x00" in out:  # PostgreSQL cannot compare text with NUL: refuse, don't fail
            raise ValidationError(
                {name: _("筛选条件“%(f)s”不能包含空字符") % {"f": name}}, code="invalid"
            )
        return out

    ptype = text("type")
    if ptype and ptype not in ProductType.values:
        raise ValidationError(
            {
                "type": _("产品类型“%(v)s”无效，可选：%(a)s")
                % {"v": ptype, "a": "、".join(ProductType.values)}
            },
            code="invalid_choice",
        )
    amount: Decimal | None = None
    if text("amount"):
        try:
            amount = Decimal(text("amount"))
        except InvalidOperation:
            amount = None
        if amount is None or not amount.is_finite() or amount <= 0:
            raise ValidationError({"amount": _("融资金额应为大于 0 的数字（元）")}, code="invalid")
    term: int | None = None
    if text("term"):
        try:
            term = int(text("term"))
        except ValueError:
            term = -1
        if not 1 <= term <= 360:
            raise ValidationError({"term": _("期限应为 1–360 之间的整数（月）")}, code="invalid")
    max_rate: Decimal | None = None
    if text("max_rate"):
        try:
            max_rate = Decimal(text("max_rate"))
        except InvalidOperation:
            max_rate = None
        if max_rate is None or not max_rate.is_finite() or not 0 <= max_rate <= 36:
            raise ValidationError(
                {"max_rate": _("最高年利率应为 0–36 之间的数字（%）")}, code="invalid"
            )
    region = text("region")
    if region:
        division = divisions.get(region)
        if division is None:
            raise ValidationError({"region": _("行政区划代码“%(c)s”不存在") % {"c": region}})
        region = division.code
    kind = text("institution_kind")
    if kind and kind not in PRODUCT_KINDS:
        raise ValidationError(
            {
                "institution_kind": _("机构类型“%(v)s”无效，可选：%(a)s")
                % {"v": kind, "a": "、".join(sorted(PRODUCT_KINDS))}
            },
            code="invalid_choice",
        )
    sort = text("sort") or "newest"
    if sort not in SORTS:
        raise ValidationError(
            {"sort": _("排序方式“%(v)s”无效，可选：%(a)s") % {"v": sort, "a": "、".join(SORTS)}},
            code="invalid_choice",
        )
    return ProductFilter(
        q=text("q")[:100],
        product_type=ptype,
        tag=text("tag")[:20].replace("|", ""),
        amount=amount,
        term=term,
        max_rate=max_rate,
        region=region,
        institution_kind=kind,
        sort=sort,
    )


def _published() -> QuerySet[Product]:
    return Product.objects.filter(
        status=ProductStatus.PUBLISHED, current_version__isnull=False
    ).select_related("institution", "current_version")


def product_search(*, filters: ProductFilter) -> QuerySet[Product]:
    """Return published products matching the filters, sorted (visible to everyone)."""
    qs = _published()
    f = filters
    if f.q:
        qs = qs.filter(
            Q(name__icontains=f.q)
            | Q(institution__name__icontains=f.q)
            | Q(current_version__tag_index__icontains=f.q)
            | Q(code__iexact=f.q)
        )
    if f.product_type:
        qs = qs.filter(current_version__product_type=f.product_type)
    if f.tag:
        qs = qs.filter(current_version__tag_index__contains=f"|{f.tag}|")
    if f.amount is not None:
        qs = qs.filter(
            current_version__amount_min__lte=f.amount, current_version__amount_max__gte=f.amount
        )
    if f.term is not None:
        qs = qs.filter(
            current_version__term_min_months__lte=f.term,
            current_version__term_max_months__gte=f.term,
        )
    if f.max_rate is not None:
        qs = qs.filter(current_version__rate_min__lte=f.max_rate)
    if f.region:
        prefixes = {f.region[:n] for n in (2, 4, 6)} | {divisions.descendants_prefix(f.region)}
        available = Q(current_version__region_index="")
        for prefix in prefixes:
            available |= Q(current_version__region_index__contains=f"|{prefix}|")
        qs = qs.filter(available)
    if f.institution_kind:
        qs = qs.filter(institution__kind=f.institution_kind)
    if f.sort == "service":
        qs = qs.annotate(
            service_days=F("current_version__days_to_accept") + F("current_version__days_to_decide")
        )
    return qs.order_by(*SORTS[f.sort])


def product_published_get(*, code: str) -> Product:
    """Return one published product by code, or raise NotFoundError."""
    product = _published().filter(code=code).first() if "\x00" not in code else None
    if product is None:
        raise NotFoundError("not_found", _("产品“%(c)s”不存在或未上架") % {"c": code})
    return product


def products_compare(*, ids: Iterable[int]) -> list[Product]:
    """Return up to four published products in the order asked; more is an error."""
    wanted = list(dict.fromkeys(ids))
    if len(wanted) > COMPARE_LIMIT:
        raise ValidationError(
            {
                "ids": _("最多只能同时对比 %(n)s 个产品，您选择了 %(k)s 个，请减少后再试")
                % {"n": COMPARE_LIMIT, "k": len(wanted)}
            },
            code="too_many",
        )
    found = {p.pk: p for p in _published().filter(pk__in=wanted)}
    return [found[i] for i in wanted if i in found]


def product_visible_get(*, user: User, pk: int) -> Product:
    """Return a product the user may manage or review (own institution, or the operator)."""
    qs = Product.objects.select_related("institution", "current_version", "draft_version")
    if not is_central_operator_staff(user):
        if user.group != OrgGroup.INSTITUTION:
            raise NotFoundError("not_found", _("产品不存在"))
        qs = qs.filter(institution_id=user.organisation_id)
    product = qs.filter(pk=pk).first()
    if product is None:
        raise NotFoundError("not_found", _("产品不存在"))
    return product


def institution_products(*, user: User) -> QuerySet[Product]:
    """Return the products of the user's institution (all statuses)."""
    if user.group != OrgGroup.INSTITUTION:
        return Product.objects.none()
    return (
        Product.objects.filter(institution_id=user.organisation_id)
        .select_related("current_version", "draft_version")
        .order_by("-updated_at", "-id")
    )


def review_queue(*, user: User) -> QuerySet[Product]:
    """Return products with a version awaiting the operator's review (oldest first)."""
    if not is_central_operator_staff(user):
        return Product.objects.none()
    return (
        Product.objects.filter(draft_version__status=VersionStatus.IN_REVIEW)
        .select_related("institution", "draft_version", "current_version")
        .order_by("draft_version__submitted_at", "id")
    )


def product_events(*, product: Product) -> QuerySet[ProductEvent]:
    """Return a product's timeline."""
    return product.events.select_related("actor", "version").order_by("created_at", "id")


def product_versions(*, product: Product) -> QuerySet[ProductVersion]:
    """Return every version of a product, newest first."""
    return product.versions.order_by("-number")


def user_entity(*, user: User) -> MarketEntity | None:
    """Return the market entity an enterprise user acts for, if any."""
    if user.group != OrgGroup.ENTERPRISE or user.organisation_id is None:
        return None
    return MarketEntity.objects.filter(organisation_id=user.organisation_id).first()


def eligibility_for(
    *, entity: MarketEntity, versions: Iterable[ProductVersion]
) -> dict[int, Verdict]:
    """Return the verdict of one entity for each version, loading the entity's facts once."""
    facts: EntityFacts | None = entity_facts(entity_ids=[entity.pk]).get(entity.pk)
    if facts is None:
        return {}
    return {v.pk: evaluate(v, facts) for v in versions}


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
    return (
        user.group == OrgGroup.ENTERPRISE
        and user.organisation_id is not None
        and user.organisation_id == demand.entity.organisation_id
    )


def demand_visible_get(*, user: User, pk: int) -> Demand:
    """Return a demand the user may read: its entity's users, the operator, and while it is open
    the institution holding it and the lenders whose service regions cover it (as the demand hall
    shows it); anyone else gets 404."""
    demand = Demand.objects.select_related("entity", "created_by", "held_by").filter(pk=pk).first()
    if demand is None:
        raise NotFoundError("not_found", _("融资需求不存在"))
    own = (
        user.group == OrgGroup.ENTERPRISE and user.organisation_id == demand.entity.organisation_id
    )
    if not (own or is_central_operator_staff(user) or _institution_sees_demand(user, demand)):
        raise NotFoundError("not_found", _("融资需求不存在"))
    return demand


def _institution_sees_demand(user: User, demand: Demand) -> bool:
    if user.group != OrgGroup.INSTITUTION or user.organisation_id is None:
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
    )


def products_by_id(*, ids: Iterable[int]) -> dict[int, Product]:
    """Return published products by id (one query) for rendering matches."""
    return {p.pk: p for p in _published().filter(pk__in=list(ids))}


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
    if user.group != OrgGroup.INSTITUTION or user.organisation_id is None:
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


def demand_is_held(demand: Demand, *, now: dt.datetime | None = None) -> bool:
    """Return whether an institution holds the demand right now (an ended hold is free)."""
    return (
        demand.held_by_id is not None
        and demand.held_until is not None
        and demand.held_until > (now or timezone.now())
    )


def held_demands(*, user: User) -> QuerySet[Demand]:
    """Return the open demands the user's institution holds now, the nearest deadline first."""
    if user.group != OrgGroup.INSTITUTION or user.organisation_id is None:
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


# ---------------------------------------------------------------- loan applications


def applications_visible(
    *, user: User, status: str | None = None, late_only: bool = False
) -> QuerySet[LoanApplication]:
    """Return the applications the user may see: its entity's, its institution's, or (operator)
    all of them; a regional sub-station sees its region's. Newest first."""
    qs = LoanApplication.objects.select_related(
        "entity", "product", "institution", "product_version"
    )
    if user.group == OrgGroup.ENTERPRISE:
        entity = user_entity(user=user)
        qs = qs.filter(entity=entity) if entity is not None else qs.none()
    elif user.group == OrgGroup.INSTITUTION:
        qs = qs.filter(institution_id=user.organisation_id)
    elif is_central_operator_staff(user):
        pass
    elif is_substation_staff(user):
        assert user.organisation is not None
        prefix = divisions.descendants_prefix(user.organisation.region_code)
        qs = qs.filter(entity__division_code__startswith=prefix)
    else:
        qs = qs.none()
    if status:
        qs = qs.filter(status=status)
    if late_only:
        qs = qs.filter(status__in=PENDING_STATUSES, sla_due_at__lt=timezone.now())
    return qs.order_by("-submitted_at", "-id")


def application_visible_get(*, user: User, pk: int) -> LoanApplication:
    """Return one application the user may see, or 404 (never reveal others' applications)."""
    app = applications_visible(user=user).filter(pk=pk).first()
    if app is None:
        raise NotFoundError("not_found", _("贷款申请不存在"))
    return app


def application_by_number(*, user: User, number: str) -> LoanApplication:
    """Return one visible application by its number, or 404."""
    app = applications_visible(user=user).filter(number=number).first()
    if app is None:
        raise NotFoundError("not_found", _("贷款申请不存在"))
    return app


def application_events(*, application: LoanApplication) -> QuerySet[ApplicationEvent]:
    """Return an application's timeline, oldest first."""
    return application.events.select_related("actor", "organisation").order_by("created_at", "id")


def application_status_counts(*, user: User) -> dict[str, int]:
    """Return how many visible applications are in each status (one grouped query)."""
    rows = (
        applications_visible(user=user)
        .order_by()
        .values("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return dict(rows)


@dataclass
class _ReferralTerms:
    amount: Decimal
    term_months: int
    max_rate: Decimal
    collateral_modes: list[str]


def referral_candidates(*, application: LoanApplication, limit: int = 5) -> list[Product]:
    """Return other institutions' products that fit a rejected application, best first."""
    demand = application.demand
    terms = _referral_terms(application, demand)
    facts = entity_facts(entity_ids=[application.entity_id]).get(application.entity_id)
    result = rank_products(catalogue(), terms, facts, limit=limit + 20)
    taken = set(
        LoanApplication.objects.filter(
            entity_id=application.entity_id, status__in=ACTIVE_STATUSES
        ).values_list("product_id", flat=True)
    )
    ids = [
        m.product_id
        for m in result.matches
        if m.institution_id != application.institution_id and m.product_id not in taken
    ][:limit]
    found = products_by_id(ids=ids)
    return [found[i] for i in ids if i in found]


def _referral_terms(application: LoanApplication, demand: Demand | None) -> _ReferralTerms:
    return _ReferralTerms(
        amount=application.amount,
        term_months=application.term_months,
        max_rate=demand.max_rate if demand is not None else Decimal("36"),
        collateral_modes=list(demand.collateral_modes) if demand is not None else [],
    )


def loan_of(*, application: LoanApplication) -> Loan | None:
    """Return the application's loan, if disbursed."""
    return Loan.objects.filter(application=application).first()


def loan_visible_get(*, user: User, pk: int) -> Loan:
    """Return a loan whose application the user may see, or 404."""
    loan = (
        Loan.objects.select_related("application")
        .filter(pk=pk, application__in=applications_visible(user=user))
        .first()
    )
    if loan is None:
        raise NotFoundError("not_found", _("贷款不存在"))
    return loan


def applications_changed(
    *,
    user: User,
    after: tuple[dt.datetime, int] | None = None,
    status: str | None = None,
    limit: int = 20,
    changed_before: dt.datetime | None = None,
) -> list[LoanApplication]:
    """Return the user's visible applications changed after a (updated_at, id) position (and,
    if given, before ``changed_before``), oldest change first, with their loans and timelines (a
    cursor feed for institutions' systems)."""
    qs = applications_visible(user=user, status=status).select_related("loan")
    if changed_before is not None:
        qs = qs.filter(updated_at__lt=changed_before)
    if after is not None:
        moment, pk = after
        qs = qs.filter(Q(updated_at__gt=moment) | Q(updated_at=moment, pk__gt=pk))
    timeline = ApplicationEvent.objects.select_related("organisation").order_by("created_at", "id")
    return list(
        qs.prefetch_related(Prefetch("events", queryset=timeline)).order_by("updated_at", "id")[
            :limit
        ]
    )


def loan_by_number(*, user: User, number: str) -> Loan:
    """Return a loan the user may see by the platform's number or, for its own institution, by
    the institution's own 借据号 (bank loan number), or 404."""
    own_no = Q(bank_loan_no=number, institution_id=user.organisation_id) if number else Q()
    loan = (
        Loan.objects.select_related("application")
        .filter(Q(number=number) | own_no, application__in=applications_visible(user=user))
        # the platform's number wins if a 借据号 happens to equal another loan's number
        .order_by(Case(When(number=number, then=Value(0)), default=Value(1)), "pk")
        .first()
    )
    if loan is None:
        raise NotFoundError("not_found", _("贷款不存在"))
    return loan


# ================================================================ columns (issue 5)
# 首贷中心, 续贷中心, 小额贷款公司, 地方特色产品 and the 上市挂牌后备库 (capital-market reserve).
# Credit grades are non-public: only the operator (a sub-station for its region) sees or filters by
# them; institutions and investors see registry information only.

GRADE_NAMES = tuple(g for g, _floor in DEFAULT_BANDS)  # best first
FIRST_LOAN_RECENT_DAYS = 365  # "recently scored": a profile computed within a year
FIRST_LOAN_MAX_YEARS = Decimal("1")  # low entry: at most one year in business required
RENEWAL_OPTIONS = 6  # products offered per maturing loan


def sees_grades(user: User) -> bool:
    """Return whether the user may see credit grades of any entity (the operator's side)."""
    return is_central_operator_staff(user) or is_substation_staff(user)


def _grades_from(grade: str) -> list[str]:
    """Return the grade names at least as good as ``grade``."""
    return list(GRADE_NAMES[: GRADE_NAMES.index(grade) + 1])


def _grade_param(data: Mapping[str, object], name: str, *, default: str = "") -> str:
    raw = str(data.get(name) or default).strip().upper()
    if raw and raw not in GRADE_NAMES:
        raise ValidationError(
            {name: _("信用等级“%(v)s”无效，可选：%(a)s") % {"v": raw, "a": "、".join(GRADE_NAMES)}},
            code="invalid_choice",
        )
    return raw


def _region_param(data: Mapping[str, object], name: str = "region") -> str:
    raw = str(data.get(name) or "").strip()
    if not raw:
        return ""
    division = divisions.get(raw) if "\x00" not in raw else None
    if division is None:
        raise ValidationError({name: _("行政区划代码“%(c)s”不存在") % {"c": raw[:12]}})
    return division.code


def is_lender_side(user: User) -> bool:
    """Return whether the user works for an institution that offers products (lender/guarantor)."""
    org = user.organisation
    return user.group == OrgGroup.INSTITUTION and org is not None and org.kind in PRODUCT_KINDS


# ---------------------------------------------------------------- 首贷中心 first-loan centre


@dataclass(frozen=True)
class FirstLoanOption:
    """A product suited to a first loan, why it is suited and the entity's verdict."""

    product: Product
    tagged: bool  # tagged 首贷 (else: a credit product with low entry conditions)
    verdict: Verdict | None


@dataclass(frozen=True)
class FirstLoanOffer:
    """What the first-loan centre shows an enterprise."""

    entity: MarketEntity
    has_loan: bool
    options: list[FirstLoanOption]


def entity_has_loans(*, entity: MarketEntity) -> bool:
    """Return whether the entity has ever had a loan on the platform."""
    return Loan.objects.filter(entity=entity).exists()


def first_loan_products() -> QuerySet[Product]:
    """Return published products suited to a first loan: tagged 首贷, or credit loans with low
    entry conditions (no collateral needed, at most one year in business, no grade above BBB)."""
    low_grades = ["", *GRADE_NAMES[GRADE_NAMES.index(BANKABLE_GRADE) :]]
    tagged = Q(current_version__tag_index__contains=f"|{FIRST_LOAN_TAG}|")
    low_entry = Q(
        current_version__product_type=ProductType.CREDIT,
        current_version__min_years_in_business__lte=FIRST_LOAN_MAX_YEARS,
        current_version__min_credit_grade__in=low_grades,
    )
    return _published().filter(tagged | low_entry).order_by("-published_at", "-id")


def first_loan_offer(*, user: User, limit: int = 50) -> FirstLoanOffer | None:
    """Return the enterprise's first-loan offer (None if the user acts for no entity): products
    suited to a first loan with its verdict on each, those it qualifies for first."""
    entity = user_entity(user=user)
    if entity is None:
        return None
    products = list(first_loan_products()[:limit])
    verdicts = eligibility_for(
        entity=entity, versions=[p.current_version for p in products if p.current_version]
    )
    options = [
        FirstLoanOption(
            product=p,
            tagged=FIRST_LOAN_TAG in (p.current_version.tags if p.current_version else []),
            verdict=verdicts.get(p.current_version_id or 0),
        )
        for p in products
    ]
    options.sort(key=lambda o: (not (o.verdict and o.verdict.eligible), not o.tagged))
    return FirstLoanOffer(entity=entity, has_loan=entity_has_loans(entity=entity), options=options)


@dataclass(frozen=True)
class FirstLoanFilter:
    """Validated filters of the first-loan entity list."""

    region: str = ""
    grade: str = ""  # at least this grade (operator only)


def first_loan_filter_parse(data: Mapping[str, object]) -> FirstLoanFilter:
    """Return the filters from query parameters, or raise ValidationError naming the field."""
    return FirstLoanFilter(region=_region_param(data), grade=_grade_param(data, "grade"))


def first_loan_entities(*, user: User, filters: FirstLoanFilter) -> QuerySet[MarketEntity]:
    """Return live entities with no loan on the platform (NOT EXISTS loan) that published an open
    demand (the operator: or have a recent credit score), most open demands first.

    Institutions get registry columns and their open demands; only the operator's side gets
    the latest grade (annotated as ``grade``) and may filter by it.
    """
    operator = sees_grades(user)
    if not (operator or is_lender_side(user)):
        raise PermissionDeniedError(
            "forbidden", _("首贷中心的企业名单仅对金融机构和平台运营方开放")
        )
    if filters.grade and not operator:
        raise PermissionDeniedError(
            "forbidden", _("信用等级属于非公开信息，只有平台运营方可以按信用等级筛选")
        )
    open_demands = Demand.objects.filter(entity=OuterRef("pk"), status=DemandStatus.OPEN)
    recent = timezone.now() - timedelta(days=FIRST_LOAN_RECENT_DAYS)
    latest = CreditProfile.objects.filter(entity=OuterRef("pk"), is_latest=True)
    qs = (
        market_entity_visible(user=user)
        .filter(registration_status=RegistrationStatus.ACTIVE)
        .filter(~Exists(Loan.objects.filter(entity=OuterRef("pk"))))
        # Institutions see only entities that asked for financing themselves (an open demand);
        # a recent score alone is the platform's data, not the entity's request.
        .filter(
            Exists(open_demands) | Exists(latest.filter(computed_at__gte=recent))
            if operator
            else Exists(open_demands)
        )
        .annotate(
            open_demands=Coalesce(
                Subquery(
                    open_demands.order_by()
                    .values("entity")
                    .annotate(n=Count("id"))
                    .values("n")[:1],
                    output_field=IntegerField(),
                ),
                0,
            )
        )
    )
    if filters.region:
        qs = qs.filter(division_code__startswith=divisions.descendants_prefix(filters.region))
    if operator:
        qs = qs.annotate(grade=Subquery(latest.order_by("-computed_at").values("grade")[:1]))
        if filters.grade:
            qs = qs.filter(grade__in=_grades_from(filters.grade))
    return qs.prefetch_related(
        Prefetch(
            "demands",
            queryset=Demand.objects.filter(status=DemandStatus.OPEN).order_by("-created_at"),
            to_attr="open_demand_list",
        )
    ).order_by("-open_demands", "-id")


# ---------------------------------------------------------------- 续贷中心 renewal centre


@dataclass(frozen=True)
class RenewalOption:
    """A product an enterprise may apply to for renewing one loan."""

    product: Product
    same_institution: bool
    without_principal: bool  # offers 无还本续贷
    verdict: Verdict | None


def renewal_due_loans(
    *, user: User, days: int = RENEWAL_HORIZON_DAYS, today: date | None = None
) -> QuerySet[Loan]:
    """Return the visible live loans (current or overdue) maturing within ``days``, soonest first:
    the enterprise's own, the institution's, or (operator) all; each with ``renewals`` pending."""
    day = today or timezone.localdate()
    visible = applications_visible(user=user).order_by().values("pk")
    return (
        Loan.objects.filter(
            application__in=visible,
            status__in=(LoanStatus.CURRENT, LoanStatus.OVERDUE),
            maturity_on__gte=day,
            maturity_on__lte=day + timedelta(days=days),
        )
        .select_related("entity", "institution", "application__product")
        .annotate(
            renewals=Count(
                "renewal_applications",
                filter=Q(renewal_applications__status__in=ACTIVE_STATUSES),
            )
        )
        .order_by("maturity_on", "id")
    )


def renewal_options(
    *, entity: MarketEntity, loans: Iterable[Loan], limit: int = RENEWAL_OPTIONS
) -> dict[int, list[RenewalOption]]:
    """Return, per loan, the lending institution's 续贷/无还本续贷 products to renew it with
    (a renewal is made with the original lender), those the entity qualifies for first (one
    product query, one facts load)."""
    wanted = Q()
    for tag in RENEWAL_TAGS:
        wanted |= Q(current_version__tag_index__contains=f"|{tag}|")
    products = list(_published().filter(wanted).order_by("-published_at", "-id"))
    verdicts = eligibility_for(
        entity=entity, versions=[p.current_version for p in products if p.current_version]
    )
    out: dict[int, list[RenewalOption]] = {}
    for loan in loans:
        options = [
            RenewalOption(
                product=p,
                same_institution=p.institution_id == loan.institution_id,
                without_principal="无还本续贷"
                in (p.current_version.tags if p.current_version else []),
                verdict=verdicts.get(p.current_version_id or 0),
            )
            for p in products
            if p.institution_id == loan.institution_id
        ]
        options.sort(key=lambda o: not (o.verdict and o.verdict.eligible))
        out[loan.pk] = options[:limit]
    return out


# ---------------------------------------------------------------- 小额贷款公司, 地方特色产品


def microloan_products() -> QuerySet[Product]:
    """Return published products of microloan companies, newest first (visible to everyone)."""
    return product_search(filters=ProductFilter(institution_kind=OrgKind.MICROLOAN))


def microloan_companies() -> QuerySet[Organisation]:
    """Return active microloan companies with their number of published products."""
    return (
        Organisation.objects.filter(kind=OrgKind.MICROLOAN, is_active=True)
        .annotate(published=Count("products", filter=Q(products__status=ProductStatus.PUBLISHED)))
        .order_by("-published", "name", "id")
    )


def local_specials() -> list[tuple[str, list[Product]]]:
    """Return published local special products grouped by tag, in LOCAL_SPECIAL_TAGS order
    (one query; a product with two special tags shows under both)."""
    wanted = Q()
    for tag in LOCAL_SPECIAL_TAGS:
        wanted |= Q(current_version__tag_index__contains=f"|{tag}|")
    products = list(_published().filter(wanted).order_by("-published_at", "-id"))
    return [
        (tag, [p for p in products if p.current_version and tag in p.current_version.tags])
        for tag in LOCAL_SPECIAL_TAGS
    ]


# ---------------------------------------------------------------- 上市挂牌后备库 reserve database


def is_investor(user: User) -> bool:
    """Return whether the user works for an investor (angel/PE/VC, regional equity exchange)."""
    org = user.organisation
    return org is not None and org.kind == OrgKind.INVESTOR and org.is_active


def reserve_side(user: User) -> str:
    """Return how the user uses the reserve: "operator", "investor", "enterprise" or ""."""
    if sees_grades(user):
        return "operator"
    if is_investor(user):
        return "investor"
    if user_entity(user=user) is not None:
        return "enterprise"
    return ""


@dataclass(frozen=True)
class ReserveCriteria:
    """The operator's screening criteria (each empty one is not applied)."""

    min_grade: str = "A"
    honour: str = ""  # e.g. 专精特新: an honour fact or a registry tag containing it
    min_tax_paid_wan: Decimal | None = None  # 近12个月纳税额 (万元)
    min_years: Decimal | None = None
    region: str = ""
    include_reserved: bool = False

    def as_dict(self) -> dict[str, Any]:
        """Return the criteria as JSON-ready values (the reserve entry's snapshot)."""
        return {
            "min_grade": self.min_grade,
            "honour": self.honour,
            "min_tax_paid_wan": str(self.min_tax_paid_wan)
            if self.min_tax_paid_wan is not None
            else "",
            "min_years": str(self.min_years) if self.min_years is not None else "",
            "region": self.region,
        }


def _decimal_param(data: Mapping[str, object], name: str, label: str, top: int) -> Decimal | None:
    raw = str(data.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = Decimal("-1")
    if not value.is_finite() or not 0 <= value <= top:
        raise ValidationError(
            {name: _("%(l)s应为 0–%(t)s 之间的数字") % {"l": label, "t": top}}, code="invalid"
        )
    return value


def reserve_criteria_parse(data: Mapping[str, object]) -> ReserveCriteria:
    """Return screening criteria from parameters, or raise ValidationError naming the field."""
    honour = str(data.get("honour") or "").strip()
    if len(honour) > 40 or "\x00" in honour:
        raise ValidationError({"honour": _("荣誉/资质关键词不超过 40 字")}, code="invalid")
    return ReserveCriteria(
        min_grade=_grade_param(data, "min_grade"),
        honour=honour,
        min_tax_paid_wan=_decimal_param(
            data, "min_tax_paid_wan", _("近12个月纳税额（万元）"), 10_000_000
        ),
        min_years=_decimal_param(data, "min_years", _("经营年限（年）"), 200),
        region=_region_param(data),
        include_reserved=str(data.get("include_reserved") or "") in ("1", "on", "true"),
    )


@dataclass(frozen=True)
class ReserveMetrics:
    """An entity's screening indicators (non-public: the operator's eyes only)."""

    score: int | None
    grade: str
    years_in_business: float | None
    tax_paid_wan: float | None
    honours: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "grade": self.grade,
            "years_in_business": None
            if self.years_in_business is None
            else round(self.years_in_business, 1),
            "tax_paid_wan": None if self.tax_paid_wan is None else round(self.tax_paid_wan, 2),
            "honours": self.honours,
        }


def _nan_none(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def reserve_metrics(*, entity_ids: Iterable[int]) -> dict[int, ReserveMetrics]:
    """Return screening indicators of many entities from their latest profile and one
    column-wise feature matrix."""
    ids = sorted(set(entity_ids))
    if not ids:
        return {}
    profiles = {
        eid: (score, grade)
        for eid, score, grade in CreditProfile.objects.filter(
            entity_id__in=ids, is_latest=True
        ).values_list("entity_id", "score", "grade")
    }
    matrix = feature_matrix(entity_ids=ids)
    out: dict[int, ReserveMetrics] = {}
    for eid in ids:
        score, grade = profiles.get(eid, (None, ""))
        row = matrix.loc[eid] if eid in matrix.index else None
        out[eid] = ReserveMetrics(
            score=score,
            grade=grade,
            years_in_business=None if row is None else _nan_none(row["years_in_business"]),
            tax_paid_wan=None if row is None else _nan_none(row["tax_paid_12m"]),
            honours=0 if row is None or np.isnan(row["honours"]) else int(row["honours"]),
        )
    return out


@dataclass(frozen=True)
class ScreenRow:
    """One entity the screen found."""

    entity: MarketEntity
    metrics: ReserveMetrics
    in_reserve: bool


def reserve_screen(
    *, user: User, criteria: ReserveCriteria, limit: int = 200
) -> tuple[list[ScreenRow], int]:
    """Screen all live entities for the reserve, best score first, and count the matches.

    Grade, region, honour and "already in the reserve" narrow the entities in SQL; the numeric
    thresholds (years in business, tax paid in 12 months) are applied column-wise on the feature
    matrix of the remaining entities.
    """
    if not sees_grades(user):
        raise PermissionDeniedError("forbidden", _("只有平台运营方可以筛选上市挂牌后备企业"))
    profiles = CreditProfile.objects.filter(
        is_latest=True, entity__registration_status=RegistrationStatus.ACTIVE
    )
    if criteria.min_grade:
        profiles = profiles.filter(grade__in=_grades_from(criteria.min_grade))
    profiles = profiles.filter(region_q(user, "entity__division_code"))  # a sub-station: its region
    if criteria.region:
        wanted = divisions.descendants_prefix(criteria.region)
        profiles = profiles.filter(entity__division_code__startswith=wanted)
    if criteria.honour:
        honour_fact = fact_visible().filter(
            entity_id=OuterRef("entity_id"), category="honour", status__contains=criteria.honour
        )
        tagged = MarketEntity.tags.through.objects.filter(
            marketentity_id=OuterRef("entity_id"), tag__name__contains=criteria.honour
        )
        profiles = profiles.filter(Exists(honour_fact) | Exists(tagged))
    if not criteria.include_reserved:
        profiles = profiles.exclude(
            Exists(ReserveCandidate.objects.filter(entity_id=OuterRef("entity_id")))
        )
    rows = list(profiles.values_list("entity_id", "score"))
    if not rows:
        return [], 0
    ids = np.fromiter((r[0] for r in rows), np.int64, len(rows))
    frame = pd.DataFrame({"score": [r[1] for r in rows]}, index=ids)
    if criteria.min_years is not None or criteria.min_tax_paid_wan is not None:
        matrix = feature_matrix(entity_ids=ids.tolist())
        frame = frame.join(matrix[["years_in_business", "tax_paid_12m"]])
        keep = np.ones(len(frame), dtype=bool)
        if criteria.min_years is not None:  # NaN (unknown) compares False: not selected
            keep &= frame["years_in_business"].to_numpy() >= float(criteria.min_years)
        if criteria.min_tax_paid_wan is not None:
            keep &= frame["tax_paid_12m"].to_numpy() >= float(criteria.min_tax_paid_wan)
        frame = frame[keep]
    frame = frame.sort_values("score", ascending=False, kind="stable")
    top = [int(i) for i in frame.index[:limit]]
    entities = MarketEntity.objects.in_bulk(top)
    metrics = reserve_metrics(entity_ids=top)
    reserved = set(
        ReserveCandidate.objects.filter(entity_id__in=top).values_list("entity_id", flat=True)
    )
    return [
        ScreenRow(entity=entities[i], metrics=metrics[i], in_reserve=i in reserved)
        for i in top
        if i in entities
    ], len(frame)


def reserve_visible(*, user: User, status: str = "") -> QuerySet[ReserveCandidate]:
    """Return the reserve entries the user may see: all (operator; a sub-station its region),
    the active ones (investors), the entity's own (enterprise); newest first."""
    qs = ReserveCandidate.objects.select_related("entity", "added_by")
    side = reserve_side(user)
    if side == "operator":
        if is_substation_staff(user) and not is_central_operator_staff(user):
            assert user.organisation is not None
            prefix = divisions.descendants_prefix(user.organisation.region_code)
            qs = qs.filter(entity__division_code__startswith=prefix)
    elif side == "investor":
        qs = qs.filter(status=ReserveStatus.ACTIVE)
    elif side == "enterprise":
        qs = qs.filter(entity=user_entity(user=user))
    else:
        qs = qs.none()
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


def reserve_get(*, user: User, pk: int) -> ReserveCandidate:
    """Return one visible reserve entry, or 404."""
    entry = reserve_visible(user=user).filter(pk=pk).first()
    if entry is None:
        raise NotFoundError("not_found", _("后备库企业不存在"))
    return entry


def reserve_own(*, user: User) -> ReserveCandidate | None:
    """Return the reserve entry of the enterprise user's own entity, if it is in the reserve."""
    entity = user_entity(user=user)
    if entity is None:
        return None
    return ReserveCandidate.objects.filter(entity=entity).select_related("entity").first()


def reserve_interests(*, user: User, candidate: ReserveCandidate) -> QuerySet[InvestorInterest]:
    """Return the interests in an entry the user may see: all of them for the enterprise and the
    operator, an investor's own otherwise."""
    qs = candidate.interests.select_related("investor", "created_by", "responded_by")
    side = reserve_side(user)
    if side == "investor":
        qs = qs.filter(investor_id=user.organisation_id)
    elif side == "enterprise":
        if user_entity(user=user) != candidate.entity:
            qs = qs.none()
    elif side != "operator":
        qs = qs.none()
    return qs.order_by("-created_at", "-id")


def investor_interests(*, user: User) -> QuerySet[InvestorInterest]:
    """Return the interests the investor's organisation has expressed, newest first."""
    if not is_investor(user):
        return InvestorInterest.objects.none()
    return (
        InvestorInterest.objects.filter(investor_id=user.organisation_id)
        .select_related("candidate__entity")
        .order_by("-created_at", "-id")
    )


def reserve_events(*, user: User, candidate: ReserveCandidate) -> QuerySet[ReserveEvent]:
    """Return an entry's timeline for the operator and the enterprise (not for investors)."""
    side = reserve_side(user)
    own = side == "enterprise" and user_entity(user=user) == candidate.entity
    if not (side == "operator" or own):
        return ReserveEvent.objects.none()
    return candidate.events.select_related("actor", "organisation").order_by("created_at", "id")


def financing_cases() -> QuerySet[DirectFinancingCase]:
    """Return the direct-financing cases, latest first (a public showcase)."""
    return DirectFinancingCase.objects.select_related("entity", "investor").order_by(
        "-occurred_on", "-id"
    )


def investor_organisations() -> QuerySet[Organisation]:
    """Return the active investor organisations (for recording cases)."""
    return Organisation.objects.filter(kind=OrgKind.INVESTOR, is_active=True).order_by("name")


def interest_pending_count(*, candidate: ReserveCandidate) -> int:
    """Return how many interests in the entry wait for the enterprise's answer."""
    return candidate.interests.filter(status=InterestStatus.PENDING).count()
