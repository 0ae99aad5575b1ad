"""The circuit breaker (熔断): an institution's compensation is suspended while the
non-performing ratio of its platform loans in the fund's region is above the rules' threshold.

Non-performing (不良): a defaulted loan, or one overdue more than 90 days; the ratio is their
outstanding over the outstanding of all its loans not settled, in percent, two places.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q, Sum
from django.utils import timezone

from xinrong.riskfund.eligibility import rules_in_force
from xinrong.riskfund.models import Fund

NPL_OVERDUE_DAYS = 90
HUNDRED = Decimal("100")


@dataclass(frozen=True)
class Breaker:
    """One institution's standing under one fund."""

    institution_id: int
    ratio: Decimal  # percent, two places
    outstanding: Decimal
    non_performing: Decimal
    threshold: Decimal | None  # None: the rules set no breaker

    @property
    def tripped(self) -> bool:
        return self.threshold is not None and self.ratio > self.threshold


def npl_ratios(fund: Fund, institution_ids: Iterable[int] | None = None) -> dict[int, Breaker]:
    """Each institution's non-performing ratio over its platform loans in the fund's region, and
    the threshold of the rules in force today; one grouped query."""
    from xinrong.marketplace.choices import LoanStatus
    from xinrong.marketplace.models import Loan

    rules = rules_in_force(fund, timezone.localdate())
    threshold = rules.breaker_threshold if rules is not None else None
    loans = Loan.objects.filter(entity__division_code__startswith=fund.division_code).exclude(
        status=LoanStatus.SETTLED
    )
    if institution_ids is not None:
        loans = loans.filter(institution_id__in=list(institution_ids))
    bad = Q(status=LoanStatus.DEFAULTED) | Q(overdue_days__gt=NPL_OVERDUE_DAYS)
    rows = loans.values("institution_id").annotate(
        total=Sum("outstanding"), npl=Sum("outstanding", filter=bad)
    )
    out: dict[int, Breaker] = {}
    for r in rows:
        total = r["total"] or Decimal("0")
        npl = r["npl"] or Decimal("0")
        ratio = (
            (npl * HUNDRED / total).quantize(Decimal("0.01"), ROUND_HALF_UP)
            if total
            else Decimal("0.00")
        )
        out[r["institution_id"]] = Breaker(r["institution_id"], ratio, total, npl, threshold)
    return out


def breaker_for(fund: Fund, institution_id: int) -> Breaker:
    """The institution's standing under the fund (an institution without loans: ratio 0)."""
    found = npl_ratios(fund, [institution_id]).get(institution_id)
    if found is not None:
        return found
    rules = rules_in_force(fund, timezone.localdate())
    return Breaker(
        institution_id,
        Decimal("0.00"),
        Decimal("0"),
        Decimal("0"),
        rules.breaker_threshold if rules is not None else None,
    )
