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
