"""Rank published products for a financing demand, and explain every match.

How a demand meets the catalogue, in two stages:

1. **Hard filters** (a product failing one is excluded; the first failing one is its reason):
   ``eligibility`` (``eligibility.evaluate`` on the entity's facts, loaded once), ``amount``
   (demand amount within [amount_min, amount_max]), ``term`` (term within [term_min, term_max]),
   ``rate`` (product's lowest rate ≤ the demand's highest acceptable rate) and ``guarantee`` (the
   product's collateral modes overlap the modes the enterprise accepts; an empty list on either
   side means "any"). Black lists come later, as another filter.
2. **Soft score** in 0–100 orders what is left: the weighted sum of components in 0–1, with the
   weights in ``WEIGHTS`` (data, not code):

   - ``rate``: headroom under the demand's ceiling, ``(max_rate - rate_min) / max_rate``
     (1 when the ceiling is 0 and the product is free);
   - ``amount``: how well the product is sized for the demand,
     ``1 - log10(amount_max / amount) / 2`` clipped to 0–1 (a product whose ceiling is 100× the
     demand scores 0: it is made for larger borrowers);
   - ``term``: 1 when the term is the middle of the product's range, 0.5 at either end;
   - ``service``: promised days to accept plus days to decide, 2 days → 1, 30 days or more → 0;
   - ``reputation``: the institution's reputation in 0–1 from ``institution_reputation``: the
     Bayesian score (1–5) of the reputation summary table the ratings fill, as (s − 1) / 4;
     neutral (0.5) for an institution nobody has rated.

   Products of institutions holding the 优质服务机构 badge (``institution_badges``) are placed
   before the others (differentiated recommendation), after the demand holder's own.

**Loans only.** Guarantee and insurance products (``product_type`` ``guarantee``, published by
guarantors and insurers) are credit enhancement attached to a loan, not loans: their "rate" is a
guarantee fee or premium, not interest, so they are never ranked against loans. They pass the
same eligibility, amount and term filters and come back apart, cheapest fee first, as
``MatchResult.enhancements``; each loan that accepts 担保公司担保 or 保证保险 is paired with the
cheapest fitting one of that kind, and every match carries its total cost of financing
(``costs``: interest + fee, as an annual rate).

The institutions' demand hall ranks the other way round (``demand_board``).

Speed: the catalogue is loaded column-wise (one ``values_list``) into NumPy arrays and kept in
process memory until any product changes (``catalogue_stamp``). Each eligibility condition is
checked once per distinct value in the catalogue (there are few: a handful of entity-type sets,
a few dozen region lists…) and combined per product by indexing; everything else is vectorised.
Only the returned top matches get their Chinese explanations. The entity's facts are cached for
``FACTS_TTL`` seconds (grades change daily, not per request).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from django.db.models import Count, Max
from django.utils.translation import gettext as _

from xinrong.common.templatetags.money import money_range, yuan_text
from xinrong.marketplace import eligibility
from xinrong.marketplace.choices import CollateralMode, ProductStatus, ProductType
from xinrong.marketplace.costs import CostRange, cost_range
from xinrong.marketplace.eligibility import EntityFacts, evaluate
from xinrong.marketplace.models import Product
from xinrong.reference import divisions

WEIGHTS: dict[str, float] = {
    "rate": 0.35,
    "amount": 0.20,
    "term": 0.10,
    "service": 0.15,
    "reputation": 0.20,
}
NEUTRAL_REPUTATION = 0.5
FACTS_TTL = 300
ELIGIBILITY_DIMS = (
    "entity_types",
    "industries",
    "regions",
    "min_years_in_business",
    "min_credit_grade",
    "tax_grades",
)
ELIGIBILITY_CHECKS: dict[str, Callable[[Any, EntityFacts], bool]] = {
    "entity_types": eligibility.entity_type_ok,
    "industries": eligibility.industry_ok,
    "regions": eligibility.region_ok,
    "min_years_in_business": lambda v, f: eligibility.years_ok(Decimal(v or 0), f),
    "min_credit_grade": eligibility.grade_ok,
    "tax_grades": eligibility.tax_ok,
}
FILTERS = ("eligibility", "amount", "term", "rate", "guarantee")
MODE_BIT = {mode: 1 << i for i, mode in enumerate(CollateralMode.values)}
ENHANCEMENT_LIMIT = 5
# what a catalogue row is: a loan, or credit enhancement of one kind (the collateral mode it gives)
LOAN, GUARANTEE, INSURANCE = 0, 1, 2
ENHANCEMENT_MODE = {
    GUARANTEE: CollateralMode.GUARANTEE_COMPANY,
    INSURANCE: CollateralMode.INSURANCE,
}

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class DemandTerms(Protocol):
    """What matching reads from a demand."""

    amount: Decimal
    term_months: int
    max_rate: Decimal
    collateral_modes: list[str]


@dataclass
class EligibilityTerms:
    """One distinct set of eligibility terms shared by one or more product versions."""

    entity_types: list[str]
    industries: list[str]
    regions: list[str]
    min_years_in_business: Decimal
    min_credit_grade: str
    tax_grades: list[str]


@dataclass(frozen=True)
class Catalogue:
    """The published products' live terms as columns (one row per product)."""

    product_id: IntArray
    version_id: IntArray
    institution_id: IntArray
    amount_min_fen: IntArray
    amount_max_fen: IntArray
    term_min: IntArray
    term_max: IntArray
    rate_min: FloatArray
    rate_max: FloatArray
    service_days: IntArray
    modes_mask: IntArray
    kind: IntArray  # LOAN, GUARANTEE or INSURANCE
    dim_codes: dict[str, IntArray]  # per eligibility condition: index into ``dim_values``
    dim_values: dict[str, list[Any]]  # per condition: its distinct values in the catalogue
    region_prefixes: list[tuple[str, ...]]  # per distinct region list: descendants' prefixes

    def terms(self, i: int) -> EligibilityTerms:
        """Return the eligibility terms of row ``i``."""
        v = {name: self.dim_values[name][int(self.dim_codes[name][i])] for name in self.dim_values}
        return EligibilityTerms(
            entity_types=v["entity_types"],
            industries=v["industries"],
            regions=v["regions"],
            min_years_in_business=Decimal(v["min_years_in_business"] or 0),
            min_credit_grade=v["min_credit_grade"],
            tax_grades=v["tax_grades"],
        )

    def __len__(self) -> int:
        return int(self.product_id.shape[0])


