"""A generated population of small firms pushed through the platform's doors, and the measures.

Used by ``test_population.py`` (a small population) and ``benchmarks/population_bench.py``
(20,000 firms). Nothing here writes to the database except through the doors a deployment
uses: the registry delivery (datahub category ``registry``), each department's delivery
(``datahub.services.ingest.batch_ingest`` on generated CSV files), and the signed bank API's
loan-history import; then ``scoring.model_train(outcomes="platform")``.

The generating process (documented in docs/credit-scoring.md, "Measured on a generated
population"), per firm i of segment s (individual business 个体工商户, ~74%, USCC prefix 92; or
enterprise):

* a latent quality q_i ~ N(0, 1) drives most observed facts, so they are correlated;
* the reference date is the loan's snapshot (month end before disbursement) for a borrower,
  the month end before ``as_of`` for the others; departments deliver the records of the 24
  months up to it (and dated events of the 36 months before it);
* observed facts: years in business, registered capital, employees and insured headcount (equal
  to employees for most insured firms: a duplicate input), tax (enterprises monthly, individual
  businesses quarterly or annual or none), tax credit grade (often missing for individual
  businesses), social security, electricity bills (some with the amount missing), tax, social
  and utility arrears, administrative penalties (~20%), court cases, 失信 flags (rare), the
  abnormal-operation list, patents (enterprises only);
* the true probability of default within 12 months of disbursement is

      PD_i = 1 / (1 + exp(-(α_s + Σ_k β_{s,k} g_k(x_ik) + Σ_k μ_{s,k} [x_ik missing])))

  with β and μ in ``TRUE_MODEL`` below (different per segment; a missing value has its own
  effect μ, e.g. an enterprise with no tax grade is riskier than one graded C), computed from
  the facts exactly as delivered (tax paid in the 12 months up to the snapshot, etc.), and α_s
  set so that the mean PD of the segment's borrowers is ``BAD_RATE[s]``;
* a borrower's loan (disbursed 12–36 months before ``as_of`` by default) defaults with
  probability PD_i: it then misses a due date within its first 8 months, is 30/60/90 days
  overdue and is declared in default 120 days after the missed date (if that is before
  ``as_of``); a good loan pays the platform's own schedule (``marketplace.schedule``; a few
  instalments some days late) and is settled on its last payment.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import importlib.util
import io
import json
import random
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

# ---------------------------------------------------------------- the true model

SEGMENTS = ("individual", "enterprise")
BAD_RATE = {"individual": 0.10, "enterprise": 0.07}


def _log1p(v: np.ndarray) -> np.ndarray:
    return np.log1p(np.maximum(v, 0.0))


def _log1p_thousands(v: np.ndarray) -> np.ndarray:
    return np.log1p(np.maximum(v, 0.0) * 10.0)  # 万元 → 千元


def _cap(c: float) -> Callable[[np.ndarray], np.ndarray]:
    return lambda v: np.minimum(v, c)


def _grade(v: np.ndarray) -> np.ndarray:
    return v - 3.0  # A=5 … D=1, M=3 at 0


def _ident(v: np.ndarray) -> np.ndarray:
    return v


# variable: (transform, β individual, β enterprise, μ individual, μ enterprise)
# μ is the effect of the value being missing (the transform's term is then 0).
TRUE_MODEL: dict[str, tuple[Callable[[np.ndarray], np.ndarray], float, float, float, float]] = {
    "years_in_business": (_log1p, -0.70, -0.80, 0.0, 0.0),
    "registered_capital": (_log1p, 0.0, -0.20, 0.0, 0.50),  # 万元; individual: no effect
    "employees": (_log1p, -0.30, -0.20, 0.0, 0.0),
    "insured_headcount": (_log1p, -0.20, -0.45, 0.30, 1.00),  # missing = no social security
    "tax_paid_12m": (_log1p_thousands, -0.45, -0.50, 0.60, 1.60),  # 万元; missing = no tax rows
    "tax_grade": (_grade, -0.50, -0.70, 0.20, 1.00),  # missing grade: enterprise worse than C
    "tax_arrears_months": (_cap(12.0), 0.40, 0.45, 0.0, 0.0),
    "social_arrears_months": (_cap(12.0), 0.22, 0.25, 0.0, 0.0),
    "utility_arrears_months": (_cap(12.0), 0.50, 0.40, 0.0, 0.0),
    "utility_billed_12m": (_log1p_thousands, -0.50, -0.15, 0.50, 0.20),  # 万元; amount missing
    "penalties_general": (_cap(5.0), 0.60, 0.50, 0.0, 0.0),
    "penalties_serious": (_cap(3.0), 1.40, 1.20, 0.0, 0.0),
    "cases_defendant_36m": (_cap(6.0), 0.70, 0.55, 0.0, 0.0),
    "dishonest": (_ident, 2.50, 2.20, 0.0, 0.0),
    "abnormal_listed": (_ident, 1.40, 1.40, 0.0, 0.0),
    "ip_count": (_log1p, 0.0, -0.35, 0.0, 0.0),
}


def true_logit(truth: pd.DataFrame, segment: np.ndarray) -> np.ndarray:
    """Σ β g(x) + μ [missing] of every firm (without the intercept α)."""
    ent = segment == "enterprise"
    z = np.zeros(len(truth))
    for name, (g, b_ind, b_ent, m_ind, m_ent) in TRUE_MODEL.items():
        x = truth[name].to_numpy(dtype=np.float64)
        missing = np.isnan(x)
        term = g(np.where(missing, 0.0, x))
        beta = np.where(ent, b_ent, b_ind)
        mu = np.where(ent, m_ent, m_ind)
        z += np.where(missing, mu, beta * term)
    return z


def _sigmoid(v: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-v))


def _calibrate(z: np.ndarray, target: float) -> float:
    lo, hi = -20.0, 20.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if np.mean(_sigmoid(mid + z)) > target:
            hi = mid
        else:
            lo = mid
    return (lo + hi) / 2


# ---------------------------------------------------------------- dates


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    y, m = divmod(index, 12)
    return dt.date(y, m + 1, min(day.day, calendar.monthrange(y, m + 1)[1]))


def _period(day: dt.date, back: int) -> str:
    """ "YYYY-MM" of the month ``back`` months before ``day``'s month."""
    index = day.year * 12 + day.month - 1 - back
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


