"""Reads of the product supermarket; each applies the caller's visibility."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts.choices import OrgGroup, OrgKind, Role
from xinrong.accounts.models import User
from xinrong.common.errors import NotFoundError
from xinrong.enterprises.models import MarketEntity
from xinrong.marketplace.choices import (
    ACTIVE_STATUSES,
    PENDING_STATUSES,
    PRODUCT_KINDS,
    DemandStatus,
    ProductStatus,
    ProductType,
    VersionStatus,
)
from xinrong.marketplace.eligibility import EntityFacts, Verdict, entity_facts, evaluate
from xinrong.marketplace.matching import (
    FACTS_TTL,
    HallEntry,
    MatchResult,
    catalogue,
    demand_board,
    rank_demands,
    rank_products,
    region_ranges,
)
from xinrong.marketplace.models import (
    ApplicationEvent,
    Demand,
    Loan,
    LoanApplication,
    Product,
    ProductEvent,
    ProductVersion,
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


def _is_operator(user: User) -> bool:
    return user.is_superuser or (
        user.organisation is not None
        and user.organisation.kind == OrgKind.OPERATOR
        and user.has_role(Role.OPERATOR_ADMIN, Role.AUDITOR)
    )


def product_visible_get(*, user: User, pk: int) -> Product:
    """Return a product the user may manage or review (own institution, or the operator)."""
    qs = Product.objects.select_related("institution", "current_version", "draft_version")
    if not _is_operator(user):
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
    if not _is_operator(user):
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
    """Return a demand the user may read: its entity's users, institutions (open ones), operator."""
    demand = Demand.objects.select_related("entity", "created_by").filter(pk=pk).first()
    if demand is None:
        raise NotFoundError("not_found", _("融资需求不存在"))
    own = (
        user.group == OrgGroup.ENTERPRISE and user.organisation_id == demand.entity.organisation_id
    )
    institution = user.group == OrgGroup.INSTITUTION and demand.status == DemandStatus.OPEN
    if not (own or institution or _is_operator(user)):
        raise NotFoundError("not_found", _("融资需求不存在"))
    return demand


def demand_matches_visible(*, user: User, demand: Demand) -> bool:
    """Return whether the user may see a demand's matches.

    Matches reveal which eligibility conditions (credit and tax grades) the entity meets, which is
    non-public: only its own users and the operator see them, not institutions.
    """
    return demand_is_own(user=user, demand=demand) or _is_operator(user)


def demand_matches(*, demand: Demand, limit: int = 20, with_excluded: bool = False) -> MatchResult:
    """Rank published products for a demand (the caller has checked the demand is visible)."""
    key = f"marketplace:facts:{demand.entity_id}:{timezone.localdate().isoformat()}"
    facts: EntityFacts | None = cache.get(key)
    if facts is None:
        facts = entity_facts(entity_ids=[demand.entity_id]).get(demand.entity_id)
        cache.set(key, facts, FACTS_TTL)
    return rank_products(catalogue(), demand, facts, limit=limit, with_excluded=with_excluded)


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
    demands = Demand.objects.select_related("entity").in_bulk([e.demand_id for e in entries])
    return [(e, demands[e.demand_id]) for e in entries if e.demand_id in demands], total


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
    elif _is_operator(user):
        pass
    elif _is_substation(user):
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


def _is_substation(user: User) -> bool:
    org = user.organisation
    return (
        org is not None
        and org.kind == OrgKind.SUBSTATION
        and bool(org.region_code)
        and user.has_role(Role.OPERATOR_ADMIN, Role.AUDITOR)
    )


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
) -> list[LoanApplication]:
    """Return the user's visible applications changed after a (updated_at, id) position, oldest
    change first, with their loans and timelines (a cursor feed for institutions' systems)."""
    qs = applications_visible(user=user, status=status).select_related("loan")
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
    """Return a loan by its number whose application the user may see, or 404."""
    loan = (
        Loan.objects.select_related("application")
        .filter(number=number, application__in=applications_visible(user=user))
        .first()
    )
    if loan is None:
        raise NotFoundError("not_found", _("贷款不存在"))
    return loan
