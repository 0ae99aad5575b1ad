#!/usr/bin/env python3
"""Reason codes over a seeded population: the old rule (points lost against the best bin, top 3)
beside the true reasons (credit.reasons), with the active model.

Counts, over every entity of the database:
  - entities with no negative fact that still get reasons;
  - entities with a penalty / arrears / a court case / 失信 whose fact is named among their
    reasons (of those whose fact costs points on the card, and of all of them);
  - individual businesses given a reason that does not apply to them (patents, procurement,
    honours, registered capital);
  - how many reason codes entities get, and the time of ``reasons`` on 520,000 rows (the
    population tiled).

    PYTHONPATH=src XINRONG_VAR=/tmp/xv .venv/bin/python manage.py seed --scale demo
    PYTHONPATH=src XINRONG_VAR=/tmp/xv .venv/bin/python benchmarks/reasons_demo.py
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinrong.config.settings")


def best_bin_reasons(card, result, top: int = 3) -> np.ndarray:  # the rule before issue 13
    _lows, highs = card.point_ranges()
    loss = highs[None, :] - result.points
    order = np.argsort(-loss, axis=1, kind="stable")[:, :top]
    lost = np.take_along_axis(loss, order, axis=1)
    return np.where(lost > 1e-9, order, -1)


def main() -> None:
    import django

    django.setup()
    from xinrong.credit import reasons as true_reasons
    from xinrong.credit.features import FEATURES, feature_matrix
    from xinrong.credit.models import ScoreModel
    from xinrong.credit.scorecard import Scorecard
    from xinrong.enterprises.models import MarketEntity

    model = ScoreModel.objects.filter(status="active").first()
    if model is None:
        sys.exit("no active model: seed first (manage.py seed --scale demo)")
    card = Scorecard.from_json(model.card)
    X = feature_matrix()
    kinds = dict(MarketEntity.objects.values_list("pk", "entity_type"))
    if "entity_type" not in X.columns:
        X["entity_type"] = [kinds[i] for i in X.index]
    result = card.score(X)
    names = np.array([f.name for f in card.features] + [""], dtype=object)
    old = names[best_bin_reasons(card, result)]
    new = names[true_reasons.reasons(card, result, X)]
    print(f"model v{model.version} ({model.metrics.get('outcomes')}), {len(X):,} entities")
    print(f"features on the card: {', '.join(f.name for f in card.features)}")

    negative = [f.name for f in FEATURES if f.negative]
    values = X[negative].fillna(0).to_numpy() > 0
    clean = ~values.any(axis=1)

    def named(codes: np.ndarray, features: list[str]) -> np.ndarray:
        return np.isin(codes, features).any(axis=1)

    def row(title: str, who: np.ndarray, features: list[str]) -> None:
        on_card = [f for f in features if f in names]
        costs = np.zeros(len(X), dtype=bool)
        for f in card.features:
            if f.name in on_card:
                j = [g.name for g in card.features].index(f.name)
                costs |= true_reasons.fact_costs(f)[result.bins[j]] > 0
        costly = who & costs
        print(
            f"{title:<34} {who.sum():>6,} have it, {costly.sum():>6,} costing points;"
            f" named before {(who & named(old, features)).sum():>6,},"
            f" now {(costly & named(new, features)).sum():>6,} of {costly.sum():,}"
            f" (all with it: {(who & named(new, features)).sum():,})"
        )

    print()
    before = (clean & (old != "").any(axis=1)).sum()
    now = (clean & (new != "").any(axis=1)).sum()
    print(f"no negative fact: {clean.sum():,}; with reasons before {before:,}, now {now:,}")
    for title, features in (
        ("penalties", ["penalties_general", "penalties_serious"]),
        ("social-security/tax/utility arrears", [
            "social_arrears_months", "tax_arrears_months", "utility_arrears_months"
        ]),
        ("court cases", ["cases_defendant_36m", "case_amount_36m"]),
        ("失信被执行人", ["dishonest"]),
        ("any negative fact", negative),
    ):  # fmt: skip
        who = (X[[f for f in features]].fillna(0).to_numpy() > 0).any(axis=1)
        row(title, who, features)
    ib = X["entity_type"].to_numpy(dtype=object) == "individual_business"
    foreign = [f.name for f in FEATURES if "individual_business" not in f.applies_to]
    print(
        f"individual businesses: {ib.sum():,}; given {'/'.join(foreign)} as a reason before "
        f"{(ib & named(old, foreign)).sum():,}, now {(ib & named(new, foreign)).sum():,}"
    )
    ip = ib & named(old, ["ip_count"])
    ip_now = (ib & named(new, ["ip_count"])).sum()
    print(f"  of which 专利与商标数 before: {ip.sum():,}, now {ip_now:,}")
    counts = (new != "").sum(axis=1)
    print(
        "reason codes per entity now: "
        + ", ".join(f"{c}: {int((counts == c).sum()):,}" for c in range(counts.max() + 1))
    )
    worst = int(np.argmin(result.score))
    print(
        f"worst entity (score {result.score[worst]:.0f}): dishonest={X['dishonest'].iloc[worst]:g};"
        f" before {[c for c in old[worst] if c]}, now {[c for c in new[worst] if c]}"
    )

    reps = max(1, 520_000 // len(X))
    big = pd.concat([X] * reps, ignore_index=True)
    big_result = card.score(big)
    started = time.perf_counter()
    true_reasons.reasons(card, big_result, big)
    seconds = time.perf_counter() - started
    print(f"\nreasons over {len(big):,} rows: {seconds:.2f} s ({len(big) / seconds:,.0f} rows/s)")


if __name__ == "__main__":
    main()
