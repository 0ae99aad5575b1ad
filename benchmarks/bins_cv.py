#!/usr/bin/env python3
"""Finer bins or not: cross-validated AUC and distinct scores of the scorecard per binning option.

A synthetic feature matrix of N rows (default 10,000, the size of the issue's held-out
population) with all of xinrong's features (``score_bench.features``) and outcomes from the
documented synthetic process. For each binning option, a stratified, seeded 5-fold
cross-validation fits ``scorecard.fit`` on four folds and scores the fifth; it prints the mean
AUC, the oracle AUC of the true probabilities on the same rows, and the number of distinct whole
scores among the N rows of a card fitted on all of them.

    .venv/bin/python benchmarks/bins_cv.py [--rows 10000] [--seed 7]
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))
warnings.filterwarnings("ignore")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinrong.config.settings")
    import django

    django.setup()
    from score_bench import features
    from sklearn.model_selection import StratifiedKFold

    from xinrong.credit import scorecard, synthetic
    from xinrong.credit.features import FEATURES

    rng = np.random.default_rng(args.seed)
    X = features(args.rows, rng)
    y, p = synthetic.outcomes(X, seed=args.seed)
    trends = {f.name: f.trend for f in FEATURES}
    n_train = int(args.rows * 0.8)
    options: dict[str, dict[str, Any]] = {
        "default (8 bins, ≥2%)": {},
        "12 bins, ≥1%": {"max_n_bins": 12, "min_bin_size": 0.01},
        "16 bins, ≥0.5%": {"max_n_bins": 16, "min_bin_size": 0.005},
        "20 bins, ≥50 rows": {"max_n_bins": 20, "min_bin_size": max(50 / n_train, 0.001)},
    }
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=args.seed)
    oracle = np.mean([scorecard.auc_ks(y[te], p[te])[0] for _tr, te in folds.split(X, y)])
    print(f"{args.rows:,} rows, bad rate {y.mean():.3f}, oracle AUC (5-fold mean) {oracle:.4f}")
    print(f"{'binning':<24} {'CV AUC':>8} {'distinct scores':>16}")
    for label, option in options.items():
        aucs = []
        for tr, te in folds.split(X, y):
            card = scorecard.fit(X.iloc[tr], y[tr], trends=trends, **option)
            aucs.append(scorecard.auc_ks(y[te], -card.score(X.iloc[te]).score)[0])
        card = scorecard.fit(X, y, trends=trends, **option)
        distinct = len(np.unique(np.rint(card.score(X).score)))
        print(f"{label:<24} {np.mean(aucs):>8.4f} {distinct:>16,}")


if __name__ == "__main__":
    main()