# ---------------------------------------------------------------- the population


@dataclass
class Population:
    """Generated firms, their deliveries and loans, and the truth about them."""

    as_of: dt.date
    seed: int
    firms: pd.DataFrame  # one row per firm: uscc, segment, borrower, holdout, snapshot, pd, bad…
    truth: pd.DataFrame  # the variables of TRUE_MODEL per firm, as delivered (NaN = missing)
    registry: list[dict[str, str]]
    deliveries: dict[str, list[dict[str, str]]]  # category → rows (keys of the template)
    loans: list[dict[str, Any]]  # loan-history payload items
    holdout_loans: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return len(self.registry) + sum(len(r) for r in self.deliveries.values())


SEVERITIES = ("minor", "general", "serious")
CAUSES = ("买卖合同纠纷", "借款合同纠纷", "租赁合同纠纷", "劳动争议", "建设工程施工合同纠纷")
REPAYMENT_METHODS = ("equal_instalment", "interest_first", "bullet")
IP_KINDS = ("invention", "utility_model", "design", "trademark")


def generate(
    n: int,
    *,
    seed: int = 20261,
    as_of: dt.date,
    borrower_share: float = 0.5,
    holdout_share: float = 0.5,
    utility_amount_missing: float = 0.12,
    loan_months: int = 24,
) -> Population:
    """Generate ``n`` firms the platform has never seen (seeded; see the module docstring).

    Half the borrowers (``holdout_share``) are held out: their loans are pushed after the
    model is trained, so the model never sees their outcomes. Loans are disbursed over the
    ``loan_months`` months that end a year (and a few days) before ``as_of``, so that every
    loan's 12-month outcome is known; each disbursement month is one snapshot date of the
    features (fewer months, a faster test).
    """
    from xinrong.reference import idcard
    from xinrong.web.seed import registry as seed_registry

    rng = random.Random(seed)
    npr = np.random.default_rng(seed)
    identities = list(seed_registry._generate_entities(rng, n, seed_registry.PREFECTURE_WEIGHTS))
    ind = np.array([e.uscc.startswith("92") for e in identities])
    segment = np.where(ind, "individual", "enterprise")
    q = npr.normal(size=n)
    borrower = npr.random(n) < _sigmoid(np.log(borrower_share / (1 - borrower_share)) + 0.4 * q)
    holdout = borrower & (npr.random(n) < holdout_share)

    # reference dates: the month end before disbursement (borrowers), before as_of (others)
    last_day = as_of - dt.timedelta(days=370)  # the 12-month window must be over by as_of
    first_day = _add_months(as_of, -12 - loan_months)
    span = (last_day - first_day).days
    disbursed = [
        first_day + dt.timedelta(days=int(npr.integers(0, span))) if b else None for b in borrower
    ]
    snapshot = [
        (d.replace(day=1) if d else as_of.replace(day=1)) - dt.timedelta(days=1) for d in disbursed
    ]

    years = np.where(
        ind,
        np.exp(npr.normal(1.4 + 0.15 * q, 0.7)),
        np.exp(npr.normal(1.9 + 0.2 * q, 0.7)),
    )
    years = np.clip(years, 0.3, 30.0)
    employees = np.where(
        ind,
        np.minimum(1 + npr.poisson(1.2 + 0.4 * np.maximum(q, 0)), 8),
        np.maximum(1, np.exp(npr.normal(2.0 + 0.3 * q, 0.9)).astype(int)),
    ).astype(int)
    capital_wan = np.where(
        ind,
        np.where(npr.random(n) < 0.5, np.nan, npr.choice([1, 2, 3, 5, 10, 20, 50], n)),
        npr.choice([10, 50, 100, 200, 300, 500, 1000, 2000], n) * np.exp(0.3 * q).round(1),
    )
    capital_wan = np.where(~ind & (npr.random(n) < 0.03), np.nan, capital_wan)  # not delivered

    # social security: most enterprises, few individual businesses; often insured == employees
    has_social = npr.random(n) < np.where(ind, 0.15, 0.85)
    same = npr.random(n) < 0.65
    insured = np.where(
        same, employees, np.maximum(1, np.rint(employees * npr.uniform(0.4, 1.0, n)))
    ).astype(int)
    social_arrears = has_social & (npr.random(n) < _sigmoid(-2.4 - 0.8 * q))
    social_arrears_months = np.where(social_arrears, npr.integers(1, 10, n), 0)

    # tax: enterprises monthly, individual businesses quarterly / annual / none
    mode_draw = npr.random(n)
    tax_mode = np.where(
        ind,
        np.where(mode_draw < 0.45, "quarterly", np.where(mode_draw < 0.70, "annual", "none")),
        np.where(mode_draw < 0.96, "monthly", "none"),
    )
    annual_tax = np.where(
        ind,
        np.exp(npr.normal(7.6 + 0.6 * q, 0.7)),
        np.exp(npr.normal(9.6 + 0.8 * q + 0.4 * np.log(employees), 0.6)),
    )
    growth = np.exp(npr.normal(0.05 + 0.12 * q, 0.2))
    has_grade = (tax_mode != "none") & (npr.random(n) < np.where(ind, 0.35, 0.90))
    grade_score = 0.9 * q + npr.normal(0, 0.6, n)
    grade = np.select(
        [grade_score > 1.0, grade_score > -0.1, grade_score > -0.8, grade_score > -1.6],
        ["A", "B", "M", "C"],
        "D",
    )
    grade = np.where(years < 1.0, "M", grade)  # a new taxpayer is graded M
    tax_arrears = (tax_mode != "none") & (npr.random(n) < _sigmoid(-3.0 - 0.9 * q))

    # electricity bills, some delivered without the amount
    has_utility = npr.random(n) < np.where(ind, 0.75, 0.65)
    bill_missing = has_utility & (npr.random(n) < utility_amount_missing)
    monthly_bill = np.exp(npr.normal(5.6 + 0.25 * q + 0.3 * np.log(employees), 0.5))
    utility_arrears = has_utility & (npr.random(n) < _sigmoid(-3.0 - 0.7 * q))
    utility_arrears_months = np.where(utility_arrears, npr.integers(1, 7, n), 0)

    penalties = npr.poisson(np.exp(-1.45 - 0.5 * q))
    cases = npr.poisson(np.exp(-2.7 - 0.6 * q))
    dishonest = (cases > 0) & (npr.random(n) < _sigmoid(-1.6 - 0.8 * q))
    abnormal = npr.random(n) < _sigmoid(-3.6 - 0.6 * q)
    patents = np.where(~ind & (npr.random(n) < 0.12 + 0.05 * np.maximum(q, 0)), 1, 0) * (
        1 + npr.poisson(1.5, n)
    )

    registry: list[dict[str, str]] = []
    deliveries: dict[str, list[dict[str, str]]] = {
        c: []
        for c in (
            "tax",
            "social_security",
            "utility",
            "penalty",
            "judicial",
            "abnormal_operation",
            "intellectual_property",
        )
    }
    truth = {k: np.full(n, np.nan) for k in TRUE_MODEL}
    seen_ids: set[str] = set()
    for i, e in enumerate(identities):
        snap = snapshot[i]
        established = snap - dt.timedelta(days=int(years[i] * 365.25))
        rep_id = e.rep_id
        while rep_id in seen_ids:  # one person, one ID number (the registry refuses doubles)
            birth = dt.date(1960 + rng.randrange(40), 1 + rng.randrange(12), 1 + rng.randrange(28))
            rep_id = idcard.generate(rng, division_code=e.division_code[:6], birth=birth)
        seen_ids.add(rep_id)
        cap = capital_wan[i]
        registry.append(
            {
                "uscc": e.uscc,
                "name": e.name,
                "region": e.division_code[:6],
                "industry_code": e.industry_code,
                "established_on": established.isoformat(),
                "registered_capital": "" if np.isnan(cap) else f"{cap * 10000:.2f}",
                "employees": str(employees[i]),
                "legal_rep_name": e.rep_name,
                "legal_rep_id_number": rep_id,
                "status": "active",
                "event": "registered",
                "event_on": established.isoformat(),
                "address": e.address,
                "annual_revenue": f"{e.revenue:.2f}",
                "total_assets": f"{e.assets:.2f}",
            }
        )
        t = truth
        t["years_in_business"][i] = (snap - established).days / 365.25
        t["registered_capital"][i] = cap
        t["employees"][i] = employees[i]
        t["dishonest"][i] = float(dishonest[i])
        t["abnormal_listed"][i] = float(abnormal[i])
        t["ip_count"][i] = float(patents[i])
        for counted in (  # arrears stay NaN without rows of their category (no data, not 0)
            "penalties_general",
            "penalties_serious",
            "cases_defendant_36m",
        ):
            t[counted][i] = 0.0
        _tax_rows(
            deliveries["tax"],
            t,
            i,
            e.uscc,
            snap,
            npr,
            tax_mode[i],
            annual_tax[i],
            growth[i],
            grade[i] if has_grade[i] else "",
            bool(tax_arrears[i]),
        )
        if has_social[i]:
            arrears_at = set(npr.choice(24, social_arrears_months[i], replace=False).tolist())
            for back in range(23, -1, -1):
                headcount = insured[i] if back < 12 else max(1, round(insured[i] / growth[i]))
                deliveries["social_security"].append(
                    {
                        "uscc": e.uscc,
                        "period": _period(snap, back),
                        "insured": str(headcount),
                        "paid": f"{headcount * 1150:.2f}",
                        "arrears": f"{headcount * 1150:.2f}" if back in arrears_at else "0",
                    }
                )
            t["insured_headcount"][i] = insured[i]
            t["social_arrears_months"][i] = social_arrears_months[i]
        if has_utility[i]:
            billed = 0.0
            for back in range(11, -1, -1):
                amount = monthly_bill[i] * npr.uniform(0.7, 1.3)
                billed += amount
                deliveries["utility"].append(
                    {
                        "uscc": e.uscc,
                        "utility": "electricity",
                        "period": _period(snap, back),
                        "consumption": f"{amount / 0.55:.0f}",
                        "billed": "" if bill_missing[i] else f"{amount:.2f}",
                        "months_in_arrears": str(
                            max(0, utility_arrears_months[i] - back) if back < 6 else 0
                        ),
                    }
                )
            t["utility_billed_12m"][i] = np.nan if bill_missing[i] else billed / 10_000
            t["utility_arrears_months"][i] = utility_arrears_months[i]
        for k in range(penalties[i]):
            on = snap - dt.timedelta(days=int(npr.integers(1, 3 * 365)))
            severity = SEVERITIES[int(npr.choice(3, p=[0.3, 0.6, 0.1]))]
            deliveries["penalty"].append(
                {
                    "uscc": e.uscc,
                    "decision_no": f"青市监罚〔{on.year}〕{seed % 1000}{i}-{k}号",
                    "severity": severity,
                    "decided_on": on.isoformat(),
                    "fine": f"{int(npr.integers(1, 50)) * 500}",
                    "authority": "青海省市场监督管理局",
                }
            )
            if severity == "general":
                t["penalties_general"][i] += 1
            elif severity == "serious":
                t["penalties_serious"][i] += 1
        for k in range(cases[i]):
            on = snap - dt.timedelta(days=int(npr.integers(1, 3 * 365 - 10)))
            flagged = bool(dishonest[i]) and k == 0
            deliveries["judicial"].append(
                {
                    "uscc": e.uscc,
                    "case_no": f"({on.year})青{e.division_code[2:6]}民初{seed % 1000}{i}{k}号",
                    "role": "executed" if flagged else "defendant",
                    "cause": CAUSES[int(npr.integers(len(CAUSES)))],
                    "amount": f"{int(npr.integers(1, 100)) * 5000}",
                    "filed_on": on.isoformat(),
                    "case_status": "enforcing" if flagged else "closed",
                    "dishonest": "是" if flagged else "否",
                }
            )
            t["cases_defendant_36m"][i] += 1
        if abnormal[i]:
            deliveries["abnormal_operation"].append(
                {
                    "uscc": e.uscc,
                    "listed_on": (snap - dt.timedelta(days=int(npr.integers(1, 700)))).isoformat(),
                    "reason": "未按规定报送年度报告",
                }
            )
        for k in range(patents[i]):
            on = snap - dt.timedelta(days=int(npr.integers(30, 3000)))
            deliveries["intellectual_property"].append(
                {
                    "uscc": e.uscc,
                    "ip_no": f"ZL{on.year}{seed % 1000:03d}{i:06d}{k}",
                    "kind": IP_KINDS[int(npr.integers(4))],
                    "title": "一种牦牛奶保鲜装置",
                    "granted_on": on.isoformat(),
                }
            )

    truth_df = pd.DataFrame(truth)
    z = true_logit(truth_df, segment)
    pd_true = np.zeros(n)
    for s in SEGMENTS:
        rows = segment == s
        alpha = _calibrate(z[rows & borrower], BAD_RATE[s])
        pd_true[rows] = _sigmoid(alpha + z[rows])
    bad = borrower & (npr.random(n) < pd_true)
    firms = pd.DataFrame(
        {
            "uscc": [e.uscc for e in identities],
            "segment": segment,
            "borrower": borrower,
            "holdout": holdout,
            "snapshot": snapshot,
            "disbursed": disbursed,
            "pd": pd_true,
            "bad": bad,
        }
    )
    loans: list[dict[str, Any]] = []
    holdout_loans: list[dict[str, Any]] = []
    for i in np.flatnonzero(borrower).tolist():
        day = disbursed[i]
        assert day is not None  # a borrower has a disbursement date
        loan = _loan(i, identities[i].uscc, day, bool(ind[i]), bool(bad[i]), as_of, seed, npr)
        (holdout_loans if holdout[i] else loans).append(loan)
    return Population(
        as_of=as_of,
        seed=seed,
        firms=firms,
        truth=truth_df,
        registry=registry,
        deliveries=deliveries,
        loans=loans,
        holdout_loans=holdout_loans,
    )


