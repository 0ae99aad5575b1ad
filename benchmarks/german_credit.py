#!/usr/bin/env python3
"""xinrong's scorecard pipeline against optbinning's Scorecard on real data (German Credit).

Stratified 70/30 split with seed 42; both fit on the same training rows; both are judged on the
same test rows by AUC and KS. Data: benchmarks/data/germancredit.csv (see its README).

    .venv/bin/python benchmarks/german_credit.py
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

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


def main() -> None:
    X, y = load()
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=42
    )
    start = time.perf_counter()
    card = scorecard.fit(X_train, y_train)
    ours_s = time.perf_counter() - start
    ours_auc, ours_ks = scorecard.auc_ks(y_test, -card.score(X_test).score)

    from optbinning import BinningProcess
    from optbinning import Scorecard as OptScorecard

    categorical = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    start = time.perf_counter()
    reference = OptScorecard(
        binning_process=BinningProcess(
            variable_names=list(X.columns), categorical_variables=categorical
        ),
        estimator=LogisticRegression(max_iter=2000),
        scaling_method="pdo_odds",
        scaling_method_params={"pdo": 20, "odds": 50, "scorecard_points": 600},
    )
    reference.fit(X_train, y_train)
    ref_s = time.perf_counter() - start
    ref_auc, ref_ks = scorecard.auc_ks(y_test, reference.predict_proba(X_test)[:, 1])

    print(f"German Credit (Statlog): {len(X)} rows, stratified 70/30, seed 42")
    print(
        f"  xinrong scorecard : test AUC {ours_auc:.3f}  KS {ours_ks:.3f}  "
        f"({len(card.features)} features kept, fit {ours_s:.1f} s)"
    )
    print(f"  optbinning        : test AUC {ref_auc:.3f}  KS {ref_ks:.3f}  (fit {ref_s:.1f} s)")
    print(f"  difference        : AUC {ours_auc - ref_auc:+.3f}  KS {ours_ks - ref_ks:+.3f}")


if __name__ == "__main__":
    main()
