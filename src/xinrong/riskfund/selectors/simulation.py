"""Reads of the sufficiency simulator: the fund's loan book as columns, recoveries, saved runs.

The loan book is read in one query as columns (``values_list``) and judged with NumPy masks,
never loan by loan through the ORM: a province-scale book has hundreds of thousands of loans.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
from django.db.models import F, OuterRef, Q, QuerySet, Subquery, Sum
from django.shortcuts import get_object_or_404

from xinrong.accounts.permissions import is_operator_admin, is_superuser, require
from xinrong.riskfund.choices import ClaimStatus, FundStatus, LoanKind, RecoveryStatus
from xinrong.riskfund.models import Claim, Fund, Recovery, RuleSet, Simulation
from xinrong.riskfund.rules.simulation import fund_scope_q, is_fund_approver

DEFAULT_LGD = 0.6  # without enough paid claims: 40% of a compensated loss comes back
MIN_CLAIMS_FOR_LGD = 5  # fewer paid claims than this say too little about recoveries
DEFAULT_PD = 0.03  # a borrower without a credit profile
# the score scale of a card without an active model (credit.scorecard.Scorecard's defaults)
DEFAULT_SCALE = {"base_points": 600.0, "base_odds": 50.0, "pdo": 20.0}


@dataclass
class Portfolio:
    """A fund's outstanding platform loans, one array element per loan."""

    loan_id: np.ndarray  # int64
    entity_id: np.ndarray  # int64
    exposure: np.ndarray  # float64 yuan: the outstanding balance
    principal: np.ndarray  # float64 yuan: the loan amount the cap is judged on
    entity_type: np.ndarray  # str
    size_class: np.ndarray  # str ("" unknown)
    credit: np.ndarray  # bool: an unsecured credit loan (信用贷款)
    first: np.ndarray  # bool: the borrower's first loan (首贷)
    pd: np.ndarray  # float64: probability of default within a year
    scored: np.ndarray  # bool: pd from a credit profile (else DEFAULT_PD)
    pending: np.ndarray  # bool: already defaulted, not yet compensated (a payout ahead)

    def __len__(self) -> int:
        return int(self.loan_id.size)

    def take(self, rows: np.ndarray) -> Portfolio:
        """The portfolio of the given rows (in that order, repeats allowed)."""
        return Portfolio(**{k: v[rows] for k, v in self.__dict__.items()})


def score_scale() -> dict[str, float]:
    """The active scoring model's scale (base points, base odds, points to double the odds)."""
    from xinrong.credit.selectors.scoring import model_active

    model = model_active()
    card = model.card if model is not None else {}
    return {k: float(card.get(k, v)) for k, v in DEFAULT_SCALE.items()}


def pd_from_score(score: np.ndarray, scale: dict[str, float]) -> np.ndarray:
    """PD = 1 / (1 + odds), odds = exp(log-odds of the score) (credit.scorecard.log_odds)."""
    factor = scale["pdo"] / math.log(2)
    offset = scale["base_points"] - factor * math.log(scale["base_odds"])
    log_odds = (np.asarray(score, dtype=np.float64) - offset) / factor
    return 1.0 / (1.0 + np.exp(np.clip(log_odds, -50, 50)))


def fund_loans_q(fund: Fund) -> Q:
    """The loans a fund answers for: its region's, less those of a more specific active fund
    (格尔木's loans are the Golmud fund's, not the province's) — as ``eligibility.fund_for``."""
    q = Q(entity__division_code__startswith=fund.division_code)
    inner = (
        Fund.objects.filter(status=FundStatus.ACTIVE, division_code__startswith=fund.division_code)
        .exclude(pk=fund.pk)
        .values_list("division_code", flat=True)
    )
    for code in inner:
        if len(code) > len(fund.division_code):
            q &= ~Q(entity__division_code__startswith=code)
    return q


