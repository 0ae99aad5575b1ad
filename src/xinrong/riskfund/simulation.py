"""Monte Carlo engine of the fund-sufficiency simulator (资金充足性测算): NumPy only, no Django.

A portfolio is columns: per loan its probability of default within a year (``pd``) and, per
scenario, what the fund pays if it defaults (``loss[:, s]`` = exposure × LGD × government share ×
eligibility under scenario ``s``, 0 when the scenario does not cover the loan). Each simulated
year of each path draws every loan's default once and sums the fund's payouts; all scenarios see
the **same draws** (common random numbers), so their differences are the rules', not the luck's.

Defaults are independent (``rho`` = 0) or tied by one Gaussian factor (Vasicek): loan *i*
defaults in year *t* of path *p* when ``√ρ·Z[t,p] + √(1−ρ)·ε[i,t,p] < Φ⁻¹(pd_i)``, so each loan
keeps its own ``pd`` while bad years hit many loans at once.

Money here is float64 yuan, for the simulation only: the figures are estimates and are rounded
to the yuan (shown in 万元) at the edge; nothing booked is computed here.

Memory is bounded by chunking: paths in blocks of ``path_chunk`` and loans in blocks of
``loan_chunk``, so the largest array is ``path_chunk × loan_chunk`` float32 (64 MiB by default)
whatever the number of paths and loans. The random stream of each (year, path block, loan
block) comes from ``SeedSequence(seed, spawn_key=(…))``: the same seed and chunk sizes give the
same numbers, on any machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.random import PCG64, Generator, SeedSequence

PATH_CHUNK = 512
LOAN_CHUNK = 32_768
HIST_BINS = 30
EXCEEDANCE_POINTS = 60


def _ndtri(p: np.ndarray) -> np.ndarray:
    """Φ⁻¹(p) elementwise (−inf at 0, +inf at 1)."""
    from scipy.special import ndtri  # SciPy comes with scikit-learn, a platform dependency

    return np.asarray(ndtri(p), dtype=np.float64)


def simulate_payouts(
    pd: np.ndarray,
    loss: np.ndarray,
    *,
    paths: int,
    years: int = 1,
    rho: float = 0.0,
    seed: int = 0,
    path_chunk: int = PATH_CHUNK,
    loan_chunk: int = LOAN_CHUNK,
) -> np.ndarray:
    """Return the fund's payouts per scenario, path and year: shape (scenarios, paths, years).

    ``pd``: (loans,) default probability within a year, in [0, 1]; ``loss``: (loans, scenarios)
    the fund's payout, in yuan, if the loan defaults under each scenario (0 = not covered).
    """
    pd = np.asarray(pd, dtype=np.float64).ravel()
    loss = np.asarray(loss, dtype=np.float64)
    if loss.ndim == 1:
        loss = loss[:, None]
    if loss.shape[0] != pd.shape[0]:
        raise ValueError("pd and loss must have one row per loan")
    if not 0.0 <= rho < 1.0:
        raise ValueError("rho must be in [0, 1)")
    if paths < 1 or years < 1:
        raise ValueError("paths and years must be positive")
    pd = np.clip(pd, 0.0, 1.0)
    scenarios = loss.shape[1]
    # only loans that can default and that some scenario pays for take part
    keep = (pd > 0) & (loss > 0).any(axis=1)
    pd, loss = pd[keep], loss[keep]
    out = np.zeros((scenarios, paths, years), dtype=np.float64)
    if pd.size == 0:
        return out
    loss32 = loss.astype(np.float32)
    # independent draws compare raw 32-bit integers with pd · 2³² (PCG64's raw output is about
    # three times as fast as its floats); pd is thereby resolved to 2⁻³²
    limit = np.minimum(np.floor(pd * 2.0**32), 2.0**32 - 1).astype(np.uint32)
    factor = Generator(PCG64(SeedSequence(seed, spawn_key=(0,)))).standard_normal((years, paths))
    correlated = rho > 0.0
    if correlated:
        threshold = _ndtri(pd).astype(np.float32)  # −inf/+inf for pd 0/1 compare correctly
        a = np.float32(np.sqrt(1.0 - rho))
        b = np.sqrt(rho)
    n = pd.size
    for year in range(years):
        for block, p0 in enumerate(range(0, paths, path_chunk)):
            p1 = min(p0 + path_chunk, paths)
            acc = np.zeros((p1 - p0, scenarios), dtype=np.float64)
            if correlated:
                shift = (b * factor[year, p0:p1]).astype(np.float32)[:, None]
            for lblock, l0 in enumerate(range(0, n, loan_chunk)):
                l1 = min(l0 + loan_chunk, n)
                bits = PCG64(SeedSequence(seed, spawn_key=(1, year, block, lblock)))
                if correlated:
                    draw = Generator(bits).standard_normal((p1 - p0, l1 - l0), dtype=np.float32)
                    draw *= a
                    draw += shift
                    hits = draw < threshold[l0:l1]
                else:
                    cells = (p1 - p0) * (l1 - l0)
                    raw = bits.random_raw((cells + 1) // 2).view(np.uint32)[:cells]
                    hits = raw.reshape(p1 - p0, l1 - l0) < limit[l0:l1]
                acc += hits.astype(np.float32) @ loss32[l0:l1]
            out[:, p0:p1, year] = acc.T
    return out


def exhausted(payouts: np.ndarray, *, balance: float, injection: float) -> np.ndarray:
    """Per path (last axis = years): does the fund run dry within the horizon?

    The balance today pays year 1; the yearly planned injection arrives at the start of each
    later year. A path is exhausted when its payouts so far exceed what has come in so far.
    """
    years = payouts.shape[-1]
    paid = np.cumsum(payouts, axis=-1)
    available = balance + injection * np.arange(years)
    return np.asarray((paid > available).any(axis=-1))


@dataclass(frozen=True)
class Summary:
    """One scenario's figures (yuan): yearly payout statistics, exhaustion, distributions."""

    expected: float  # analytic Σ pd · loss
    mean: float
    std: float
    p50: float
    p95: float
    p99: float
    max: float
    exhaustion: float  # probability, 0–1
    histogram: dict[str, list[float]]  # edges (bins + 1), counts
    exceedance: dict[str, list[float]]  # x (yuan), probability a year's payout exceeds x

    def as_json(self) -> dict[str, Any]:
        return {
            "expected": round(self.expected, 2),
            "mean": round(self.mean, 2),
            "std": round(self.std, 2),
            "p50": round(self.p50, 2),
            "p95": round(self.p95, 2),
            "p99": round(self.p99, 2),
            "max": round(self.max, 2),
            "exhaustion": round(self.exhaustion, 6),
            "histogram": self.histogram,
            "exceedance": self.exceedance,
        }