def _tax_rows(
    out: list[dict[str, str]],
    t: dict[str, np.ndarray],
    i: int,
    uscc: str,
    snap: dt.date,
    npr: np.random.Generator,
    mode: str,
    annual: float,
    growth: float,
    grade: str,
    arrears: bool,
) -> None:
    """Append a firm's tax rows of the 24 months up to ``snap``; set its true tax variables."""
    if mode == "none":
        return  # exempt or fixed-quota: no records (missing, not zero)
    if mode == "annual":
        # the two last complete years; the latest counts as the 12 months' tax
        periods = [(str(snap.year - 2), annual / growth), (str(snap.year - 1), annual)]
        paid_12m = annual
    else:
        step = 1 if mode == "monthly" else 3
        backs = [b for b in range(23, -1, -1) if (snap.month - b - 1) % step == step - 1]
        periods = [
            (_period(snap, b), annual * step / 12 * (1 if b < 12 else 1 / growth)) for b in backs
        ]
        periods = [(p, v * float(npr.uniform(0.6, 1.4))) for p, v in periods]
        paid_12m = sum(v for (p, v), b in zip(periods, backs, strict=True) if b < 12)
    arrears_rows = (
        set(npr.choice(len(periods), min(len(periods), int(npr.integers(1, 7))), replace=False))
        if arrears
        else set()
    )
    for k, (period, value) in enumerate(periods):
        out.append(
            {
                "uscc": uscc,
                "period": period,
                "tax_paid": f"{value:.2f}",
                "credit_grade": grade if k == len(periods) - 1 else "",
                "arrears": f"{value * 0.3:.2f}" if k in arrears_rows else "0",
            }
        )
    t["tax_paid_12m"][i] = paid_12m / 10_000
    t["tax_grade"][i] = {"A": 5.0, "B": 4.0, "M": 3.0, "C": 2.0, "D": 1.0}.get(grade, np.nan)
    t["tax_arrears_months"][i] = float(len(arrears_rows))


