"""Reads of the product supermarket: search, comparison, own products, review."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.utils.translation import gettext as _

from xinrong.accounts.models import User
from xinrong.accounts.permissions import is_central_operator_staff, is_institution
from xinrong.common.errors import NotFoundError
from xinrong.enterprises.models import MarketEntity
from xinrong.marketplace.choices import PRODUCT_KINDS, ProductType, VersionStatus
from xinrong.marketplace.eligibility import EntityFacts, Verdict, entity_facts, evaluate
from xinrong.marketplace.models import Product, ProductEvent, ProductVersion
from xinrong.marketplace.selectors.common import _published
from xinrong.reference import divisions

SORTS = {
    "newest": ("-published_at", "-id"),
    # loans by interest; guarantee and insurance products (a fee, not interest) after them
    "rate": ("enhancement", "current_version__rate_min", "current_version__rate_max", "id"),
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
    if f.sort == "rate":
        qs = qs.annotate(
            enhancement=Case(
                When(current_version__product_type=ProductType.GUARANTEE, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
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
        if not is_institution.test(user):  # its own institution's products only
            raise NotFoundError("not_found", _("产品不存在"))
        qs = qs.filter(institution_id=user.organisation_id)
    product = qs.filter(pk=pk).first()
    if product is None:
        raise NotFoundError("not_found", _("产品不存在"))
    return product


def institution_products(*, user: User) -> QuerySet[Product]:
    """Return the products of the user's institution (all statuses)."""
    if not is_institution.test(user):
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


def eligibility_for(
    *, entity: MarketEntity, versions: Iterable[ProductVersion]
) -> dict[int, Verdict]:
    """Return the verdict of one entity for each version, loading the entity's facts once."""
    facts: EntityFacts | None = entity_facts(entity_ids=[entity.pk]).get(entity.pk)
    if facts is None:
        return {}
    return {v.pk: evaluate(v, facts) for v in versions}


def products_by_id(*, ids: Iterable[int]) -> dict[int, Product]:
    """Return published products by id (one query) for rendering matches."""
    return {p.pk: p for p in _published().filter(pk__in=list(ids))}


def enhancements_for(*, version: ProductVersion) -> list[tuple[Product, str]]:
    """Return, for a loan product accepting 担保公司担保 or 保证保险, the cheapest published
    guarantee (and insurance) product whose amount and term ranges overlap the loan's, with the
    collateral mode it provides; empty for other products (one query)."""
    modes = set(version.collateral_modes or [])
    wanted = {"guarantee_company": "guarantor", "insurance": "insurer"}
    kinds = {kind for mode, kind in wanted.items() if mode in modes}
    if version.product_type == ProductType.GUARANTEE or not kinds:
        return []
    rows = (
        _published()
        .filter(
            current_version__product_type=ProductType.GUARANTEE,
            institution__kind__in=sorted(kinds),
            current_version__amount_min__lte=version.amount_max,
            current_version__amount_max__gte=version.amount_min,
            current_version__term_min_months__lte=version.term_max_months,
            current_version__term_max_months__gte=version.term_min_months,
        )
        .order_by("current_version__rate_min", "current_version__rate_max", "id")
    )
    out: dict[str, Product] = {}
    for p in rows:
        out.setdefault(p.institution.kind, p)
        if len(out) == len(kinds):
            break
    return [(p, kind) for kind, p in sorted(out.items())]
