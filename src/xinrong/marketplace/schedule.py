"""The repayment schedule's arithmetic: monthly instalments of a disbursed loan.

The schedule is computed in Decimal yuan rounded to the fen; the last instalment absorbs the
rounding so that principal sums exactly to the loan.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from xinrong.marketplace.choices import RepaymentMethod

FEN = Decimal("0.01")


@dataclass(frozen=True)
class Instalment:
    """One line of a repayment schedule."""

    seq: int
    due_on: dt.date
    principal: Decimal
    interest: Decimal

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest


def _fen(value: Decimal) -> Decimal:
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def add_months(day: dt.date, months: int) -> dt.date:
    """Return the same day ``months`` later, clamped to the month's last day (Jan 31 → Feb 28)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def schedule(
    *,
    principal: Decimal,
    annual_rate: Decimal,
    term_months: int,
    method: str,
    start: dt.date,
) -> list[Instalment]:
    """Return the monthly schedule of a loan disbursed on ``start`` (rate in percent a year)."""
    if principal <= 0 or term_months < 1 or annual_rate < 0:
        raise ValueError("principal, term and rate must be positive")
    r = annual_rate / Decimal(1200)  # monthly rate
    n = term_months
    dues = [add_months(start, k) for k in range(1, n + 1)]
    if method == RepaymentMethod.BULLET:
        return [Instalment(1, dues[-1], principal, _fen(principal * r * n))]
    lines: list[Instalment] = []
    left = principal
    if method == RepaymentMethod.EQUAL_INSTALMENT and r > 0:
        payment = _fen(principal * r * (1 + r) ** n / ((1 + r) ** n - 1))
        for k in range(n):
            interest = _fen(left * r)
            part = left if k == n - 1 else min(left, payment - interest)
            lines.append(Instalment(k + 1, dues[k], part, interest))
            left -= part
        return lines
    if method in (RepaymentMethod.EQUAL_PRINCIPAL, RepaymentMethod.EQUAL_INSTALMENT):
        share = _fen(principal / n)
        for k in range(n):
            part = left if k == n - 1 else share
            lines.append(Instalment(k + 1, dues[k], part, _fen(left * r)))
            left -= part
        return lines
    # interest first (先息后本) and flexible (随借随还, scheduled as interest first)
    interest = _fen(principal * r)
    return [
        Instalment(k + 1, dues[k], principal if k == n - 1 else Decimal("0.00"), interest)
        for k in range(n)
    ]