def _loan(
    i: int,
    uscc: str,
    disbursed: dt.date,
    individual: bool,
    bad: bool,
    as_of: dt.date,
    seed: int,
    npr: np.random.Generator,
) -> dict[str, Any]:
    """One historical loan with its repayments, overdue records and default or settlement.

    The instalments are the platform's own schedule (``marketplace.schedule.schedule``), so an
    imported good loan is current or settled, never overdue by rounding. A good loan pays every
    instalment (5% of them 1–19 days late, never after ``as_of``) and is settled on its last
    payment; a bad one pays until its first missed due date (month 1–8), is then 30/60/90 days
    overdue (the bank calls a bullet loan in at that date) and is declared in default 120 days
    after it, when that is before ``as_of``. Both the 90 days and the default fall within the
    12-month outcome window of ``credit.outcomes``.
    """
    from xinrong.marketplace.schedule import schedule

    principal = (
        int(npr.integers(5, 51)) * 10_000 if individual else int(npr.integers(2, 51)) * 100_000
    )
    rate = Decimal(f"{float(npr.uniform(3.45, 7.5)):.2f}")
    method = REPAYMENT_METHODS[int(npr.choice(3, p=[0.5, 0.3, 0.2]))]
    applied = disbursed - dt.timedelta(days=int(npr.integers(7, 40)))
    signed = disbursed - dt.timedelta(days=int(npr.integers(0, 6)))
    signed = max(signed, applied)
    maturity = _add_months(disbursed, 12)
    lines = schedule(
        principal=Decimal(principal),
        annual_rate=rate,
        term_months=12,
        method=method,
        start=disbursed,
    )
    missed = int(npr.integers(1, 9)) if bad else 13  # the first missed month (1-based)
    repayments: list[dict[str, str]] = []
    overdue: list[dict[str, Any]] = []
    for line in lines:
        if line.due_on >= _add_months(disbursed, missed):
            break
        late = int(npr.integers(1, 20)) if npr.random() < 0.05 else 0
        paid_on = min(line.due_on + dt.timedelta(days=late), as_of)
        late = (paid_on - line.due_on).days
        if late:
            overdue.append({"on": paid_on.isoformat(), "days": late})
        repayments.append(
            {
                "paid_on": paid_on.isoformat(),
                "amount": f"{line.principal + line.interest:.2f}",
                "principal": f"{line.principal:.2f}",
                "interest": f"{line.interest:.2f}",
            }
        )
    defaulted_on = settled_on = None
    if bad:
        miss = _add_months(disbursed, missed)
        overdue += [
            {"on": (miss + dt.timedelta(days=d)).isoformat(), "days": d}
            for d in (30, 60, 90)
            if miss + dt.timedelta(days=d) <= as_of
        ]
        declared = miss + dt.timedelta(days=120)
        defaulted_on = declared.isoformat() if declared <= as_of else None
    else:
        settled_on = repayments[-1]["paid_on"]
    return {
        "bank_loan_no": f"HIST{seed}-{i:07d}",
        "uscc": uscc,
        "principal": f"{principal:.2f}",
        "annual_rate": f"{rate}",
        "repayment_method": method,
        "applied_on": applied.isoformat(),
        "contract_signed_on": signed.isoformat(),
        "disbursed_on": disbursed.isoformat(),
        "maturity_on": maturity.isoformat(),
        "first_loan": True,
        "renewal": False,
        "repayments": repayments,
        "overdue": overdue,
        "defaulted_on": defaulted_on,
        "settled_on": settled_on,
    }


