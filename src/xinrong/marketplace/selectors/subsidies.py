"""Reads of the interest subsidies (贴息) on loans and the cost of financing after them."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import QuerySet, Sum

from xinrong.marketplace.costs import LoanCost, loan_cost
from xinrong.marketplace.models import Loan, LoanSubsidy


def loan_subsidies(*, loan: Loan) -> QuerySet[LoanSubsidy]:
    """Return the subsidies recorded on the loan, oldest period first."""
    return LoanSubsidy.objects.filter(loan=loan).order_by("period_start", "id")


def loan_subsidy_total(*, loan: Loan) -> Decimal:
    """Return the yuan of interest subsidy recorded on the loan."""
    return LoanSubsidy.objects.filter(loan=loan).aggregate(s=Sum("amount"))["s"] or Decimal("0")


def loan_cost_of(*, loan: Loan) -> LoanCost:
    """Return the loan's cost of financing with its recorded subsidies subtracted."""
    return loan_cost(
        annual_rate=loan.annual_rate,
        principal=loan.principal,
        term_months=loan.term_months,
        subsidy_total=loan_subsidy_total(loan=loan),
    )