@dataclass(frozen=True)
class Enhancement:
    """A guarantee or insurance product fitting the demand (offered beside the loans)."""

    product_id: int
    kind: int  # GUARANTEE or INSURANCE
    fee_min: Decimal
    fee_max: Decimal

    @property
    def fee_label(self) -> str:
        return _("担保费率") if self.kind == GUARANTEE else _("保费率")


@dataclass(frozen=True)
class Combination:
    """A loan with one credit enhancement and their total cost."""

    enhancement: Enhancement
    cost: CostRange


@dataclass
class Match:
    """One loan product that fits the demand, its score, the score's parts and why, and its total
    cost of financing alone and with the cheapest fitting guarantee or insurance it accepts."""

    product_id: int
    version_id: int
    institution_id: int
    score: float
    components: dict[str, float]
    explanations: list[str] = field(default_factory=list)
    cost: CostRange | None = None
    combinations: list[Combination] = field(default_factory=list)
    needs_enhancement: bool = False  # accepts only 担保公司担保/保证保险: no cost without a fee
    badge: bool = False  # the institution holds 优质服务机构 (placed before the others)


@dataclass(frozen=True)
class Exclusion:
    """One product that does not fit, with the first hard filter it fails."""

    product_id: int
    code: str
    message: str


@dataclass
class MatchResult:
    """Ranked matches (best first), how many fit, and optionally the exclusions."""

    matches: list[Match]
    eligible_count: int
    considered: int
    excluded: list[Exclusion] = field(default_factory=list)
    enhancements: list[Enhancement] = field(default_factory=list)