# ---------------------------------------------------------------- the doors


@dataclass
class DoorTiming:
    """Rows (or loans) pushed through one door, and how long it took."""

    door: str
    rows: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else float("inf")


@dataclass
class PushReport:
    """What the doors said: rows accepted and refused per delivery, API errors, timings."""

    batches: list[dict[str, Any]] = field(default_factory=list)
    api_calls: int = 0
    api_errors: list[str] = field(default_factory=list)
    timings: list[DoorTiming] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return sum(b["rejected"] + b["unresolved"] for b in self.batches)


DEPARTMENTS = {  # source code → (department, categories it delivers)
    "amr": ("青海省市场监督管理局", ["registry", "penalty", "abnormal_operation"]),
    "tax": ("国家税务总局青海省税务局", ["tax"]),
    "hrss": ("青海省人力资源和社会保障厅", ["social_security"]),
    "grid": ("国网青海省电力公司", ["utility"]),
    "court": ("青海省高级人民法院", ["judicial"]),
    "cnipa": ("青海省知识产权局", ["intellectual_property"]),
}
CATEGORY_SOURCE = {c: code for code, (_n, cats) in DEPARTMENTS.items() for c in cats}
LOAN_CHUNK = 1_000


def _example_client() -> ModuleType:
    """The bank API's published example client (docs/bank-api/), which signs requests."""
    path = Path(__file__).resolve().parents[4] / "docs" / "bank-api" / "example_client.py"
    spec = importlib.util.spec_from_file_location("xinrong_example_client_population", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


EXAMPLE_CLIENT = _example_client()


def _csv(rows: list[dict[str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


class Platform:
    """The departments' sources and a bank's signed API client on one platform database."""

    def __init__(self) -> None:
        from django.test import Client

        from xinrong.accounts.services.api_keys import api_key_create
        from xinrong.accounts.services.organisations import organisation_create
        from xinrong.accounts.services.users import user_create
        from xinrong.datahub.categories import CATEGORIES
        from xinrong.datahub.models import Source
        from xinrong.datahub.services.sources import source_create

        self.sources: dict[str, Source] = {}
        for code, (name, categories) in DEPARTMENTS.items():
            org = organisation_create(name=name, kind="government")
            self.sources[code] = source_create(
                code=f"pop-{code}",
                name=name,
                organisation=org,
                categories=[c for c in categories if c in CATEGORIES],
            )
        bank = organisation_create(name="青海省示范农村商业银行", kind="bank")
        admin = user_create(
            username=f"pop-bank-admin-{secrets.token_hex(3)}",
            password="Pop" + secrets.token_hex(8) + "x9",
            organisation=bank,
            roles=["institution_admin"],
            display_name="银行系统管理员",
        )
        _key, self.api_key = api_key_create(organisation=bank, name="信贷系统存量导入", actor=admin)
        self.client = Client()

    def deliver(self, category: str, rows: list[dict[str, str]], report: PushReport) -> None:
        """Deliver rows of one category as a CSV through ``batch_ingest`` (channel upload)."""
        from xinrong.datahub.categories import CATEGORIES
        from xinrong.datahub.services.ingest import batch_ingest

        if not rows:
            return
        if category not in CATEGORIES:  # a door not built yet: say so, store nothing
            report.batches.append(
                {
                    "category": category,
                    "status": "no door",
                    "received": len(rows),
                    "accepted": 0,
                    "rejected": len(rows),
                    "unresolved": 0,
                    "duplicates": 0,
                    "failure": f"the platform has no delivery of category {category!r}",
                }
            )
            return
        body = _csv(rows)
        batch = batch_ingest(
            source=self.sources[CATEGORY_SOURCE[category]],
            category=category,
            fileobj=io.BytesIO(body),
            filename=f"{category}.csv",
            channel="upload",
        )
        report.batches.append(
            {
                "category": category,
                "status": batch.status,
                "received": batch.received,
                "accepted": batch.accepted,
                "rejected": batch.rejected,
                "unresolved": batch.unresolved,
                "duplicates": batch.duplicates,
                "failure": batch.failure,
            }
        )

    def post_loans(self, loans: list[dict[str, Any]], report: PushReport) -> None:
        """Send loans to the signed loan-history endpoint, ``LOAN_CHUNK`` per call."""
        path = "/api/v1/bank/loan-history"
        for start in range(0, len(loans), LOAN_CHUNK):
            body = json.dumps(
                {"loans": loans[start : start + LOAN_CHUNK]}, ensure_ascii=False
            ).encode()
            headers = EXAMPLE_CLIENT.sign_request(
                api_key=self.api_key, method="POST", path=path, body=body
            )
            headers["Idempotency-Key"] = secrets.token_hex(12)
            response = self.client.generic(
                "POST", path, data=body, content_type="application/json", headers=headers
            )
            report.api_calls += 1
            if response.status_code >= 300:
                report.api_errors.append(f"{response.status_code}: {response.content[:500]!r}")


def _timed(report: PushReport, door: str, rows: int, work: Callable[[], None]) -> None:
    start = time.perf_counter()
    work()
    report.timings.append(DoorTiming(door, rows, time.perf_counter() - start))


def push_population(pop: Population, *, platform: Platform | None = None) -> PushReport:
    """Push the registry, every department's facts and the training loans through the doors.

    The held-out borrowers' loans are not pushed here (``push_holdout_loans``, after training).
    """
    platform = platform or Platform()
    report = PushReport()
    _timed(
        report,
        "registry",
        len(pop.registry),
        lambda: platform.deliver("registry", pop.registry, report),
    )
    facts = sum(len(r) for r in pop.deliveries.values())

    def departments() -> None:
        for category, rows in pop.deliveries.items():
            platform.deliver(category, rows, report)

    _timed(report, "departments", facts, departments)
    _timed(report, "loan-history", len(pop.loans), lambda: platform.post_loans(pop.loans, report))
    report.platform = platform  # type: ignore[attr-defined]
    return report


def push_holdout_loans(pop: Population, report: PushReport) -> None:
    """Push the held-out borrowers' loans through the same door (after training)."""
    platform: Platform = report.platform  # type: ignore[attr-defined]
    _timed(
        report,
        "loan-history (held out)",
        len(pop.holdout_loans),
        lambda: platform.post_loans(pop.holdout_loans, report),
    )


# ---------------------------------------------------------------- the measures


@dataclass
class Evaluation:
    """Held-out AUC of the platform's score, a plain logistic regression and the true PD."""

    train_rows: int
    holdout_rows: int
    holdout_bads: int
    auc_model: float
    auc_logistic: float
    auc_truth: float
    distinct_scores: int
    model_version: int
    model_auc_test: float  # the model's own test split, as it reports it
    segmented: bool = False  # one card per entity type (cross-validation chose it)

    def lines(self) -> list[str]:
        return [
            f"held-out borrowers: {self.holdout_rows:,} ({self.holdout_bads:,} bad); "
            f"training borrowers: {self.train_rows:,}",
            f"  AUC platform score (model v{self.model_version}, "
            f"{'one card per segment' if self.segmented else 'one card'}): "
            f"{self.auc_model:.4f}  (its own test split: {self.model_auc_test:.4f})",
            f"  AUC plain logistic regression:   {self.auc_logistic:.4f}",
            f"  AUC true probability of default: {self.auc_truth:.4f}",
            f"  gaps: model − regression {self.auc_model - self.auc_logistic:+.4f}, "
            f"model − truth {self.auc_model - self.auc_truth:+.4f}",
            f"  distinct scores among held-out borrowers: {self.distinct_scores:,}",
        ]


def _auc(y: np.ndarray, risk: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, risk))


def plain_logistic(X_train: pd.DataFrame, y_train: np.ndarray, X_test: pd.DataFrame) -> np.ndarray:
    """Risk of the test rows by a plain logistic regression on the raw feature columns:
    median-imputed, with a missing indicator per column that has missing values, standardised;
    a text column (the entity type) enters as one indicator per value."""
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def design(X: pd.DataFrame) -> np.ndarray:
        numeric = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c])]
        texts = [c for c in X.columns if c not in numeric]
        parts = [X[numeric].to_numpy(dtype=float)]
        for c in texts:
            values = sorted(str(v) for v in X_train[c].dropna().unique())[1:]
            parts.append(np.column_stack([(X[c].astype(str) == v).to_numpy() for v in values]))
        return np.column_stack(parts).astype(float)

    train, test = design(X_train), design(X_test)
    keep = [j for j in range(train.shape[1]) if len(np.unique(train[:, j])) > 1]
    model = make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
        StandardScaler(),
        LogisticRegression(max_iter=2000),
    )
    model.fit(train[:, keep], y_train)
    return model.predict_proba(test[:, keep])[:, 1]


