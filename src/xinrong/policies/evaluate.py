"""Evaluation of measures' eligibility conditions: all measures over all entities in one pass.

``entity_columns`` builds one row per entity with every ``ConditionField.column`` (the credit
module's feature columns, the registry, the latest credit grade, tags, platform loans).
``evaluate_matrix`` judges a list of condition lists over those columns with NumPy, a vector
per condition over every entity (identical conditions of several measures are computed once);
``evaluate_one`` judges one entity row with plain Python and says what is still missing. Both
follow the same rules, and the tests hold them (and a general rule engine) to the same answers:

- a missing value (NaN, None, "") never satisfies a condition, "not in" and "has none" included
  (except tags: an entity without tags has none of them);
- codes (industry, region) match by prefix: "C" all of manufacturing, "C13" its division,
  "630000" all of Qinghai, "630100" Xining;
- grades are "at least": A is better than B (credit grades by the scorecard's bands);
- a flag condition ``is True`` holds when the count is above 0, ``is False`` when it is 0;
- numbers compare inclusively (between: lo ≤ x ≤ hi).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import pandas as pd
from django.utils.translation import gettext as _

from xinrong.policies.conditions import (
    CHOICE,
    CODE,
    CREDIT_GRADES,
    FIELDS,
    FLAG,
    GRADE,
    NUMBER,
    TAGS,
    TAX_GRADES,
    ConditionField,
    requirement,
)
from xinrong.reference import divisions, industries

CENT = Decimal("0.01")
# a first loan (首贷户): the first platform loan within this many months
FIRST_LOAN_MONTHS = 12.0
GRADE_ORDER: dict[str, tuple[str, ...]] = {"tax_grade": TAX_GRADES, "credit_grade": CREDIT_GRADES}
# the text columns (a code or choice value; "" or None is unknown)
TEXT_COLUMNS = ("entity_type", "size_class", "industry_code", "division_code")
GRADE_COLUMNS = ("tax_grade", "credit_grade")


# The black list's veto column of ``entity_columns`` (1: listed now; credit.selectors.lists).
VETO_COLUMN = "blacklisted"
VETO_TEXT = "已列入信用黑名单（一票否决），不能享受政策；请在“本企业名单状态”页查看原因和移出办法"


def _vetoed(value: Any) -> bool:
    try:
        return bool(value) and float(value) > 0
    except (TypeError, ValueError):
        return False


def columns() -> list[str]:
    """Return every column a condition may test (each ``ConditionField.column`` once)."""
    return list(dict.fromkeys(f.column for f in FIELDS.values()))


# --- the entity columns ---------------------------------------------------------------------


def entity_columns(
    entity_ids: Iterable[int] | None = None, as_of: dt.date | None = None
) -> pd.DataFrame:
    """Return one row per entity (index: entity id) with every condition column.

    Numbers are floats (NaN unknown); registered capital and tax paid in 万元 as the credit
    features have them; text columns are strings ("" unknown); grades are letters (None
    unknown); flags are counts (0/1, penalties the number of serious ones); ``has_loan`` is
    1 when the entity had a platform loan, ``first_loan`` 1 when its first platform loan was
    disbursed within the last 12 months; ``tags`` a tuple of tag codes.
    """
    from xinrong.credit.features import TAX_GRADE_VALUE, feature_matrix
    from xinrong.credit.models import CreditProfile
    from xinrong.enterprises.models import MarketEntity

    wanted = None if entity_ids is None else sorted(set(entity_ids))
    features = feature_matrix(entity_ids=wanted, as_of=as_of)
    ids = features.index.to_numpy(dtype=np.int64)
    out = pd.DataFrame(index=pd.Index(ids, name="entity_id"))

    entities = MarketEntity.objects.order_by()
    if wanted is not None:
        entities = entities.filter(pk__in=wanted)
    registry = pd.DataFrame(
        list(
            entities.values_list(
                "pk", "entity_type", "size_class", "industry_code", "division_code"
            )
        ),
        columns=["entity_id", *TEXT_COLUMNS],
    ).set_index("entity_id")
    for name in TEXT_COLUMNS:
        out[name] = registry[name].reindex(ids).fillna("").astype(str).to_numpy()

    for name in (
        "years_in_business",
        "employees",
        "insured_headcount",
        "registered_capital",
        "tax_paid_12m",
        "ip_count",
        "platform_loans",
        "dishonest",
        "abnormal_listed",
        "penalties_serious",
    ):
        out[name] = features[name].to_numpy(dtype=float)

    letters = {v: k for k, v in TAX_GRADE_VALUE.items()}
    tax = features["tax_grade"].to_numpy(dtype=float)
    out["tax_grade"] = pd.Series(tax, index=ids).map(letters).astype(object).to_numpy()
    out["tax_grade"] = out["tax_grade"].where(out["tax_grade"].notna(), None)

    profiles = CreditProfile.objects.filter(is_latest=True).order_by()
    if wanted is not None:
        profiles = profiles.filter(entity_id__in=wanted)
    grades = pd.Series(dict(profiles.values_list("entity_id", "grade")), dtype=object)
    credit = grades.reindex(ids)
    out["credit_grade"] = credit.where(credit.notna(), None).to_numpy(dtype=object)

    loans = features["platform_loans"].to_numpy(dtype=float)
    months = features["platform_loan_months"].to_numpy(dtype=float)
    out["has_loan"] = np.where(np.isnan(loans), np.nan, (loans > 0).astype(float))
    out["first_loan"] = np.where(
        np.isnan(loans),
        np.nan,
        ((loans > 0) & (np.nan_to_num(months, nan=np.inf) <= FIRST_LOAN_MONTHS)).astype(float),
    )

    through = MarketEntity.tags.through.objects.order_by()
    if wanted is not None:
        through = through.filter(marketentity_id__in=wanted)
    pairs = pd.DataFrame(
        list(through.values_list("marketentity_id", "tag__code")), columns=["entity_id", "code"]
    )
    tags = pairs.groupby("entity_id")["code"].agg(lambda s: tuple(sorted(s)))
    empty: tuple[str, ...] = ()
    out["tags"] = [tags.get(i, empty) for i in ids] if len(tags) else [empty] * len(ids)

    # the black list's one-vote veto (一票否决): a listed entity is eligible for no measure
    from xinrong.credit.selectors.lists import blacklisted_ids

    listed = blacklisted_ids(None if wanted is None else wanted)
    out[VETO_COLUMN] = np.isin(ids, np.fromiter(listed, np.int64, len(listed))).astype(float)
    return out


# --- one entity -----------------------------------------------------------------------------


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value == ""


def _industry_prefix(code: str) -> str:
    try:
        return industries.normalize(code)
    except ValueError:
        return "\x00"  # matches nothing


def _region_prefix(code: str) -> str:
    try:
        return divisions.descendants_prefix(code)
    except ValueError:
        return "\x00"


def _prefix(f: ConditionField, code: str) -> str:
    return _industry_prefix(code) if f.name == "industry" else _region_prefix(code)


def _entity_code(f: ConditionField, code: str) -> str:
    if f.name == "industry":
        try:
            return industries.normalize(code)
        except ValueError:
            return code
    return code


def _rank(column: str, letter: Any) -> float:
    order = GRADE_ORDER[column]
    return float(order.index(letter)) if letter in order else math.nan


def holds(cond: Mapping[str, Any], row: Mapping[str, Any]) -> bool:
    """Return True if one entity row satisfies one condition (missing values never do)."""
    f = FIELDS[cond["field"]]
    op, value = cond["op"], cond["value"]
    x: Any = row.get(f.column)
    if f.kind == TAGS:
        have = set(x or ())
        wanted = set(value)
        if op == "has_any":
            return bool(have & wanted)
        if op == "has_all":
            return wanted <= have
        return not (have & wanted)
    if _missing(x):
        return False
    if f.kind == CHOICE:
        return (x in value) if op == "in" else (x not in value)
    if f.kind == CODE:
        code = _entity_code(f, str(x))
        hit = any(code.startswith(_prefix(f, v)) for v in value)
        return hit if op == "in" else not hit
    if f.kind == NUMBER:
        number = float(x)
        if op == ">=":
            return number >= float(value)
        if op == "<=":
            return number <= float(value)
        return float(value[0]) <= number <= float(value[1])
    if f.kind == GRADE:
        have_rank, want_rank = _rank(f.column, x), _rank(f.column, value)
        return not math.isnan(have_rank) and have_rank <= want_rank
    if f.kind == FLAG:
        return (float(x) > 0) if value else (float(x) == 0)
    raise ValueError(f"unknown field kind {f.kind}")


@dataclass(frozen=True)
class Verdict:
    """One entity against one measure: eligible, or what is still missing (field, text)."""

    eligible: bool
    missing: list[dict[str, str]] = field(default_factory=list)


def missing_text(
    cond: Mapping[str, Any], row: Mapping[str, Any], tag_names: Mapping[str, str] | None = None
) -> str:
    """Say what an entity failing ``cond`` still needs; when its value is unknown, say so."""
    f = FIELDS[cond["field"]]
    need = requirement(cond, tag_names)
    if f.kind != TAGS and _missing(row.get(f.column)):
        return _("平台暂无%(f)s信息（%(need)s）") % {"f": f.label, "need": need}
    return need


def evaluate_one(
    conditions: Sequence[Mapping[str, Any]],
    row: Mapping[str, Any],
    tag_names: Mapping[str, str] | None = None,
) -> Verdict:
    """Judge one entity row (a mapping column → value) against a condition list."""
    missing = [
        {"field": str(c["field"]), "text": missing_text(c, row, tag_names)}
        for c in conditions
        if not holds(c, row)
    ]
    if _vetoed(row.get(VETO_COLUMN)):
        missing.insert(0, {"field": VETO_COLUMN, "text": VETO_TEXT})
    return Verdict(eligible=not missing, missing=missing)


# --- all entities at once -------------------------------------------------------------------


class _Encoded:
    """The entity columns prepared once for vector tests (codes factorised, grades ranked)."""

    def __init__(self, cols: pd.DataFrame) -> None:
        self.cols = cols
        self.n = len(cols)
        self._cache: dict[str, Any] = {}

    def text(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """Return (codes per entity, unique values) of a text column; code -1 = unknown."""
        key = "text:" + column
        if key not in self._cache:
            values = self.cols[column].astype(object)
            codes, uniques = pd.factorize(values.where(values.notna(), "").to_numpy())
            uniques = np.asarray(uniques, dtype=object)
            blank = np.flatnonzero(uniques == "")
            if len(blank):
                codes = np.where(codes == blank[0], -1, codes)
            self._cache[key] = (codes, uniques)
        return self._cache[key]  # type: ignore[no-any-return]

    def number(self, column: str) -> np.ndarray:
        key = "num:" + column
        if key not in self._cache:
            self._cache[key] = pd.to_numeric(self.cols[column], errors="coerce").to_numpy(
                dtype=float
            )
        return self._cache[key]  # type: ignore[no-any-return]

    def rank(self, column: str) -> np.ndarray:
        key = "rank:" + column
        if key not in self._cache:
            order = {g: float(i) for i, g in enumerate(GRADE_ORDER[column])}
            series = self.cols[column].astype(object)
            self._cache[key] = series.map(order).to_numpy(dtype=float)
        return self._cache[key]  # type: ignore[no-any-return]

    def tag(self, code: str) -> np.ndarray:
        """Return whether each entity has tag ``code``."""
        if "tags" not in self._cache:
            lists = self.cols["tags"].to_numpy(dtype=object)
            lengths = np.fromiter((len(t) if t else 0 for t in lists), np.int64, self.n)
            rows = np.repeat(np.arange(self.n), lengths)
            flat = np.fromiter(
                (c for t in lists if t for c in t), dtype=object, count=int(lengths.sum())
            )
            index: dict[str, np.ndarray] = {}
            if len(flat):
                codes, uniques = pd.factorize(flat)
                order = np.argsort(codes, kind="stable")
                bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
                for i, u in enumerate(uniques):
                    index[str(u)] = rows[order[bounds[i] : bounds[i + 1]]]
            self._cache["tags"] = index
        hit = np.zeros(self.n, dtype=bool)
        where = self._cache["tags"].get(code)
        if where is not None:
            hit[where] = True
        return hit


def _vector(cond: Mapping[str, Any], enc: _Encoded) -> np.ndarray:
    """Return whether each entity satisfies ``cond`` (missing values never do)."""
    f = FIELDS[cond["field"]]
    op, value = cond["op"], cond["value"]
    if f.kind == TAGS:
        hits = [enc.tag(str(v)) for v in value]
        combine = np.logical_and if op == "has_all" else np.logical_or
        hit: np.ndarray = combine.reduce(hits)
        return hit if op != "has_none" else ~hit
    if f.kind in (CHOICE, CODE):
        codes, uniques = enc.text(f.column)
        if f.kind == CHOICE:
            wanted = set(value)
            per_unique = np.fromiter((u in wanted for u in uniques), bool, len(uniques))
        else:
            prefixes = tuple(_prefix(f, str(v)) for v in value)
            per_unique = np.fromiter(
                (_entity_code(f, str(u)).startswith(prefixes) for u in uniques),
                bool,
                len(uniques),
            )
        if op == "not_in":
            per_unique = ~per_unique
        known = codes >= 0
        return known & per_unique[np.where(known, codes, 0)] if len(uniques) else known
    if f.kind == NUMBER:
        x = enc.number(f.column)
        with np.errstate(invalid="ignore"):
            if op == ">=":
                return x >= float(value)
            if op == "<=":
                return x <= float(value)
            return (x >= float(value[0])) & (x <= float(value[1]))
    if f.kind == GRADE:
        r = enc.rank(f.column)
        want = _rank(f.column, value)
        with np.errstate(invalid="ignore"):
            return r <= want  # NaN (unknown) compares False
    if f.kind == FLAG:
        x = enc.number(f.column)
        with np.errstate(invalid="ignore"):
            return (x > 0) if value else (x == 0)
    raise ValueError(f"unknown field kind {f.kind}")


def _key(cond: Mapping[str, Any]) -> str:
    return json.dumps([cond["field"], cond["op"], cond["value"]], sort_keys=True, default=str)


def evaluate_matrix(
    measures_conditions: Sequence[Sequence[Mapping[str, Any]]], cols: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """Judge every condition list over every entity row of ``cols`` in one pass.

    Returns ``(eligible, unmet)``: a bool matrix [measures × entities] and the number of
    unmet conditions of each pair (int8: a measure has at most ``MAX_CONDITIONS``). A condition
    several measures share is computed once.
    """
    enc = _Encoded(cols)
    m, n = len(measures_conditions), len(cols)
    unmet = np.empty((m, n), dtype=np.int8)
    seen: dict[str, np.ndarray] = {}
    for i, conditions in enumerate(measures_conditions):
        row = unmet[i]
        row.fill(len(conditions))
        for cond in conditions:
            key = _key(cond)
            ok = seen.get(key)
            if ok is None:
                ok = seen[key] = _vector(cond, enc)
            np.subtract(row, ok, out=row, casting="unsafe")  # one condition met: one fewer
    if VETO_COLUMN in cols.columns and m:
        # one-vote veto: a black-listed entity misses one more "condition" under every measure
        listed = np.nan_to_num(cols[VETO_COLUMN].to_numpy(dtype=float)) > 0
        unmet[:, listed] += 1
    return unmet == 0, unmet


def unmet_conditions(
    conditions: Sequence[Mapping[str, Any]], cols: pd.DataFrame
) -> list[np.ndarray]:
    """Return, per condition, whether each entity fails it (for near-miss texts in bulk)."""
    enc = _Encoded(cols)
    return [~_vector(c, enc) for c in conditions]


# --- amounts --------------------------------------------------------------------------------

# The base a ratio applies to, per measure kind, when the platform knows it: tax relief on the
# tax paid in the last 12 months (万元 → 元). Other ratios (贴息 on interest to be paid, 担保费
# on a fee not yet charged, …) cannot be estimated before the fact: None.
RATIO_BASES: dict[str, tuple[str, Decimal]] = {"tax_relief": ("tax_paid_12m", Decimal(10_000))}


def _money(value: Any) -> Decimal | None:
    if value is None:
        return None
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def estimate_amount(measure: Any, row: Mapping[str, Any]) -> Decimal | None:
    """Return what an entity could get from a measure, in yuan, or None when unknowable.

    A fixed amount (``amount``) is the estimate, capped by ``cap``. A ratio applies to a base
    the platform knows (``RATIO_BASES``: tax relief × tax paid in the last 12 months), capped
    by ``cap``; with no known base the estimate is None (the pages say "最高 cap" instead).
    """
    cap = _money(measure.cap)
    if measure.amount is not None:
        amount = _money(measure.amount)
        assert amount is not None
        return min(amount, cap) if cap is not None else amount
    if measure.ratio is None or measure.kind not in RATIO_BASES:
        return None
    column, scale = RATIO_BASES[measure.kind]
    base: Any = row.get(column)
    if _missing(base):
        return None
    value = _money(Decimal(str(float(base))) * scale * Decimal(measure.ratio))
    assert value is not None
    return min(value, cap) if cap is not None else value
