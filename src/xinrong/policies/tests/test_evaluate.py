"""Eligibility evaluation: the vectorised pass equals the per-entity rules and a rule engine."""

from __future__ import annotations

import math
import re
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
import rule_engine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xinrong.policies import conditions as c
from xinrong.policies.evaluate import (
    GRADE_ORDER,
    _entity_code,
    _prefix,
    columns,
    estimate_amount,
    evaluate_matrix,
    evaluate_one,
)

INDUSTRY_CODES = ["C1310", "C1320", "C2610", "F5110", "A0111", "I6510", "", "Z9999"]
INDUSTRY_VALUES = ["C", "C13", "F", "A01", "I65", "26"]
DIVISION_CODES = ["630102", "630104", "632801", "632802", "110101", ""]
DIVISION_VALUES = ["630000", "630100", "632800", "632801", "110000"]
TAG_CODES = ["zjtx", "gxjs", "kjxzx", "first"]

ENTITY_TYPES = [v for v, _l in c.FIELDS["entity_type"].choices]
SIZE_CLASSES = [v for v, _l in c.FIELDS["size_class"].choices]


def _values(f: c.ConditionField, op: str) -> st.SearchStrategy[Any]:
    if f.kind == c.FLAG:
        return st.booleans()
    if f.kind == c.GRADE:
        return st.sampled_from([v for v, _l in f.choices])
    if f.kind == c.NUMBER:
        number = st.integers(0, 30).map(float) if not f.integer else st.integers(0, 30)
        if op == "between":
            return st.tuples(number, number).map(lambda t: [min(t), max(t)])
        return number
    pool: list[str]
    if f.kind == c.CHOICE:
        pool = [v for v, _l in f.choices]
    elif f.kind == c.TAGS:
        pool = TAG_CODES
    elif f.name == "industry":
        pool = INDUSTRY_VALUES
    else:
        pool = DIVISION_VALUES
    return st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True)


@st.composite
def condition(draw: Any) -> dict[str, Any]:
    f = draw(st.sampled_from(c.FIELDS_LIST))
    op = draw(st.sampled_from(f.ops))
    return {"field": f.name, "op": op, "value": draw(_values(f, op))}


def _maybe(strategy: st.SearchStrategy[Any], missing: Any = math.nan) -> st.SearchStrategy[Any]:
    return st.one_of(st.just(missing), strategy)


@st.composite
def entity_row(draw: Any) -> dict[str, Any]:
    number = st.integers(0, 30).map(float)
    row: dict[str, Any] = {
        "entity_type": draw(_maybe(st.sampled_from(ENTITY_TYPES), "")),
        "size_class": draw(_maybe(st.sampled_from(SIZE_CLASSES), "")),
        "industry_code": draw(st.sampled_from(INDUSTRY_CODES)),
        "division_code": draw(st.sampled_from(DIVISION_CODES)),
        "tax_grade": draw(_maybe(st.sampled_from(c.TAX_GRADES), None)),
        "credit_grade": draw(_maybe(st.sampled_from(c.CREDIT_GRADES), None)),
        "tags": tuple(sorted(draw(st.sets(st.sampled_from(TAG_CODES), max_size=3)))),
    }
    for name in (
        "years_in_business",
        "employees",
        "insured_headcount",
        "registered_capital",
        "tax_paid_12m",
        "ip_count",
        "platform_loans",
    ):
        row[name] = draw(_maybe(number))
    for name in ("dishonest", "abnormal_listed", "penalties_serious", "has_loan", "first_loan"):
        row[name] = draw(_maybe(st.sampled_from([0.0, 1.0, 2.0])))
    return row


# --- the reference: the same rules written for the PyPI rule-engine ---------------------------


