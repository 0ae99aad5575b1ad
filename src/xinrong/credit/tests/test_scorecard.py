"""The scorecard's arithmetic: points, log-odds, bins, reasons, dimensions, PSI."""

import math

import numpy as np
import pandas as pd
import pytest

from xinrong.credit import scorecard, synthetic
from xinrong.credit.features import DIMENSIONS, FEATURES
from xinrong.credit.models import DIMENSION_CODES


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(7)
    n = 12_000
    X = pd.DataFrame(
        {
            "safe": rng.normal(size=n),
            "risky": rng.exponential(size=n),
            "steps": rng.integers(0, 6, n).astype(float),
            "noise": rng.normal(size=n),
        }
    )
    X.loc[:400, "risky"] = np.nan
    z = -2.4 - 1.1 * X["safe"] + 0.7 * np.log1p(X["risky"].fillna(2.0)) + 0.25 * X["steps"]
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    trends = {"safe": "descending", "risky": "ascending", "steps": "ascending"}
    card = scorecard.fit(X, y, trends=trends)
    return card, X, y, z


def test_points_reproduce_the_models_log_odds(fitted):
    card, X, _y, _z = fitted
    result = card.score(X)
    woe_sum = np.zeros(len(X))
    for j, f in enumerate(card.features):
        woe_sum += f.coef * np.asarray(f.woe)[result.bins[j]]
    logit_bad = card.intercept + woe_sum
    assert np.allclose(card.log_odds(result.score), -logit_bad, atol=1e-6)
    odds_at_base = math.exp(card.log_odds(np.array([card.base_points]))[0])
    assert odds_at_base == pytest.approx(card.base_odds)
    doubled = math.exp(card.log_odds(np.array([card.base_points + card.pdo]))[0])
    assert doubled == pytest.approx(2 * card.base_odds)


def test_uninformative_feature_is_dropped_and_signal_recovered(fitted):
    card, X, y, z = fitted
    assert "noise" not in [f.name for f in card.features]
    model_auc, _ks = scorecard.auc_ks(y, -card.score(X).score)
    oracle_auc, _ks = scorecard.auc_ks(y, z.to_numpy())
    assert model_auc > oracle_auc - 0.02


def test_bins_are_monotonic_where_configured(fitted):
    card, *_ = fitted
    for f in card.features:
        rates = f.event_rates[:-1]  # regular bins, without "missing"
        points = f.points[:-1]
        if f.trend == "ascending":
            assert rates == sorted(rates) and points == sorted(points, reverse=True)
        if f.trend == "descending":
            assert rates == sorted(rates, reverse=True) and points == sorted(points)


def test_values_on_a_split_go_to_the_right_bin_and_missing_to_its_own(fitted):
    card, *_ = fitted
    f = card.features[0]
    x = np.array([f.splits[0] - 1e-9, f.splits[0], np.nan])
    assert f.bin_index(x).tolist() == [0, 1, len(f.splits) + 1]


def test_reason_codes_are_the_features_furthest_below_the_population(fitted):
    card, X, *_ = fitted
    result = card.score(X.iloc[:200])
    top = scorecard.reasons(card, result, top=2)
    means = np.array(
        [np.dot(f.counts, f.points) / np.sum(f.counts) for f in card.features]
    )  # the training population's mean points, not the best bin
    for row in range(200):
        short = means - result.points[row]
        expected = [j for j in np.argsort(-short, kind="stable")[:2] if short[j] >= 0.15 * card.pdo]
        assert [j for j in top[row] if j >= 0] == expected


def test_dimension_scores_run_from_worst_to_best(fitted):
    card, X, *_ = fitted
    result = card.score(X)
    dims = scorecard.dimension_scores(
        card, result, {"safe": "basic", "risky": "tax", "steps": "tax"}
    )
    for values in dims.values():
        assert values.min() >= 0 and values.max() <= 100
    best = {
        f.name: f.splits[-1] + 1 if f.points[-2] > f.points[0] else f.splits[0] - 1
        for f in card.features
    }
    top = card.score(pd.DataFrame([best]))
    for values in scorecard.dimension_scores(
        card, top, {"safe": "basic", "risky": "tax", "steps": "tax"}
    ).values():
        assert values[0] == 100.0


def test_grade_bands_include_their_floor():
    card = scorecard.Scorecard(features=[], intercept=0.0)
    scores = np.array([100, 439.99, 440, 599.99, 600, 719.99, 720, 999])
    assert card.grade(scores).tolist() == ["C", "C", "CC", "BB", "BBB", "AA", "AAA", "AAA"]


def test_psi_is_zero_for_the_same_distribution_and_grows_with_drift():
    assert scorecard.psi([10, 20, 30], [1, 2, 3]) == pytest.approx(0.0)
    assert scorecard.psi([10, 20, 30], [30, 20, 10]) > 0.25


def test_card_survives_json_round_trip(fitted):
    card, X, *_ = fitted
    again = scorecard.Scorecard.from_json(card.to_json())
    assert np.array_equal(again.score(X).score, card.score(X).score)
    assert again.grade(np.array([650.0])).tolist() == ["A"]


def test_synthetic_outcomes_hit_the_bad_rate_and_follow_latent_risk():
    rng = np.random.default_rng(3)
    X = pd.DataFrame({f.name: rng.exponential(size=5000) for f in FEATURES})
    y, p = synthetic.outcomes(X, seed=1, bad_rate=0.1)
    assert p.mean() == pytest.approx(0.1, abs=1e-3)
    assert abs(y.mean() - 0.1) < 0.02
    z = synthetic.latent_risk(X)
    assert np.corrcoef(z, p)[0, 1] > 0.8


def test_every_feature_belongs_to_a_known_dimension():
    assert tuple(DIMENSIONS) == DIMENSION_CODES
    assert {f.dimension for f in FEATURES} <= set(DIMENSIONS)
    assert all(f.advice for f in FEATURES if f.actionable)


@pytest.mark.parametrize("seed", range(5))
def test_the_kernel_equals_a_plain_per_feature_lookup(seed):
    """Combined gathers (features sharing one table) give the same bins and scores as binning
    each feature with searchsorted and adding its points, NaN in the missing bin."""
    rng = np.random.default_rng(seed)
    n, k = 5_000, 14
    features, columns = [], {}
    for j in range(k):
        splits = sorted(rng.normal(size=int(rng.integers(0, 8))).round(2).tolist())
        n_bins = len(splits) + 2  # regular bins and the missing bin
        features.append(
            scorecard.BinnedFeature(
                name=f"f{j}",
                splits=splits,
                woe=[0.0] * n_bins,
                points=rng.normal(0, 20, n_bins).round(3).tolist(),
                counts=[1] * n_bins,
                event_rates=[0.1] * n_bins,
                iv=0.1,
                coef=1.0,
            )
        )
        x = rng.normal(size=n).round(2)  # ties with split points included
        x[rng.random(n) < 0.1] = np.nan
        columns[f"f{j}"] = x
    card = scorecard.Scorecard(
        features=features, intercept=0.0, base_points=600, base_odds=50, pdo=20
    )
    frame = pd.DataFrame(columns)
    result = card.score(frame, block=1_024)
    expected_score = np.zeros(n)
    for j, f in enumerate(features):
        x = frame[f.name].to_numpy()
        expected = np.searchsorted(np.asarray(f.splits), x, side="right")
        expected[np.isnan(x)] = len(f.splits) + 1
        assert (result.bins[j] == expected).all()
        expected_score += np.asarray(f.points)[expected]
    assert np.allclose(result.score, expected_score, rtol=0, atol=1e-9)