# ---------------------------------------------------------------- the reputation hook


def neutral_reputation(institution_ids: IntArray) -> FloatArray:
    """Return a neutral reputation for every institution (until evaluations provides one)."""
    return np.full(institution_ids.shape, NEUTRAL_REPUTATION, dtype=np.float64)


def summary_reputation(institution_ids: IntArray) -> FloatArray:
    """Return each institution's reputation in 0–1 from the reputation summary table that the
    evaluations app keeps (``marketplace.services.reputation``); neutral 0.5 when unrated."""
    from xinrong.marketplace.selectors.reputation import institution_reputation_lookup

    return institution_reputation_lookup(institution_ids)


def badges(institution_ids: IntArray) -> BoolArray:
    """Return True for each institution holding the 优质服务机构 badge (see the summary table)."""
    from xinrong.marketplace.selectors.reputation import badged_institutions

    held = badged_institutions(int(i) for i in np.unique(institution_ids))
    if not held:
        return np.zeros(institution_ids.shape, dtype=bool)
    return np.isin(institution_ids, np.fromiter(held, dtype=np.int64, count=len(held)))


# The reputation component: the summary table the ratings fill (neutral_reputation for none).
institution_reputation: Callable[[IntArray], FloatArray] = summary_reputation
# Priority placement: products of badged institutions rank before all others (after the demand
# holder's own); replaceable in tests like the reputation hook.
institution_badges: Callable[[IntArray], BoolArray] = badges


# ---------------------------------------------------------------- loading the catalogue

# shared with demand_board: one lock, one cache, one forget
CACHE_LOCK = threading.Lock()
CACHE: dict[str, Any] = {}


def catalogue_stamp() -> tuple[int, str]:
    """Return a value that changes whenever any product changes (count and last update)."""
    agg = Product.objects.aggregate(n=Count("id"), last=Max("updated_at"))
    return int(agg["n"] or 0), str(agg["last"])


def catalogue_build(rows: Sequence[Sequence[Any]]) -> Catalogue:
    """Return columns from rows of ``CATALOGUE_COLUMNS`` (pure; used by the loader and tests)."""
    n = len(rows)
    codes = {name: np.empty(n, dtype=np.int64) for name in ELIGIBILITY_DIMS}
    values: dict[str, list[Any]] = {name: [] for name in ELIGIBILITY_DIMS}
    seen: dict[str, dict[Any, int]] = {name: {} for name in ELIGIBILITY_DIMS}
    modes_mask = np.zeros(n, dtype=np.int64)
    kind = np.zeros(n, dtype=np.int64)
    for i, row in enumerate(rows):
        # rows from before the product type and institution kind columns are loans
        if len(row) > 18 and row[18] == ProductType.GUARANTEE:
            kind[i] = INSURANCE if len(row) > 19 and row[19] == "insurer" else GUARANTEE
        for k, name in enumerate(ELIGIBILITY_DIMS):
            value = row[11 + k]
            key = tuple(value) if isinstance(value, list) else str(value or "")
            idx = seen[name].get(key)
            if idx is None:
                idx = seen[name][key] = len(values[name])
                values[name].append(
                    list(value) if isinstance(value, list) else (value if value else "")
                )
            codes[name][i] = idx
        mask = 0
        for mode in row[17] or ():
            mask |= MODE_BIT.get(mode, 0)
        modes_mask[i] = mask

    def col(j: int, dtype: Any) -> Any:
        return np.fromiter((r[j] for r in rows), dtype=dtype, count=n)

    return Catalogue(
        product_id=col(0, np.int64),
        version_id=col(1, np.int64),
        institution_id=col(2, np.int64),
        amount_min_fen=np.fromiter((int(r[3] * 100) for r in rows), dtype=np.int64, count=n),
        amount_max_fen=np.fromiter((int(r[4] * 100) for r in rows), dtype=np.int64, count=n),
        term_min=col(5, np.int64),
        term_max=col(6, np.int64),
        rate_min=np.fromiter((float(r[7]) for r in rows), dtype=np.float64, count=n),
        rate_max=np.fromiter((float(r[8]) for r in rows), dtype=np.float64, count=n),
        service_days=np.fromiter((r[9] + r[10] for r in rows), dtype=np.int64, count=n),
        modes_mask=modes_mask,
        kind=kind,
        dim_codes=codes,
        dim_values=values,
        region_prefixes=[_prefixes(regions) for regions in values["regions"]],
    )