def evaluate(pop: Population, model: Any) -> Evaluation:
    """Score the held-out borrowers at their snapshots with the trained cards; compare."""
    from xinrong.credit.segments import model_cards

    d = _held_out(pop, model)
    X, y, held = d["X"], d["y"], d["held"]
    truth_pd = d["firms"]["pd"].to_numpy()
    scores = np.rint(model_cards(model.card).score(X))
    lr = plain_logistic(X[~held], y[~held], X[held])
    return Evaluation(
        train_rows=int((~held).sum()),
        holdout_rows=int(held.sum()),
        holdout_bads=int(y[held].sum()),
        auc_model=_auc(y[held], -scores[held]),
        auc_logistic=_auc(y[held], lr),
        auc_truth=_auc(y[held], truth_pd[held]),
        distinct_scores=len(np.unique(scores[held])),
        model_version=model.version,
        model_auc_test=float(model.metrics.get("auc_test", float("nan"))),
        segmented=bool(model.metrics.get("segmented", False)),
    )


def _held_out(pop: Population, model: Any) -> dict[str, Any]:
    """The platform's outcomes split into the model's training rows and the held-out rows."""
    from sklearn.model_selection import train_test_split

    from xinrong.credit.outcomes import platform_outcomes
    from xinrong.enterprises.models import MarketEntity

    outcomes = platform_outcomes(as_of=pop.as_of)
    ids = dict(
        MarketEntity.objects.filter(uscc__in=pop.firms["uscc"].tolist()).values_list("pk", "uscc")
    )
    usccs = [ids[eid] for eid in outcomes.X.index]
    firms = pop.firms.set_index("uscc").loc[usccs]
    held = firms["holdout"].to_numpy(dtype=bool)
    X, y = outcomes.X, outcomes.y
    # the cards' own 70% (model_train's split, reproduced: the training rows keep their order)
    n_train = int((~held).sum())
    fit_rows, _test_rows = train_test_split(
        np.arange(n_train),
        test_size=0.3,
        stratify=y[~held],
        random_state=int(model.training.get("seed", 20221)),
    )
    return {
        "X": X,
        "y": y,
        "held": held,
        "usccs": usccs,
        "firms": firms,
        "truth": pop.truth.set_index(pop.firms["uscc"]).loc[usccs],
        "fit_rows": fit_rows,
    }