def fund_portfolio(fund: Fund) -> Portfolio:
    """The fund's outstanding platform loans (not settled) as columns, in one query."""
    from xinrong.credit.models import CreditProfile
    from xinrong.marketplace.choices import LoanStatus, ProductType
    from xinrong.marketplace.models import Loan

    latest = CreditProfile.objects.filter(entity_id=OuterRef("entity_id"), is_latest=True)
    rows = list(
        Loan.objects.filter(fund_loans_q(fund))
        .exclude(status=LoanStatus.SETTLED)
        .annotate(score=Subquery(latest.values("score")[:1]))
        .values_list(
            "id",
            "entity_id",
            "outstanding",
            "principal",
            "entity__entity_type",
            "entity__size_class",
            "application__product_version__product_type",
            "first_loan",
            "status",
            "score",
        )
        .order_by("id")
    )
    paid = Claim.objects.filter(fund=fund, status=ClaimStatus.PAID).values_list(
        "loan_id", flat=True
    )
    if not rows:
        empty = np.zeros(0)
        return Portfolio(
            empty.astype(np.int64),
            empty.astype(np.int64),
            empty,
            empty,
            empty.astype(str),
            empty.astype(str),
            empty.astype(bool),
            empty.astype(bool),
            empty,
            empty.astype(bool),
            empty.astype(bool),
        )
    cols = list(zip(*rows, strict=True))
    loan_id = np.array(cols[0], dtype=np.int64)
    score = np.array([np.nan if s is None else s for s in cols[9]], dtype=np.float64)
    scored = ~np.isnan(score)
    pd = np.full(loan_id.size, DEFAULT_PD)
    pd[scored] = pd_from_score(score[scored], score_scale())
    status = np.array(cols[8], dtype=str)
    defaulted = status == "defaulted"
    return Portfolio(
        loan_id=loan_id,
        entity_id=np.array(cols[1], dtype=np.int64),
        exposure=np.array(cols[2], dtype=np.float64),
        principal=np.array(cols[3], dtype=np.float64),
        entity_type=np.array(cols[4], dtype=str),
        size_class=np.array([s or "" for s in cols[5]], dtype=str),
        credit=np.array([t == ProductType.CREDIT for t in cols[6]], dtype=bool),
        first=np.array(cols[7], dtype=bool),
        pd=pd,
        scored=scored,
        pending=defaulted & ~np.isin(loan_id, np.fromiter(paid, dtype=np.int64)),
    )


def eligible_mask(
    p: Portfolio,
    *,
    entity_types: list[str],
    sizes: list[str],
    loan_kinds: list[str],
    loan_cap: float,
) -> np.ndarray:
    """Which loans a rule set covers: ``eligibility.judge`` over columns (same conditions)."""
    ok = np.isin(p.entity_type, entity_types)
    if sizes:
        enterprise = p.entity_type == "enterprise"
        ok &= ~enterprise | np.isin(p.size_class, sizes)
    if LoanKind.ANY not in loan_kinds:
        kind = np.zeros(len(p), dtype=bool)
        if LoanKind.CREDIT in loan_kinds:
            kind |= p.credit
        if LoanKind.FIRST in loan_kinds:
            kind |= p.first
        ok &= kind
    ok &= p.principal <= loan_cap
    return ok


def recovery_rate(fund: Fund) -> tuple[float | None, int]:
    """Share of the fund's paid losses that came back (confirmed recoveries ÷ paid claims'
    losses), and the number of paid claims it rests on; None without paid claims."""
    paid = Claim.objects.filter(fund=fund, status=ClaimStatus.PAID).aggregate(
        loss=Sum(F("loss_principal") + F("loss_interest")), n=Sum(1)
    )
    n = int(paid["n"] or 0)
    loss = paid["loss"] or Decimal(0)
    if n == 0 or loss <= 0:
        return None, n
    back = Recovery.objects.filter(
        claim__fund=fund, claim__status=ClaimStatus.PAID, status=RecoveryStatus.CONFIRMED
    ).aggregate(s=Sum("amount"))["s"] or Decimal(0)
    return min(float(back / loss), 1.0), n


def default_lgd(fund: Fund) -> tuple[float, str]:
    """The LGD the form starts with, and where it comes from (in words)."""
    rate, n = recovery_rate(fund)
    if rate is None or n < MIN_CLAIMS_FOR_LGD:
        return DEFAULT_LGD, "default"
    return round(1.0 - rate, 4), "claims"


def rules_today(fund: Fund, today: Any) -> RuleSet | None:
    from xinrong.riskfund.eligibility import rules_in_force

    return rules_in_force(fund, today)


def simulation_funds(user: Any) -> QuerySet[Fund]:
    """The active funds the user may simulate."""
    q = fund_scope_q(user)
    if q is None or not (is_operator_admin(user) or is_fund_approver(user) or is_superuser(user)):
        return Fund.objects.none()
    return Fund.objects.filter(q, status=FundStatus.ACTIVE).order_by("division_code", "id")


def simulation_list(user: Any) -> QuerySet[Simulation]:
    """The saved simulations the user may read, newest first."""
    require(user, "riskfund.simulation_view")
    return Simulation.objects.restrict(user).select_related("fund", "created_by")


def simulation_get(user: Any, pk: int) -> Simulation:
    """One saved simulation the user may read (404 otherwise, 403 without the permission)."""
    return get_object_or_404(simulation_list(user), pk=pk)
