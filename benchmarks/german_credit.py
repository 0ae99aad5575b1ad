#!/usr/bin/env python3
"""xinrong's scorecard pipeline against optbinning's Scorecard on real data (German Credit).

Stratified 70/30 split with seed 42; both fit on the same training rows; both are judged on the
same test rows by AUC and KS. Data: benchmarks/data/germancredit.csv (see its README).

300 test rows (90 bad) give an AUC standard error of about 0.025, so ``--cv N`` also compares
the two pipelines by N repeats of stratified 5-fold cross-validation on the 700 training rows
(the test rows unused), paired fold by fold.

    .venv/bin/python benchmarks/german_credit.py [--cv 10]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from xinrong.credit import scorecard  # noqa: E402  (a pure module: no Django needed)

warnings.filterwarnings("ignore", message="Setting an item of incompatible dtype")


def load() -> tuple[pd.DataFrame, np.ndarray]:
    data = pd.read_csv(ROOT / "benchmarks" / "data" / "germancredit.csv")
    y = (data.pop("creditability") == "bad").astype(int).to_numpy()
    return data, y


def optbinning_scorecard(X: pd.DataFrame) -> Any:
    """optbinning's own Scorecard with its defaults, scaled like xinrong's (600 at 50:1, PDO 20)."""
    from optbinning import BinningProcess
    from optbinning import Scorecard as OptScorecard

    categorical = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    return OptScorecard(
        binning_process=BinningProcess(
            variable_names=list(X.columns), categorical_variables=categorical
        ),
        estimator=LogisticRegression(max_iter=2000),
        scaling_method="pdo_odds",
        scaling_method_params={"pdo": 20, "odds": 50, "scorecard_points": 600},
    )


def both(
    X_train: pd.DataFrame, y_train: np.ndarray, X_test: pd.DataFrame, y_test: np.ndarray
) -> tuple[tuple[float, float], tuple[float, float], int]:
    """Fit both pipelines on the training rows; return (AUC, KS) of each on the test rows."""
    card = scorecard.fit(X_train, y_train)
    ours = scorecard.auc_ks(y_test, -card.score(X_test).score)
    reference = optbinning_scorecard(X_train).fit(X_train, y_train)
    ref = scorecard.auc_ks(y_test, reference.predict_proba(X_test)[:, 1])
    return ours, ref, len(card.features)


def cross_validate(X: pd.DataFrame, y: np.ndarray, repeats: int) -> None:
    """Both pipelines on the same folds of the training rows; print means and paired gaps."""
    from sklearn.model_selection import RepeatedStratifiedKFold

    folds = RepeatedStratifiedKFold(n_splits=5, n_repeats=repeats, random_state=42)
    rows = []
    for fit_idx, val_idx in folds.split(X, y):
        ours, ref, _k = both(X.iloc[fit_idx], y[fit_idx], X.iloc[val_idx], y[val_idx])
        rows.append((*ours, *ref))
    r = np.array(rows)
    n = len(r)
    print(f"  {repeats}×5-fold CV on the 700 training rows ({n} folds, paired):")
    print(f"    xinrong     AUC {r[:, 0].mean():.4f}  KS {r[:, 1].mean():.4f}")
    print(f"    optbinning  AUC {r[:, 2].mean():.4f}  KS {r[:, 3].mean():.4f}")
    for label, d in (("AUC", r[:, 0] - r[:, 2]), ("KS", r[:, 1] - r[:, 3])):
        print(
            f"    {label} xinrong − optbinning: {d.mean():+.4f} ± {d.std(ddof=1) / np.sqrt(n):.4f}"
            f" (standard error), xinrong ahead in {int((d > 0).sum())} of {n} folds"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cv", type=int, default=0, help="repeats of 5-fold CV on training rows")
    args = parser.parse_args()
    X, y = load()
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=42
    )
    start = time.perf_counter()
    card = scorecard.fit(X_train, y_train)
    ours_s = time.perf_counter() - start
    ours_auc, ours_ks = scorecard.auc_ks(y_test, -card.score(X_test).score)

    start = time.perf_counter()
    reference = optbinning_scorecard(X).fit(X_train, y_train)
    ref_s = time.perf_counter() - start
    ref_auc, ref_ks = scorecard.auc_ks(y_test, reference.predict_proba(X_test)[:, 1])

    print(f"German Credit (Statlog): {len(X)} rows, stratified 70/30, seed 42")
    print(
        f"  xinrong scorecard : test AUC {ours_auc:.3f}  KS {ours_ks:.3f}  "
        f"({len(card.features)} features kept, fit {ours_s:.1f} s)"
    )
    print(f"  optbinning        : test AUC {ref_auc:.3f}  KS {ref_ks:.3f}  (fit {ref_s:.1f} s)")
    print(f"  difference        : AUC {ours_auc - ref_auc:+.3f}  KS {ours_ks - ref_ks:+.3f}")
    if args.cv:
        cross_validate(X_train.reset_index(drop=True), y_train, args.cv)


if __name__ == "__main__":
    main()
