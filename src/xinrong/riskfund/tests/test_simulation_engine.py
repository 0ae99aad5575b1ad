"""The Monte Carlo engine against the analytic answers (no database)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from xinrong.riskfund import simulation as engine


def _book(n: int = 3_000, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    pd = rng.uniform(0.002, 0.08, n)
    exposure = rng.lognormal(13, 1, n)  # around ¥440k
    share = np.array([0.3, 0.4])
    covered = np.stack([rng.random(n) < 0.7, np.ones(n, dtype=bool)], axis=1)
    return pd, exposure[:, None] * 0.6 * share * covered


def test_the_mean_is_the_sum_of_pd_times_loss_within_its_confidence_interval():
    pd, loss = _book()
    paths = 4_000
    out = engine.simulate_payouts(pd, loss, paths=paths, seed=11, path_chunk=700, loan_chunk=1000)
    mean = out.mean(axis=(1, 2))
    expected = engine.expected_payout(pd, loss)
    sd = np.sqrt(engine.independent_variance(pd, loss) / paths)
    assert np.all(np.abs(mean - expected) < 4 * sd), (mean, expected, sd)


def test_independent_variance_is_the_sum_of_pd_one_minus_pd_loss_squared():
    pd, loss = _book()
    paths = 4_000
    out = engine.simulate_payouts(pd, loss, paths=paths, seed=12)
    var = out.var(axis=(1, 2), ddof=1)
    theory = engine.independent_variance(pd, loss)
    # the sample variance of n draws has relative sd ≈ √(2/(n−1)) (plus kurtosis; keep 5 sd)
    tolerance = 5 * math.sqrt(2 / (paths - 1)) * 1.5
    assert np.all(np.abs(var / theory - 1) < tolerance), var / theory


def test_identical_loans_give_a_binomial_count_of_defaults():
    n, pd, paths = 400, 0.05, 20_000
    out = engine.simulate_payouts(np.full(n, pd), np.ones((n, 1)), paths=paths, seed=5)
    counts = np.rint(out[0, :, 0]).astype(int)
    observed = np.bincount(counts, minlength=n + 1)
    probs = stats.binom.pmf(np.arange(n + 1), n, pd)
    # chi-square over the bins with an expected count of at least 5 (tails pooled)
    keep = probs * paths >= 5
    obs = np.append(observed[keep], observed[~keep].sum())
    exp = np.append(probs[keep], probs[~keep].sum()) * paths
    chi2 = ((obs - exp) ** 2 / exp).sum()
    assert stats.chi2.sf(chi2, obs.size - 1) > 1e-4
    assert abs(counts.mean() - n * pd) < 4 * math.sqrt(n * pd * (1 - pd) / paths)


def test_the_same_seed_gives_the_same_numbers_and_another_seed_others():
    pd, loss = _book(800)
    a = engine.simulate_payouts(pd, loss, paths=300, years=2, rho=0.2, seed=99)
    b = engine.simulate_payouts(pd, loss, paths=300, years=2, rho=0.2, seed=99)
    c = engine.simulate_payouts(pd, loss, paths=300, years=2, rho=0.2, seed=100)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.shape == (2, 300, 2)


def test_correlation_keeps_the_mean_and_fattens_the_tail():
    n, pd, paths = 2_000, 0.02, 6_000
    loss = np.ones((n, 1))
    flat = engine.simulate_payouts(np.full(n, pd), loss, paths=paths, seed=3)
    tied = engine.simulate_payouts(np.full(n, pd), loss, paths=paths, rho=0.15, seed=3)
    assert abs(tied.mean() / (n * pd) - 1) < 0.05
    assert tied.std() > 2 * flat.std()
    assert np.percentile(tied, 99) > np.percentile(flat, 99) * 1.5
    # Vasicek's one-factor variance: n(n−1)·(Φ₂(c, c; ρ) − pd²) + n·pd(1−pd)
    c = stats.norm.ppf(pd)
    joint = stats.multivariate_normal(mean=[0, 0], cov=[[1, 0.15], [0.15, 1]]).cdf([c, c])
    theory = n * (n - 1) * (joint - pd**2) + n * pd * (1 - pd)
    assert abs(tied.var(ddof=1) / theory - 1) < 0.1


def test_uncovered_or_riskless_loans_pay_nothing_and_pd_one_always_pays():
    pd = np.array([0.0, 0.5, 1.0])
    loss = np.array([[5.0], [0.0], [7.0]])
    out = engine.simulate_payouts(pd, loss, paths=200, seed=1)
    assert np.all(out == 7.0)


def test_exhaustion_counts_paths_whose_payouts_outrun_balance_and_injections():
    payouts = np.array([[[50.0, 50.0]], [[120.0, 0.0]], [[90.0, 70.0]]])[:, 0, :]
    # balance 100 pays year 1; 50 more arrives for year 2 → 150 by year 2
    assert engine.exhausted(payouts, balance=100, injection=50).tolist() == [False, True, True]


def test_summary_reads_the_percentiles_and_the_exceedance_curve():
    payouts = np.arange(1, 1001, dtype=float).reshape(1000, 1)
    s = engine.summarise(payouts, expected=500.5, balance=990, injection=0)
    assert s.p50 == pytest.approx(500.5)
    assert s.p99 == pytest.approx(990.01)
    assert s.exhaustion == pytest.approx(0.01)
    assert sum(s.histogram["counts"]) == 1000
    assert s.exceedance["p"][0] == pytest.approx(1.0) and s.exceedance["p"][-1] == 0.0


def test_resampling_whole_borrowers_keeps_their_loans_together():
    entity = np.array([10, 10, 11, 12, 12, 12])
    stratum = np.array(["a", "a", "a", "b", "b", "b"])
    rows = engine.resample_entities(
        entity, stratum, targets={"a": 50, "b": 20}, rng=np.random.default_rng(0)
    )
    picked = entity[rows]
    assert (picked == 12).sum() == 60  # 20 draws of the only "b" borrower, 3 loans each
    assert (picked == 10).sum() % 2 == 0  # borrower 10 comes with both its loans
    assert ((picked == 10).sum() // 2) + (picked == 11).sum() == 50
