"""The loan application's lifecycle as data, and the repayment schedule's arithmetic.

``TRANSITIONS`` is the single table both the services and the tests read: an action moves an
application from one of its ``sources`` to ``target`` and only a user holding one of ``roles`` on
the right side may take it (the enterprise's own users, or the lending institution's staff).
``SYSTEM`` marks actions the platform itself takes (the overdue sweep) besides people.

The schedule is computed in Decimal yuan rounded to the fen; the last instalment absorbs the
rounding so that principal sums exactly to the loan.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from xinrong.accounts.choices import Role
from xinrong.marketplace.choices import ApplicationStatus as S
from xinrong.marketplace.choices import RepaymentMethod

ENTERPRISE = "enterprise"
INSTITUTION = "institution"
FEN = Decimal("0.01")
ENTERPRISE_ROLES = frozenset({Role.ENTERPRISE_OWNER, Role.ENTERPRISE_AGENT})
OFFICER_ROLES = frozenset({Role.LOAN_OFFICER, Role.INSTITUTION_ADMIN})
# Credit decisions are the reviewer's (审贷分离): the officer who took the file does not approve it.
REVIEWER_ROLES = frozenset({Role.REVIEWER, Role.INSTITUTION_ADMIN})


@dataclass(frozen=True)
class Transition:
    """One allowed move: from which statuses, to which, by whom."""

    action: str
    sources: tuple[str, ...]
    target: str
    side: str
    roles: frozenset[str]
    label: Any
    system: bool = False


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition("accept", (S.SUBMITTED,), S.ACCEPTED, INSTITUTION, OFFICER_ROLES, _("受理")),
        Transition(
            "review", (S.ACCEPTED,), S.UNDER_REVIEW, INSTITUTION, OFFICER_ROLES, _("提交审批")
        ),
        Transition(
            "approve", (S.UNDER_REVIEW,), S.APPROVED, INSTITUTION, REVIEWER_ROLES, _("批准")
        ),
        Transition(
            "reject",
            (S.SUBMITTED, S.ACCEPTED, S.UNDER_REVIEW),
            S.REJECTED,
            INSTITUTION,
            OFFICER_ROLES | REVIEWER_ROLES,
            _("拒绝"),
        ),
        Transition(
            "sign", (S.APPROVED,), S.CONTRACT_SIGNED, INSTITUTION, OFFICER_ROLES, _("登记签约")
        ),
        Transition(
            "disburse",
            (S.CONTRACT_SIGNED,),
            S.DISBURSED,
            INSTITUTION,
            OFFICER_ROLES,
            _("登记放款"),
        ),
        # the target of a repayment is decided by what remains: repaying or settled
        Transition(
            "repay",
            (S.DISBURSED, S.REPAYING, S.OVERDUE, S.DEFAULTED),
            S.REPAYING,
            INSTITUTION,
            OFFICER_ROLES,
            _("登记还款"),
        ),
        Transition(
            "overdue",
            (S.DISBURSED, S.REPAYING),
            S.OVERDUE,
            INSTITUTION,
            OFFICER_ROLES,
            _("标记逾期"),
            system=True,
        ),
        Transition(
            "default", (S.OVERDUE,), S.DEFAULTED, INSTITUTION, REVIEWER_ROLES, _("认定违约")
        ),
        Transition(
            "withdraw",
            (S.SUBMITTED, S.ACCEPTED, S.UNDER_REVIEW),
            S.WITHDRAWN,
            ENTERPRISE,
            ENTERPRISE_ROLES,
            _("撤回申请"),
        ),
    )
}


def actions_from(status: str) -> list[Transition]:
    """Return the transitions leaving ``status`` (for buttons and the API's hints)."""
    return [t for t in TRANSITIONS.values() if status in t.sources]


# ---------------------------------------------------------------- repayment schedule


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