def analyse(pop: Population, model: Any) -> list[str]:
    """Where the cards' held-out AUC goes, measured (the benchmark's analysis).

    * the same learners on other data: the plain regression on the cards' own 70% of the
      training rows (model_train keeps 30% for its test split), and the cards (single or
      per segment, as cross-validation chooses) refitted on all of them;
    * binning granularity: the cards refitted with finer bins;
    * the true model's own form (its transforms, missing indicators and segment coefficients)
      estimated from the training rows: about the best any learner can do at this sample size;
    * the AUC of each within each segment;
    * per true variable: whether the platform's feature equals the delivered value, the
      variance within segments of its true term (its weight in the truth) and of what the
      cards' points miss of it (logit units), and whether the cards kept the feature.
    """
    from sklearn.linear_model import LogisticRegression

    from xinrong.credit.features import FEATURES
    from xinrong.credit.segments import cards_train, model_cards

    d = _held_out(pop, model)
    X, y, held, truth, firms = d["X"], d["y"], d["held"], d["truth"], d["firms"]
    Xt, yt, Xh, yh = X[~held], y[~held], X[held], y[held]
    trends = {f.name: f.trend for f in FEATURES}
    seed = int(model.training.get("seed", 20221))
    cards = model_cards(model.card)
    scores, parts = cards.score_parts(Xh)
    risk_card = -scores
    lines = [
        "analysis (held-out AUC unless said):",
        f"  the model: {'one card per segment' if cards.segmented else 'one card'} "
        f"(cross-validated AUC single {model.metrics.get('cv_auc_single')}, "
        f"per segment {model.metrics.get('cv_auc_segmented')}"
        f"{', ' + model.metrics['segment_note'] if model.metrics.get('segment_note') else ''})",
    ]

    def line(label: str, value: float) -> None:
        lines.append(f"  {label:<62} {value:.4f}")

    line("platform cards (70% of the training rows, as shipped)", _auc(yh, risk_card))
    fit = d["fit_rows"]
    line(
        "plain regression on the cards' same 70%",
        _auc(yh, plain_logistic(Xt.iloc[fit], yt[fit], Xh)),
    )
    risk_lr = plain_logistic(Xt, yt, Xh)
    line("plain regression on all training rows", _auc(yh, risk_lr))
    full = cards_train(Xt, yt, seed=seed, trends=trends)
    line(
        f"cards refitted on all training rows ({'per segment' if full.cards.segmented else 'one'})",
        _auc(yh, -full.cards.score(Xh)),
    )
    fine = cards_train(Xt, yt, seed=seed, trends=trends, max_n_bins=20, min_bin_size=0.005)
    line(
        f"the same, bins ≤20 of ≥0.5% of rows ({'per segment' if fine.cards.segmented else 'one'})",
        _auc(yh, -fine.cards.score(Xh)),
    )
    segment = firms["segment"].to_numpy()
    design = _true_design(truth, segment)
    lr = LogisticRegression(C=1e4, max_iter=5000).fit(design[~held], yt)
    line(
        "the true form, coefficients estimated on the training rows",
        _auc(yh, lr.decision_function(design[held])),
    )
    pd_true = firms["pd"].to_numpy()
    line("the true probabilities", _auc(yh, pd_true[held]))
    seg_h = segment[held]
    for s in SEGMENTS:
        rows = seg_h == s
        if yh[rows].sum() >= 10 and (1 - yh[rows]).sum() >= 10:
            lines.append(
                f"  segment {s:<10} {int(rows.sum()):>6,} rows {int(yh[rows].sum()):>5,} bad: "
                f"cards {_auc(yh[rows], risk_card[rows]):.4f}, "
                f"regression {_auc(yh[rows], risk_lr[rows]):.4f}, "
                f"truth {_auc(yh[rows], pd_true[held][rows]):.4f}"
            )
    # per true variable: the cards' points of that feature, in bad log-odds
    card_terms: dict[str, np.ndarray] = {}
    for part in parts:
        rows = np.arange(len(Xh)) if part.rows is None else part.rows
        assert part.result is not None
        points = part.result.points
        for j, f in enumerate(part.card.features):
            term = card_terms.setdefault(f.name, np.zeros(len(Xh)))
            term[rows] = -points[:, j] / part.card.factor
    lines.append(
        "  variable                   platform = delivered   var(true term)   var(missed)  in cards"
    )
    th = truth[held]
    for name, (g, b_ind, b_ent, m_ind, m_ent) in TRUE_MODEL.items():
        x = th[name].to_numpy(dtype=np.float64)
        missing = np.isnan(x)
        ent = seg_h == "enterprise"
        term = np.where(
            missing,
            np.where(ent, m_ent, m_ind),
            np.where(ent, b_ent, b_ind) * g(np.where(missing, 0.0, x)),
        )
        feature = Xh[name].to_numpy(dtype=np.float64) if name in Xh else np.full(len(x), np.nan)
        same = np.where(
            missing, np.isnan(feature), np.isclose(feature, x, rtol=0.02, atol=0.02)
        ).mean()
        card_term = card_terms.get(name, np.zeros(len(x)))
        lines.append(
            f"  {name:<26} {same:>18.1%}   {_within(term, seg_h):>14.4f}   "
            f"{_within(term - card_term, seg_h):>11.4f}  {'yes' if name in card_terms else 'no'}"
        )
    return lines


