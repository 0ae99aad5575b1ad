"""Reads of the service columns (专栏): 首贷中心, 续贷中心, 小额贷款公司, 地方特色产品.

Credit grades are non-public: only the operator (a sub-station for its region) sees or filters by
them; institutions and investors see registry information only."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts.choices import OrgKind
from xinrong.accounts.models import Organisation, User
from xinrong.common.errors import PermissionDeniedError
from xinrong.credit.models import CreditProfile
from xinrong.credit.scorecard import BANKABLE_GRADE
from xinrong.enterprises.choices import RegistrationStatus
from xinrong.enterprises.models import MarketEntity
from xinrong.enterprises.selectors import market_entity_visible
from xinrong.marketplace.choices import (
    ACTIVE_STATUSES,
    FIRST_LOAN_TAG,
    LOCAL_SPECIAL_TAGS,
    RENEWAL_HORIZON_DAYS,
    RENEWAL_TAGS,
    DemandStatus,
    LoanStatus,
    ProductStatus,
    ProductType,
)
from xinrong.marketplace.eligibility import Verdict
from xinrong.marketplace.models import Demand, Loan, Product, ProductVersion
from xinrong.marketplace.selectors.applications import applications_visible
from xinrong.marketplace.selectors.common import (
    GRADE_NAMES,
    _grade_param,
    _grades_from,
    _published,
    _region_param,
    is_lender_side,
    sees_grades,
    user_entity,
)
from xinrong.marketplace.selectors.products import ProductFilter, eligibility_for, product_search
from xinrong.reference import divisions

FIRST_LOAN_RECENT_DAYS = 365  # "recently scored": a profile computed within a year
FIRST_LOAN_MAX_YEARS = Decimal("1")  # low entry: at most one year in business required
RENEWAL_OPTIONS = 6  # products offered per maturing loan


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


def renewal_need(loan: Loan) -> Decimal:
    """Return the amount a renewal of ``loan`` must lend: what is left of it (the service refuses
    a renewal below the old loan's balance)."""
    return loan.outstanding or loan.principal


def renewal_fits(loan: Loan, version: ProductVersion) -> bool:
    """Whether the product's amount range covers what renewing ``loan`` needs."""
    return version.amount_min <= renewal_need(loan) <= version.amount_max


def renewal_prefill(loan: Loan, version: ProductVersion) -> tuple[Decimal, int]:
    """Return the amount and term to pre-fill when renewing ``loan`` with ``version``: the loan's
    balance and term, brought within the product's ranges (never an amount the product refuses)."""
    amount = min(max(renewal_need(loan), version.amount_min), version.amount_max)
    term = min(max(loan.term_months, version.term_min_months), version.term_max_months)
    return amount, term


def renewal_options(
    *, entity: MarketEntity, loans: Iterable[Loan], limit: int = RENEWAL_OPTIONS
) -> dict[int, list[RenewalOption]]:
    """Return, per loan, the lending institutions' 续贷/无还本续贷 products to renew it with
    (a renewal is made with the original lender) whose amount range covers the loan's balance,
    those the entity qualifies for first (one product query, one facts load). Products whose
    range does not cover the balance are left out: the application would be refused; how many
    were left out is on each loan as ``renewals_out_of_range``."""
    wanted = Q()
    for tag in RENEWAL_TAGS:
        wanted |= Q(current_version__tag_index__contains=f"|{tag}|")
    products = list(_published().filter(wanted).order_by("-published_at", "-id"))
    verdicts = eligibility_for(
        entity=entity, versions=[p.current_version for p in products if p.current_version]
    )
    out: dict[int, list[RenewalOption]] = {}
    for loan in loans:
        own = [p for p in products if p.institution_id == loan.institution_id and p.current_version]
        fitting = [p for p in own if p.current_version and renewal_fits(loan, p.current_version)]
        loan.renewals_out_of_range = len(own) - len(fitting)  # type: ignore[attr-defined]
        options = [
            RenewalOption(
                product=p,
                same_institution=p.institution_id == loan.institution_id,
                without_principal="无还本续贷"
                in (p.current_version.tags if p.current_version else []),
                verdict=verdicts.get(p.current_version_id or 0),
            )
            for p in fitting
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
