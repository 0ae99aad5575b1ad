"""Enterprise size classification (中小企业划型标准规定, 2011)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xinrong.reference import size
from xinrong.reference.choices import SizeClass
from xinrong.reference.errors import ReferenceDataError

Y, R, A = size.EMPLOYEES, size.REVENUE, size.ASSETS

# The standard's table, written out independently of the module: category key, a sample
# industry code, indicators, and the (large, medium, small) lower bounds in indicator order.
STANDARD = [
    ("agriculture", "A01", (R,), (20000,), (500,), (50,)),
    ("industry", "C13", (Y, R), (1000, 40000), (300, 2000), (20, 300)),
    ("construction", "E47", (R, A), (80000, 80000), (6000, 5000), (300, 300)),
    ("wholesale", "F51", (Y, R), (200, 40000), (20, 5000), (5, 1000)),
    ("retail", "F52", (Y, R), (300, 20000), (50, 500), (10, 100)),
    ("transport", "G54", (Y, R), (1000, 30000), (300, 3000), (20, 200)),
    ("warehousing", "G59", (Y, R), (200, 30000), (100, 1000), (20, 100)),
    ("postal", "G60", (Y, R), (1000, 30000), (300, 2000), (20, 100)),
    ("accommodation", "H61", (Y, R), (300, 10000), (100, 2000), (10, 100)),
    ("catering", "H62", (Y, R), (300, 10000), (100, 2000), (10, 100)),
    ("information_transmission", "I63", (Y, R), (2000, 100000), (100, 1000), (10, 100)),
    ("software_it", "I65", (Y, R), (300, 10000), (100, 1000), (10, 50)),
    ("real_estate_development", "K7010", (R, A), (200000, 10000), (1000, 5000), (100, 2000)),
    ("property_management", "K7020", (Y, R), (1000, 5000), (300, 1000), (100, 500)),
    ("leasing_business", "L72", (Y, A), (300, 120000), (100, 8000), (10, 100)),
    ("other", "M73", (Y,), (300,), (100,), (10,)),
]
CLASSES = [SizeClass.LARGE, SizeClass.MEDIUM, SizeClass.SMALL]
NEXT_LOWER = {
    SizeClass.LARGE: SizeClass.MEDIUM,
    SizeClass.MEDIUM: SizeClass.SMALL,
    SizeClass.SMALL: SizeClass.MICRO,
}
ORDER = [SizeClass.MICRO, SizeClass.SMALL, SizeClass.MEDIUM, SizeClass.LARGE]

# One case per (category, class): the bounds of that class.
ROWS = [
    pytest.param(code, indicators, size_class, bounds[i], id=f"{key}-{size_class.value}")
    for key, code, indicators, *bounds in STANDARD
    for i, size_class in enumerate(CLASSES)
]


def per_indicator(*, two_indicators_only: bool = False) -> list[Any]:
    """Return one case per (category, class, indicator): that indicator just below its bound."""
    return [
        pytest.param(
            code, indicators, size_class, bounds[i], j, id=f"{key}-{size_class.value}-{indicator}"
        )
        for key, code, indicators, *bounds in STANDARD
        if len(indicators) == 2 or not two_indicators_only
        for i, size_class in enumerate(CLASSES)
        for j, indicator in enumerate(indicators)
    ]


def below(indicator: str, value: int) -> int | Decimal:
    """Return the value one unit below a bound: 1 person, or ¥100 (0.01 万元)."""
    return value - 1 if indicator == Y else Decimal(value) - Decimal("0.01")


def arguments(indicators, values) -> dict[str, Any]:
    """Return classify() keyword arguments with only the given indicators set."""
    given_values = dict(zip(indicators, values, strict=True))
    return {
        "employees": given_values.get(Y),
        "revenue": Decimal(given_values[R]) if R in given_values else None,
        "assets": Decimal(given_values[A]) if A in given_values else None,
    }


def test_module_table_is_the_standard():
    table = [
        (
            c.key,
            c.indicators,
            *(
                tuple(
                    {Y: b.employees, R: b.revenue, A: b.assets}[indicator]
                    for indicator in c.indicators
                )
                for b in c.bounds
            ),
        )
        for c in size.SIZE_CATEGORIES
    ]
    expected = [(key, ind, *bounds) for key, _code, ind, *bounds in STANDARD]
    assert table == expected


@pytest.mark.parametrize(("key", "code"), [(row[0], row[1]) for row in STANDARD])
def test_sample_code_falls_into_its_category(key, code):
    assert size.category_for(code).key == key


@pytest.mark.parametrize(
    ("code", "key"),
    [
        ("B06", "industry"),
        ("D46", "industry"),
        ("C", "industry"),
        ("53", "other"),  # 交通运输业 excludes 铁路运输业
        ("G58", "transport"),
        ("5910", "transport"),  # 装卸搬运 moved from 58 to 591 in GB/T 4754-2017
        ("5920", "warehousing"),
        ("59", "warehousing"),
        ("64", "information_transmission"),
        ("70", "other"),
        ("K", "other"),
        ("701", "real_estate_development"),
        ("7030", "other"),
        ("702", "property_management"),
        ("71", "leasing_business"),
        ("J66", "other"),
        ("P83", "other"),
    ],
)
def test_category_for(code, key):
    assert size.category_for(code).key == key


def test_category_for_unknown_code_is_an_error():
    with pytest.raises(ReferenceDataError) as info:
        size.category_for("C51")
    assert info.value.code == "industry_unknown"
    assert info.value.status == 422


@pytest.mark.parametrize(("code", "indicators", "size_class", "values"), ROWS)
def test_exactly_at_lower_bound_is_that_class(code, indicators, size_class, values):
    assert size.classify(code, **arguments(indicators, values)) == size_class


@pytest.mark.parametrize(("code", "indicators", "size_class", "values", "index"), per_indicator())
def test_one_unit_below_a_bound_is_the_next_lower_class(
    code, indicators, size_class, values, index
):
    kwargs = arguments(indicators, values)
    indicator = indicators[index]
    kwargs[indicator] = below(indicator, values[index])
    assert size.classify(code, **kwargs) == NEXT_LOWER[size_class]


@pytest.mark.parametrize(
    ("code", "indicators", "size_class", "values", "index"), per_indicator(two_indicators_only=True)
)
def test_meeting_only_one_of_two_indicators_is_the_next_lower_class(
    code, indicators, size_class, values, index
):
    # The other indicator is far above even the large bound; this one is just short.
    kwargs = arguments(indicators, values)
    other = indicators[1 - index]
    kwargs[other] = 100 * values[1 - index] if other == Y else Decimal(100 * values[1 - index])
    kwargs[indicators[index]] = below(indicators[index], values[index])
    assert size.classify(code, **kwargs) == NEXT_LOWER[size_class]


def test_examples_from_the_standard_text():
    assert size.classify("C13", 1000, Decimal(40000), None) == SizeClass.LARGE
    assert size.classify("C13", 5000, Decimal(1000), None) == SizeClass.SMALL
    assert size.classify("C13", 19, Decimal(100000), None) == SizeClass.MICRO
    assert size.classify("F52", 8, Decimal(80), None) == SizeClass.MICRO
    assert size.classify("A01", None, Decimal(49), None) == SizeClass.MICRO


def test_unused_indicators_may_be_missing():
    assert size.classify("A", None, Decimal(600), None) == SizeClass.MEDIUM
    assert size.classify("M73", 150, None, None) == SizeClass.MEDIUM


@pytest.mark.parametrize(
    ("code", "employees", "revenue", "assets", "missing"),
    [
        ("C13", None, Decimal(100), None, "employees"),
        ("C13", 10, None, None, "revenue"),
        ("E47", None, Decimal(100), None, "assets"),
        ("L72", 10, Decimal(100), None, "assets"),
        ("A01", 10, None, Decimal(5), "revenue"),
    ],
)
def test_missing_indicator_is_named(code, employees, revenue, assets, missing):
    with pytest.raises(ReferenceDataError) as info:
        size.classify(code, employees, revenue, assets)
    assert info.value.code == "size_missing_indicator"
    assert info.value.status == 422
    assert info.value.extra["field"] == missing
    name = {"employees": "从业人员", "revenue": "营业收入", "assets": "资产总额"}[missing]
    assert f"“{name}”" in info.value.message


def test_negative_indicator_is_an_error():
    with pytest.raises(ReferenceDataError) as info:
        size.classify("C13", -1, Decimal(100), None)
    assert info.value.code == "size_negative_indicator"


def test_int_revenue_is_accepted():
    assert size.classify("I65", 10, 50, None) == SizeClass.SMALL


def test_is_small_or_micro():
    assert size.is_small_or_micro(SizeClass.SMALL)
    assert size.is_small_or_micro("micro")
    assert not size.is_small_or_micro(SizeClass.MEDIUM)


def test_size_class_labels():
    assert [(c.value, str(c.label)) for c in SizeClass] == [
        ("large", "大型"),
        ("medium", "中型"),
        ("small", "小型"),
        ("micro", "微型"),
    ]


money = st.decimals(min_value=0, max_value=500000, places=2, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(
    row=st.sampled_from(STANDARD),
    employees=st.integers(min_value=0, max_value=5000),
    revenue=money,
    assets=money,
    bump=st.sampled_from([Y, R, A]),
)
def test_more_of_any_indicator_never_lowers_the_class(row, employees, revenue, assets, bump):
    code = row[1]
    kwargs = {"employees": employees, "revenue": revenue, "assets": assets}
    before = size.classify(code, **kwargs)
    kwargs[bump] = kwargs[bump] * 2 + 1
    assert ORDER.index(size.classify(code, **kwargs)) >= ORDER.index(before)