def summarise(
    payouts: np.ndarray,
    *,
    expected: float,
    balance: float,
    injection: float,
    bins: int = HIST_BINS,
) -> Summary:
    """Summarise one scenario's payouts (paths, years): every path-year is one yearly payout."""
    yearly = payouts.ravel()
    p50, p95, p99 = np.percentile(yearly, [50, 95, 99])
    top = float(yearly.max()) if yearly.size else 0.0
    counts, edges = np.histogram(yearly, bins=bins, range=(0.0, top if top > 0 else 1.0))
    ordered = np.sort(yearly)
    xs = np.linspace(0.0, top if top > 0 else 1.0, EXCEEDANCE_POINTS)
    beyond = 1.0 - np.searchsorted(ordered, xs, side="right") / max(ordered.size, 1)
    return Summary(
        expected=float(expected),
        mean=float(yearly.mean()),
        std=float(yearly.std(ddof=1)) if yearly.size > 1 else 0.0,
        p50=float(p50),
        p95=float(p95),
        p99=float(p99),
        max=top,
        exhaustion=float(exhausted(payouts, balance=balance, injection=injection).mean()),
        histogram={
            "edges": [round(float(e), 2) for e in edges],
            "counts": [int(c) for c in counts],
        },
        exceedance={
            "x": [round(float(x), 2) for x in xs],
            "p": [round(float(p), 6) for p in beyond],
        },
    )


def expected_payout(pd: np.ndarray, loss: np.ndarray) -> np.ndarray:
    """Analytic mean yearly payout per scenario: Σ pd · loss."""
    return np.asarray(pd, dtype=np.float64) @ np.asarray(loss, dtype=np.float64)


def independent_variance(pd: np.ndarray, loss: np.ndarray) -> np.ndarray:
    """Analytic variance of the yearly payout per scenario when defaults are independent."""
    pd = np.asarray(pd, dtype=np.float64)
    return (pd * (1.0 - pd)) @ np.asarray(loss, dtype=np.float64) ** 2


def resample_entities(
    entity: np.ndarray,
    stratum: np.ndarray,
    *,
    targets: dict[Any, int],
    rng: Generator,
) -> np.ndarray:
    """Scale a portfolio by resampling whole borrowers: return row indices of the new portfolio.

    ``entity`` and ``stratum`` are per loan (its borrower and the borrower's stratum, e.g. the
    entity type); ``targets`` the number of borrowers wanted per stratum. Borrowers are drawn
    with replacement within their stratum and bring all their loans, so the loans per borrower,
    their sizes and PDs keep the platform's distribution. A stratum without borrowers is left out.
    """
    picked: list[np.ndarray] = []
    order = np.argsort(entity, kind="stable")
    sorted_entities = entity[order]
    for key, wanted in targets.items():
        borrowers = np.unique(entity[stratum == key])
        if borrowers.size == 0 or wanted <= 0:
            continue
        draws = rng.choice(borrowers, size=int(wanted), replace=True)
        lo = np.searchsorted(sorted_entities, draws, side="left")
        hi = np.searchsorted(sorted_entities, draws, side="right")
        counts = hi - lo
        # the loan rows of each drawn borrower, concatenated without a Python loop
        starts = np.repeat(lo, counts)
        offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        picked.append(order[starts + offsets])
    return np.concatenate(picked) if picked else np.zeros(0, dtype=np.int64)