def _within(v: np.ndarray, segment: np.ndarray) -> float:
    """Variance within segments (each segment's intercept absorbs its mean)."""
    return float(sum(np.var(v[segment == s]) * np.mean(segment == s) for s in SEGMENTS))


def _true_design(truth: pd.DataFrame, segment: np.ndarray) -> np.ndarray:
    """Columns of the true model: g(x) and [missing] per variable, each per segment."""
    cols: list[np.ndarray] = []
    ent = (segment == "enterprise").astype(float)
    cols.append(ent)
    for name, (g, *_coefs) in TRUE_MODEL.items():
        x = truth[name].to_numpy(dtype=np.float64)
        missing = np.isnan(x)
        term = np.where(missing, 0.0, g(np.where(missing, 0.0, x)))
        for w in (1 - ent, ent):
            cols.append(term * w)
            if missing.any():
                cols.append(missing * w)
    return np.column_stack(cols)


def check_all_accepted(report: PushReport, expected: Iterable[str]) -> list[str]:
    """Return the problems of a push: refused rows, failed batches, API errors, missing doors."""
    problems = [
        f"{b['category']}: status {b['status']}, {b['rejected']} rejected, "
        f"{b['unresolved']} unresolved {b['failure']}"
        for b in report.batches
        if b["rejected"] or b["unresolved"] or b["status"] != "completed"
    ]
    delivered = {b["category"] for b in report.batches}
    problems += [f"{c}: not delivered" for c in expected if c not in delivered]
    problems += report.api_errors
    return problems