def _prefixes(regions: list[str]) -> tuple[str, ...]:
    """Return the descendants' prefixes of regions, as ``eligibility.region_ok`` tests them."""
    out = []
    for region in regions:
        try:
            out.append(divisions.descendants_prefix(region))
        except ValueError:
            continue
    # A list of only malformed codes matches nobody (as in eligibility): a prefix no code has.
    return tuple(out) if out or not regions else ("\x00",)


CATALOGUE_COLUMNS = (
    "pk",
    "current_version_id",
    "institution_id",
    "current_version__amount_min",
    "current_version__amount_max",
    "current_version__term_min_months",
    "current_version__term_max_months",
    "current_version__rate_min",
    "current_version__rate_max",
    "current_version__days_to_accept",
    "current_version__days_to_decide",
    "current_version__entity_types",
    "current_version__industries",
    "current_version__regions",
    "current_version__min_years_in_business",
    "current_version__min_credit_grade",
    "current_version__tax_grades",
    "current_version__collateral_modes",
    "current_version__product_type",
    "institution__kind",
)


def catalogue() -> Catalogue:
    """Return the published catalogue as columns, reloading only when a product has changed."""
    stamp = catalogue_stamp()
    with CACHE_LOCK:
        if CACHE.get("stamp") == stamp:
            cached: Catalogue = CACHE["catalogue"]
            return cached
    rows = list(
        Product.objects.filter(status=ProductStatus.PUBLISHED, current_version__isnull=False)
        .order_by("pk")
        .values_list(*CATALOGUE_COLUMNS)
    )
    built = catalogue_build(rows)
    with CACHE_LOCK:
        CACHE["stamp"] = stamp
        CACHE["catalogue"] = built
    return built


def catalogue_forget() -> None:
    """Drop the cached catalogue (tests; the stamp makes this unnecessary in production)."""
    with CACHE_LOCK:
        CACHE.clear()


# ---------------------------------------------------------------- ranking (pure)


def _modes_mask(modes: Sequence[str]) -> int:
    mask = 0
    for mode in modes:
        mask |= MODE_BIT.get(mode, 0)
    return mask


def _yuan(fen: int) -> str:
    """Return an amount held in fen as every page shows it ("500,000 元", "6,828.01 元")."""
    return yuan_text(Decimal(int(fen)) / 100)


def _yuan_range(low_fen: int, high_fen: int) -> str:
    """Return a product's amount range held in fen ("100,000–3,000,000 元")."""
    return money_range(Decimal(int(low_fen)) / 100, Decimal(int(high_fen)) / 100)


def _rate(value: float | Decimal) -> str:
    return f"{float(value):g}%"


def _mode_names(mask: int) -> str:
    labels = dict(CollateralMode.choices)
    return "、".join(str(labels[m]) for m, bit in MODE_BIT.items() if mask & bit)


