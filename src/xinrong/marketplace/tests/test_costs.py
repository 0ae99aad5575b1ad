"""综合融资成本: interest + guarantee or insurance fee + other fees as an annual rate (by hand)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from xinrong.marketplace.costs import cost_range, financing_cost

D = Decimal


def test_interest_alone_is_the_rate():
    assert financing_cost(annual_rate=D("4.35")) == D("4.35")


def test_guarantee_fee_adds_to_the_interest():
    # 4.35% interest + 1.2% a year guarantee fee = 5.55%
    assert financing_cost(annual_rate=D("4.35"), fee_rate=D("1.2")) == D("5.55")


@pytest.mark.parametrize(
    ("months", "expected"),
    [
        # 3,000 yuan on 800,000 over 1 year: 3000 / 800000 / 1 × 100 = 0.375 → 4.35+1.2+0.375
        # = 5.925 → 5.93 (half up)
        (12, D("5.93")),
        # over 2 years: 0.1875 a year → 5.7375 → 5.74
        (24, D("5.74")),
        # over half a year: 0.75 a year → 6.30
        (6, D("6.30")),
    ],
)
def test_other_fees_are_spread_over_the_term_in_years(months, expected):
    cost = financing_cost(
        annual_rate=D("4.35"),
        fee_rate=D("1.2"),
        other_fees=D("3000"),
        amount=D("800000"),
        term_months=months,
    )
    assert cost == expected


def test_other_fees_need_amount_and_term():
    with pytest.raises(ValueError):
        financing_cost(annual_rate=D("4"), other_fees=D("100"))


def test_a_range_pairs_lowest_with_lowest():
    # loan 3.85%–5.20%, guarantee 0.65%–0.90% → 4.50%–6.10%
    c = cost_range(rate_min=D("3.85"), rate_max=D("5.20"), fee_min=D("0.65"), fee_max=D("0.9"))
    assert (c.low, c.high) == (D("4.50"), D("6.10"))
    assert c.has_fee and c.rate_low == D("3.85") and c.fee_high == D("0.9")
    alone = cost_range(rate_min=D("3.85"), rate_max=D("5.20"))
    assert (alone.low, alone.high, alone.has_fee) == (D("3.85"), D("5.20"), False)