def _lit(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(float(value))


def _rule_text(cond: dict[str, Any]) -> str:
    """Return one condition as a rule-engine expression over the reference row."""
    f = c.FIELDS[cond["field"]]
    op, value = cond["op"], cond["value"]
    col = f.column
    known = f"{col} != null"
    if f.kind == c.TAGS:
        hits = [f"{_lit(v)} in {col}" for v in value]
        if op == "has_any":
            return "(" + " or ".join(hits) + ")"
        if op == "has_all":
            return "(" + " and ".join(hits) + ")"
        return "not (" + " or ".join(hits) + ")"
    if f.kind == c.CHOICE:
        listed = "[" + ", ".join(_lit(v) for v in value) + "]"
        test = f"{col} in {listed}" if op == "in" else f"not ({col} in {listed})"
        return f"({known} and {test})"
    if f.kind == c.CODE:
        pattern = "|".join(re.escape(_prefix(f, v)) for v in value)
        test = f"{col} =~ {_lit('^(' + pattern + ')')}"
        return f"({known} and {test})" if op == "in" else f"({known} and not ({test}))"
    if f.kind == c.NUMBER:
        if op == ">=":
            return f"({known} and {col} >= {_lit(value)})"
        if op == "<=":
            return f"({known} and {col} <= {_lit(value)})"
        return f"({known} and {col} >= {_lit(value[0])} and {col} <= {_lit(value[1])})"
    if f.kind == c.GRADE:
        want = GRADE_ORDER[col].index(value)
        return f"({col}_rank != null and {col}_rank <= {want})"
    assert f.kind == c.FLAG
    return f"({known} and {col} {'>' if value else '=='} 0)"


def _reference_row(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key == "tags":
            out[key] = list(value)
        elif value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
            out[key] = None
        else:
            out[key] = value
    for col, order in GRADE_ORDER.items():
        out[f"{col}_rank"] = order.index(row[col]) if row[col] in order else None
    for f in c.FIELDS.values():
        if f.kind == c.CODE and out[f.column] is not None:
            out[f.column] = _entity_code(f, out[f.column])
    return out


def _reference_unmet(conds: list[dict[str, Any]], row: dict[str, Any]) -> int:
    ref = _reference_row(row)
    return sum(not rule_engine.Rule(_rule_text(cond)).matches(ref) for cond in conds)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    measures=st.lists(st.lists(condition(), max_size=5), min_size=1, max_size=4),
    rows=st.lists(entity_row(), min_size=1, max_size=12),
)
def test_vectorised_equals_per_entity_and_rule_engine(measures, rows):
    for conds in measures:
        # only valid condition lists are stored: the strategy draws valid conditions (a
        # repeated field and operator is refused by validate, but evaluates all the same)
        assert all(e.message.find("重复") >= 0 for e in c.validate(conds, tag_codes=set(TAG_CODES)))
    cols = pd.DataFrame(rows, index=pd.Index(range(1, len(rows) + 1), name="entity_id"))
    eligible, unmet = evaluate_matrix(measures, cols)
    assert eligible.shape == unmet.shape == (len(measures), len(rows))
    for i, conds in enumerate(measures):
        for j, row in enumerate(rows):
            verdict = evaluate_one(conds, row)
            expected = _reference_unmet(conds, row)
            assert len(verdict.missing) == expected == unmet[i, j], (conds, row)
            assert verdict.eligible == bool(eligible[i, j]) == (expected == 0)


def _one_row(**values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {name: math.nan for name in columns()}
    row.update(entity_type="", size_class="", industry_code="", division_code="", tags=())
    row.update(tax_grade=None, credit_grade=None)
    row.update(values)
    return row


def test_near_miss_says_what_is_missing():
    conds = [
        {"field": "tax_grade", "op": ">=", "value": "B"},
        {"field": "years_in_business", "op": ">=", "value": 2},
    ]
    verdict = evaluate_one(conds, _one_row(tax_grade="M", years_in_business=3.5))
    assert not verdict.eligible
    assert verdict.missing == [{"field": "tax_grade", "text": "纳税信用等级需达到B级"}]
    unknown = evaluate_one(conds, _one_row(years_in_business=3.5))
    assert unknown.missing[0]["text"].startswith("平台暂无纳税信用等级信息")
    assert evaluate_one(conds, _one_row(tax_grade="A", years_in_business=2.0)).eligible


def test_missing_values_never_satisfy_not_in():
    cond = [{"field": "size_class", "op": "not_in", "value": ["large"]}]
    cols = pd.DataFrame([_one_row(), _one_row(size_class="small")])
    eligible, _unmet = evaluate_matrix([cond], cols)
    assert eligible.tolist() == [[False, True]]


def test_codes_match_by_prefix_and_conditions_shared_once():
    rows = [
        _one_row(industry_code="C1310", division_code="630102"),
        _one_row(industry_code="F5110", division_code="632801"),
    ]
    cols = pd.DataFrame(rows)
    manufacturing = {"field": "industry", "op": "in", "value": ["C"]}
    xining = {"field": "region", "op": "in", "value": ["630100"]}
    eligible, unmet = evaluate_matrix([[manufacturing, xining], [xining], []], cols)
    assert eligible.tolist() == [[True, False], [True, False], [True, True]]
    assert unmet.tolist() == [[0, 2], [0, 1], [0, 0]]


def test_empty_entity_table():
    cols = pd.DataFrame([_one_row()]).iloc[:0]
    eligible, _unmet = evaluate_matrix([[{"field": "tags", "op": "has_any", "value": ["x"]}]], cols)
    assert eligible.shape == (1, 0)


def _measure(**terms: Any) -> SimpleNamespace:
    base = {"amount": None, "ratio": None, "cap": None, "kind": "subsidy"}
    base.update(terms)
    return SimpleNamespace(**base)


@pytest.mark.parametrize(
    ("terms", "row", "expected"),
    [
        ({"amount": Decimal("200000")}, {}, Decimal("200000.00")),
        ({"amount": Decimal("200000"), "cap": Decimal("150000")}, {}, Decimal("150000.00")),
        # 12.3456 万元 tax × 10% = 12,345.60 yuan
        (
            {"kind": "tax_relief", "ratio": Decimal("0.1")},
            {"tax_paid_12m": 12.3456},
            Decimal("12345.60"),
        ),
        (
            {"kind": "tax_relief", "ratio": Decimal("0.5"), "cap": Decimal("50000")},
            {"tax_paid_12m": 30.0},
            Decimal("50000.00"),
        ),
        ({"kind": "tax_relief", "ratio": Decimal("0.1")}, {"tax_paid_12m": math.nan}, None),
        # 贴息 depends on interest yet to be paid: unknowable at matching time
        ({"kind": "interest_subsidy", "ratio": Decimal("0.5"), "cap": Decimal("1000")}, {}, None),
    ],
)
def test_estimate_amount(terms, row, expected):
    assert estimate_amount(_measure(**terms), row) == expected


def test_grade_vector_matches_order():
    cols = pd.DataFrame([_one_row(credit_grade=g) for g in c.CREDIT_GRADES])
    eligible, _unmet = evaluate_matrix(
        [[{"field": "credit_grade", "op": ">=", "value": "BBB"}]], cols
    )
    assert eligible[0].tolist() == [
        c.CREDIT_GRADES.index(g) <= c.CREDIT_GRADES.index("BBB") for g in c.CREDIT_GRADES
    ]
    assert np.count_nonzero(eligible) == 4