def rank_products(
    cat: Catalogue,
    demand: DemandTerms,
    facts: EntityFacts | None,
    *,
    limit: int = 20,
    with_excluded: bool = False,
    reputation: Callable[[IntArray], FloatArray] | None = None,
    first_institution: int | None = None,
    vetoed: str = "",
    badge_of: Callable[[IntArray], BoolArray] | None = None,
) -> MatchResult:
    """Return the products fitting the demand, best first, with scores and explanations.

    ``vetoed`` is the black-list reason of a listed entity (``credit.selectors.lists``): the
    one-vote veto (一票否决) fails eligibility for every product, with that reason.

    ``first_institution`` is the institution holding the demand (抢单): its fitting products
    come first, whatever their score, so the enterprise can apply to the lender working on
    its demand even when the lender's products rank below the first ``limit``.
    """
    n = len(cat)
    if n == 0:
        return MatchResult(matches=[], eligible_count=0, considered=0)
    # Eligibility: each condition once per distinct value, combined per product in NumPy
    # (no facts = nobody qualifies, e.g. no entity).
    eligible = np.full(n, facts is not None and not vetoed)
    if facts is not None and not vetoed:
        for name, check in ELIGIBILITY_CHECKS.items():
            if name == "regions":  # the hot one: many distinct lists; prefixes precomputed
                division = facts.division_code
                region_holds = np.fromiter(
                    (not p or division.startswith(p) for p in cat.region_prefixes),
                    dtype=bool,
                    count=len(cat.region_prefixes),
                )
                eligible &= region_holds[cat.dim_codes[name]]
                continue
            holds = np.fromiter(
                (check(value, facts) for value in cat.dim_values[name]),
                dtype=bool,
                count=len(cat.dim_values[name]),
            )
            eligible &= holds[cat.dim_codes[name]]
    amount_fen = int(demand.amount * 100)
    fits_amount = (cat.amount_min_fen <= amount_fen) & (amount_fen <= cat.amount_max_fen)
    term = int(demand.term_months)
    fits_term = (cat.term_min <= term) & (term <= cat.term_max)
    ceiling = float(demand.max_rate)
    fits_rate = cat.rate_min <= ceiling + 1e-9
    wanted = _modes_mask(demand.collateral_modes)
    fits_modes = (
        np.ones(n, dtype=bool)
        if wanted == 0
        else ((cat.modes_mask & wanted) != 0) | (cat.modes_mask == 0)
    )
    is_loan = cat.kind == LOAN
    ok = is_loan & eligible & fits_amount & fits_term & fits_rate & fits_modes
    idx = np.flatnonzero(ok)
    # credit enhancement the enterprise accepts (its mode is what a guarantee product lists)
    enhancements = _enhancements(cat, eligible & fits_amount & fits_term & fits_modes & ~is_loan)

    components: dict[str, FloatArray] = {}
    if ceiling > 0:
        components["rate"] = np.clip((ceiling - cat.rate_min[idx]) / ceiling, 0.0, 1.0)
    else:
        components["rate"] = np.ones(idx.shape[0])
    ratio = cat.amount_max_fen[idx] / max(amount_fen, 1)
    components["amount"] = np.clip(1.0 - np.log10(np.maximum(ratio, 1.0)) / 2.0, 0.0, 1.0)
    tmin, tmax = cat.term_min[idx], cat.term_max[idx]
    half = (tmax - tmin) / 2.0
    mid = (tmax + tmin) / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        off = np.where(half > 0, np.abs(term - mid) / np.where(half > 0, half, 1.0), 0.0)
    components["term"] = 1.0 - 0.5 * np.clip(off, 0.0, 1.0)
    components["service"] = np.clip(1.0 - (cat.service_days[idx] - 2) / 28.0, 0.0, 1.0)
    hook = reputation or institution_reputation
    components["reputation"] = np.clip(hook(cat.institution_id[idx]), 0.0, 1.0)
    score = np.zeros(idx.shape[0])
    for name, weight in WEIGHTS.items():
        score += weight * components[name]
    score *= 100.0

    # The holder's products first, then those of badged institutions (优质服务机构: priority
    # placement), then best score; ties by lower rate, then by product id.
    others = cat.institution_id[idx] != (-1 if first_institution is None else first_institution)
    badged = (badge_of or institution_badges)(cat.institution_id[idx])
    order = np.lexsort(
        (cat.product_id[idx], cat.rate_min[idx], -np.round(score, 6), ~badged, others)
    )
    order = order[:limit]
    matches: list[Match] = []
    for j in order:
        i = int(idx[j])
        parts = {name: round(float(components[name][j]), 4) for name in WEIGHTS}
        rate_min, rate_max = _dec(cat.rate_min[i]), _dec(cat.rate_max[i])
        matches.append(
            Match(
                product_id=int(cat.product_id[i]),
                version_id=int(cat.version_id[i]),
                institution_id=int(cat.institution_id[i]),
                score=round(float(score[j]), 2),
                components=parts,
                explanations=_explain(cat, i, demand, amount_fen, wanted, parts),
                cost=cost_range(rate_min=rate_min, rate_max=rate_max),
                combinations=_combinations(
                    int(cat.modes_mask[i]), wanted, rate_min, rate_max, enhancements
                ),
                needs_enhancement=_needs_enhancement(int(cat.modes_mask[i])),
                badge=bool(badged[j]),
            )
        )
        if badged[j]:
            matches[-1].explanations.append(_("优质服务机构：企业评价优良，优先推荐"))
    excluded: list[Exclusion] = []
    if with_excluded:
        checks = (eligible, fits_amount, fits_term, fits_rate, fits_modes)
        for x in np.flatnonzero(~ok & is_loan).tolist():
            first = next(k for k, passed in enumerate(checks) if not passed[x])
            code = FILTERS[first]
            excluded.append(
                Exclusion(
                    product_id=int(cat.product_id[x]),
                    code=code,
                    message=(
                        _("已列入信用黑名单（一票否决）：%(r)s") % {"r": vetoed}
                        if vetoed and code == "eligibility"
                        else _exclusion_message(cat, x, code, demand, facts, amount_fen)
                    ),
                )
            )
    return MatchResult(
        matches=matches,
        eligible_count=int(idx.shape[0]),
        considered=int(is_loan.sum()),
        excluded=excluded,
        enhancements=enhancements[:ENHANCEMENT_LIMIT],
    )


