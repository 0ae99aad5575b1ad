"""The total cost of financing (综合融资成本) of a loan, alone or with a guarantee or insurance.

What a small firm pays for a loan is more than its interest: a guarantee company charges a
guarantee fee (担保费) and an insurer a premium (保费) for the credit enhancement the lender asks
for, and a lender may charge other fees (评估费、手续费…). 融资贵 is about the sum. The platform
shows it as one **annual rate on the loan amount**, in percent:

    综合融资成本（年化，%） = 贷款年利率
                           + 担保费率或保费率（年化）
                           + 其他费用 ÷ 贷款金额 ÷ (期限月数 ÷ 12) × 100

- 贷款年利率: the loan product's annual rate, in % (simple, as products quote it);
- 担保费率/保费率: the guarantee or insurance product's fee, which the platform records as an
  annual rate on the loan amount, in % (the ``rate_min``/``rate_max`` of a guarantee-type
  product); 0 without credit enhancement;
- 其他费用: one-off fees in yuan over the whole term, spread evenly over the term's years. The
  catalogue does not record other fees yet, so pages pass 0 and say so.

A government interest subsidy (贴息) paid toward a disbursed loan lowers what the firm bears; it
is annualised the same way as other fees and subtracted (``loan_cost``):

    综合融资成本（扣除贴息） = 综合融资成本 − 已获贴息 ÷ 贷款金额 ÷ (期限月数 ÷ 12) × 100

Everything is Decimal; the result is rounded half-up to 0.01 percentage point. A product quotes a
range (lowest–highest), so a combination's cost is a range too: lowest with lowest, highest with
highest (``cost_range``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

HUNDREDTH = Decimal("0.01")
ZERO = Decimal("0")


def financing_cost(
    *,
    annual_rate: Decimal,
    fee_rate: Decimal = ZERO,
    other_fees: Decimal = ZERO,
    amount: Decimal | None = None,
    term_months: int | None = None,
) -> Decimal:
    """Return the total annual cost of financing in %, per the module's formula.

    ``annual_rate`` and ``fee_rate`` are annual percentages; ``other_fees`` is in yuan over the
    whole term and needs ``amount`` (yuan, > 0) and ``term_months`` (> 0) to be annualised.
    """
    total = Decimal(annual_rate) + Decimal(fee_rate)
    if other_fees:
        if not amount or amount <= 0 or not term_months or term_months <= 0:
            raise ValueError("other fees need a positive amount and term to be annualised")
        years = Decimal(term_months) / Decimal(12)
        total += Decimal(other_fees) / Decimal(amount) / years * Decimal(100)
    return total.quantize(HUNDREDTH, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class CostRange:
    """A combination's total cost as a range (lowest–highest), and its parts."""

    low: Decimal
    high: Decimal
    rate_low: Decimal
    rate_high: Decimal
    fee_low: Decimal = ZERO
    fee_high: Decimal = ZERO

    @property
    def has_fee(self) -> bool:
        return bool(self.fee_low or self.fee_high)


def cost_range(
    *,
    rate_min: Decimal,
    rate_max: Decimal,
    fee_min: Decimal = ZERO,
    fee_max: Decimal = ZERO,
) -> CostRange:
    """Return the cost range of a loan product (rates in %) with an optional fee range (in %)."""
    return CostRange(
        low=financing_cost(annual_rate=rate_min, fee_rate=fee_min),
        high=financing_cost(annual_rate=rate_max, fee_rate=fee_max),
        rate_low=Decimal(rate_min),
        rate_high=Decimal(rate_max),
        fee_low=Decimal(fee_min),
        fee_high=Decimal(fee_max),
    )


def _annualised(money: Decimal, amount: Decimal, term_months: int) -> Decimal:
    """Return yuan over the whole term as an annual % of the loan amount (unrounded)."""
    if not amount or amount <= 0 or not term_months or term_months <= 0:
        raise ValueError("a sum needs a positive amount and term to be annualised")
    return Decimal(money) / Decimal(amount) / (Decimal(term_months) / Decimal(12)) * Decimal(100)


@dataclass(frozen=True)
class LoanCost:
    """A disbursed loan's total cost of financing (annual %), before and after its subsidies."""

    annual_rate: Decimal
    fee_rate: Decimal
    gross: Decimal  # interest rate + fee rate, in %
    subsidy_total: Decimal  # yuan of 贴息 recorded on the loan
    subsidy_rate: Decimal  # the subsidy annualised, in % (rounded to 0.01)
    net: Decimal  # what the firm bears, in %

    @property
    def has_subsidy(self) -> bool:
        return self.subsidy_total > 0


def loan_cost(
    *,
    annual_rate: Decimal,
    principal: Decimal,
    term_months: int,
    subsidy_total: Decimal = ZERO,
    fee_rate: Decimal = ZERO,
) -> LoanCost:
    """Return a loan's cost of financing with its interest subsidies (贴息) subtracted.

    The subsidy in yuan is spread evenly over the loan's term like other fees and subtracted from
    the rate; the net cost never goes below 0. Rounded half-up to 0.01 percentage point.
    """
    gross = financing_cost(annual_rate=annual_rate, fee_rate=fee_rate)
    subsidy_total = Decimal(subsidy_total)
    raw = _annualised(subsidy_total, principal, term_months) if subsidy_total else ZERO
    net = (Decimal(annual_rate) + Decimal(fee_rate) - raw).quantize(
        HUNDREDTH, rounding=ROUND_HALF_UP
    )
    return LoanCost(
        annual_rate=Decimal(annual_rate),
        fee_rate=Decimal(fee_rate),
        gross=gross,
        subsidy_total=subsidy_total,
        subsidy_rate=raw.quantize(HUNDREDTH, rounding=ROUND_HALF_UP),
        net=max(net, ZERO.quantize(HUNDREDTH)),
    )