def _dec(value: float) -> Decimal:
    """A catalogue rate (stored with two decimals) back as Decimal."""
    return Decimal(str(round(float(value), 2))).quantize(Decimal("0.01"))


ENHANCEMENT_BITS = sum(MODE_BIT[m] for m in ENHANCEMENT_MODE.values())


def _needs_enhancement(mask: int) -> bool:
    """Whether a loan accepts no collateral mode but a guarantee company or insurance."""
    return mask != 0 and mask & ~ENHANCEMENT_BITS == 0


def _enhancements(cat: Catalogue, fits: npt.NDArray[np.bool_]) -> list[Enhancement]:
    """Return the fitting guarantee and insurance products, cheapest fee first."""
    idx = np.flatnonzero(fits)
    order = np.lexsort((cat.product_id[idx], cat.rate_max[idx], cat.rate_min[idx]))
    out = []
    for j in order:
        i = int(idx[j])
        out.append(
            Enhancement(
                product_id=int(cat.product_id[i]),
                kind=int(cat.kind[i]),
                fee_min=_dec(cat.rate_min[i]),
                fee_max=_dec(cat.rate_max[i]),
            )
        )
    return out


def _combinations(
    mask: int,
    wanted: int,
    rate_min: Decimal,
    rate_max: Decimal,
    enhancements: list[Enhancement],
) -> list[Combination]:
    """Pair a loan with the cheapest fitting enhancement of each kind it accepts (and the
    enterprise accepts): its total cost is interest plus that fee."""
    out = []
    for kind, mode in ENHANCEMENT_MODE.items():
        bit = MODE_BIT[mode]
        if not mask & bit or (wanted and not wanted & bit):
            continue
        best = next((e for e in enhancements if e.kind == kind), None)
        if best is not None:
            cost = cost_range(
                rate_min=rate_min, rate_max=rate_max, fee_min=best.fee_min, fee_max=best.fee_max
            )
            out.append(Combination(enhancement=best, cost=cost))
    return out


def _explain(
    cat: Catalogue,
    i: int,
    demand: DemandTerms,
    amount_fen: int,
    wanted: int,
    parts: dict[str, float],
) -> list[str]:
    rate_min, rate_max = float(cat.rate_min[i]), float(cat.rate_max[i])
    out = [_("符合本产品的准入条件（主体类型、行业、地区、经营年限、信用与纳税等级）")]
    if rate_max <= float(demand.max_rate):
        out.append(
            _("利率 %(lo)s–%(hi)s，全部低于您可接受的 %(max)s")
            % {"lo": _rate(rate_min), "hi": _rate(rate_max), "max": _rate(demand.max_rate)}
        )
    else:
        out.append(
            _("利率 %(lo)s 起，低于您可接受的 %(max)s（最高 %(hi)s，以审批为准）")
            % {"lo": _rate(rate_min), "hi": _rate(rate_max), "max": _rate(demand.max_rate)}
        )
    out.append(
        _("额度 %(range)s，覆盖您需要的 %(want)s")
        % {
            "range": _yuan_range(int(cat.amount_min_fen[i]), int(cat.amount_max_fen[i])),
            "want": _yuan(amount_fen),
        }
    )
    out.append(
        _("期限 %(lo)s–%(hi)s 个月，覆盖您需要的 %(want)s 个月")
        % {"lo": cat.term_min[i], "hi": cat.term_max[i], "want": demand.term_months}
    )
    mask = int(cat.modes_mask[i])
    if mask == 0:
        out.append(_("担保方式不限"))
    else:
        common = mask & wanted if wanted else mask
        out.append(_("担保方式：%(m)s，在您可接受的范围内") % {"m": _mode_names(common)})
    out.append(_("承诺 %(d)s 天内受理并审批完毕") % {"d": cat.service_days[i]})
    if parts["reputation"] == NEUTRAL_REPUTATION:
        out.append(_("机构信誉：暂无评价，按中性计分"))
    else:
        out.append(_("机构信誉得分 %(s)s / 100") % {"s": round(parts["reputation"] * 100)})
    return out


def _exclusion_message(
    cat: Catalogue,
    i: int,
    code: str,
    demand: DemandTerms,
    facts: EntityFacts | None,
    amount_fen: int,
) -> str:
    if code == "eligibility":
        if facts is None:
            return _("缺少企业信息，无法判断准入条件")
        verdict = evaluate(cat.terms(i), facts)
        return verdict.reasons[0].message
    if code == "amount":
        return _("额度 %(range)s，不覆盖您需要的 %(want)s") % {
            "range": _yuan_range(int(cat.amount_min_fen[i]), int(cat.amount_max_fen[i])),
            "want": _yuan(amount_fen),
        }
    if code == "term":
        return _("期限 %(lo)s–%(hi)s 个月，不覆盖您需要的 %(want)s 个月") % {
            "lo": cat.term_min[i],
            "hi": cat.term_max[i],
            "want": demand.term_months,
        }
    if code == "rate":
        return _("最低利率 %(lo)s 高于您可接受的 %(max)s") % {
            "lo": _rate(float(cat.rate_min[i])),
            "max": _rate(demand.max_rate),
        }
    return _("担保方式为%(have)s，不在您可接受的%(want)s之中") % {
        "have": _mode_names(int(cat.modes_mask[i])),
        "want": _mode_names(_modes_mask(demand.collateral_modes)),
    }
