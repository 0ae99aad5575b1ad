#!/usr/bin/env python3
"""Batch scoring speed: xinrong's kernel vs optbinning and toad, with a bare NumPy gather floor.

Part 1 (in this process): a synthetic feature matrix of N entities (default 520,000, the
province) with all of xinrong's features; outcomes from xinrong's documented synthetic process.
One model is trained on a 50,000-row sample with each library. Then all N rows are scored, best
of 3, by:
  - xinrong   ``Scorecard.score`` (uint8 bin counting by comparisons, block by block, and one
              gather per group of features from combined point tables);
  - optbinning ``Scorecard.score``;
  - toad       ``ScoreCard.predict``;
  - floor      a bare NumPy gather of each feature's bin points with the bin indices already
              known (the issue's floor);
  - stricter floor: the same gathers the kernel does (its combined tables, uint8 combined
              indices already known), i.e. the kernel with binning made free.
Prints rows/s and the ratios against both floors.

Part 2 (``--e2e``): end to end on a database. A fresh database is seeded at ``--scale``, then
``xinrong score --all`` runs in its own process, which reads the facts, builds the feature
matrix, scores and writes the profiles. It prints the wall time and that process's peak RSS.

    .venv/bin/python benchmarks/score_bench.py                       # part 1
    .venv/bin/python benchmarks/score_bench.py --e2e --scale province --backend postgres
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
PG_ADMIN = os.environ.get("PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
warnings.filterwarnings("ignore")


def features(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Plausible columns for xinrong's features (NaN where a source has no data)."""
    from xinrong.credit.features import FEATURES

    cols: dict[str, np.ndarray] = {}
    for f in FEATURES:
        if f.name in ("dishonest", "abnormal_listed"):
            x = (rng.random(n) < 0.03).astype(float)
        elif f.name == "tax_grade":
            x = rng.choice([1.0, 2.0, 3.0, 4.0, 5.0, np.nan], n, p=[0.03, 0.07, 0.2, 0.3, 0.3, 0.1])
        elif f.name.endswith("_trend"):
            x = rng.normal(0.05, 0.3, n)
        elif "arrears" in f.name or f.name.startswith(("penalties", "cases", "related")):
            x = rng.poisson(0.3, n).astype(float)
        else:
            x = rng.lognormal(1.5, 1.2, n)
        if f.name in ("registered_capital", "insured_headcount", "insured_trend", "tax_trend"):
            x[rng.random(n) < 0.3] = np.nan
        cols[f.name] = x
    return pd.DataFrame(cols)


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def kernels(n: int) -> None:
    import toad
    from optbinning import BinningProcess
    from optbinning import Scorecard as OptScorecard
    from sklearn.linear_model import LogisticRegression

    from xinrong.credit import scorecard, synthetic
    from xinrong.credit.features import FEATURES

    rng = np.random.default_rng(42)
    X = features(n, rng)
    y, _p = synthetic.outcomes(X, seed=42)
    sample = rng.choice(n, 50_000, replace=False)
    Xs, ys = X.iloc[sample], y[sample]
    # every feature stays in (min_iv=0): the kernel is timed on all of them, as in production
    card = scorecard.fit(Xs, ys, trends={f.name: f.trend for f in FEATURES}, min_iv=0.0)
    names = [f.name for f in card.features]
    ref = OptScorecard(
        binning_process=BinningProcess(variable_names=names),
        estimator=LogisticRegression(max_iter=2000),
        scaling_method="pdo_odds",
        scaling_method_params={"pdo": 20, "odds": 50, "scorecard_points": 600},
    ).fit(Xs[names], ys)
    # toad's rule check trips over NaN bins on some samples; missing values get their own
    # value below every real one, as toad users usually do
    Xt = Xs[names].fillna(-1.0)
    combiner = toad.transform.Combiner()
    combiner.fit(Xt, ys, method="chi", min_samples=0.05)
    woe = toad.transform.WOETransformer()
    trained = woe.fit_transform(combiner.transform(Xt), ys)
    toad_card = toad.ScoreCard(combiner=combiner, transer=woe)
    toad_card.fit(trained, ys)

    # the floor: bin points gathered with the bin indices already known
    bins = card.score(X).bins.astype(np.intp)
    tables = [np.asarray(f.points) for f in card.features]

    def gather() -> np.ndarray:
        total = np.zeros(n)
        for j, table in enumerate(tables):
            total += np.take(table, bins[j])
        return total

    # the stricter floor: the kernel's own combined tables and uint8 indices, already known
    groups = scorecard._gather_groups([len(t) for t in tables])
    combined = [scorecard._sum_table([tables[i] for i in g]) for g in groups]
    indices = []
    for g in groups:
        idx = np.zeros(n, dtype=np.uint8)
        for i in g:
            idx = (idx * np.uint8(len(tables[i])) + bins[i].astype(np.uint8)).astype(np.uint8)
        indices.append(idx)

    def gather_combined() -> np.ndarray:
        total, part = np.zeros(n), np.empty(n)
        for table, idx in zip(combined, indices, strict=True):
            np.take(table, idx, out=part, mode="clip")
            total += part
        return total

    assert np.allclose(gather_combined(), gather()), "the two floors must give the same scores"
    assert all(f.categories is None for f in card.features), "the floor assumes numeric features"
    Xn = X[names]
    t_ours = best_of(lambda: card.score(Xn))
    t_floor = best_of(gather)
    t_strict = best_of(gather_combined)
    t_opt = best_of(lambda: ref.score(Xn), repeat=1)
    t_toad = best_of(lambda: toad_card.predict(Xn.fillna(-1.0)), repeat=1)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"scoring {n:,} entities, {len(names)} features (best of 3; optbinning and toad once)")
    for label, t in (
        ("xinrong kernel", t_ours),
        ("bare NumPy gather", t_floor),
        (f"combined-table gather ({len(groups)})", t_strict),
        ("optbinning Scorecard.score", t_opt),
        ("toad ScoreCard.predict", t_toad),
    ):
        print(f"  {label:<28} {t:8.3f} s  {n / t:14,.0f} rows/s")
    print(f"  xinrong vs optbinning: x{t_opt / t_ours:.1f} faster")
    print(f"  xinrong vs toad:       x{t_toad / t_ours:.1f} faster")
    print(f"  xinrong / floor speed: {t_floor / t_ours:.2f} (1.0 = as fast as the bare gather)")
    print(
        f"  xinrong / stricter floor speed: {t_strict / t_ours:.2f} "
        f"(the kernel's own {len(groups)} gathers with binning free)"
    )

    print(f"  peak RSS of this process: {peak:,.0f} MiB")


def e2e(scale: str, backend: str) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="xinrong-score-bench-"))
    env = {
        **os.environ,
        "XINRONG_VAR": str(tmp),
        "SECRET_KEY": "bench-" + "x" * 40,
        "DJANGO_SETTINGS_MODULE": "xinrong.config.settings",
        "PYTHONPATH": str(ROOT / "src"),
    }
    db = f"xinrong_score_bench_{os.getpid()}"
    if backend == "postgres":
        subprocess.run(["psql", PG_ADMIN, "-qc", f"CREATE DATABASE {db}"], check=True)
        env["DATABASE_URL"] = PG_ADMIN.rsplit("/", 1)[0] + "/" + db
    else:
        env.pop("DATABASE_URL", None)
    xr = [sys.executable, "-m", "xinrong.cli"]
    try:
        subprocess.run([*xr, "migrate", "--noinput", "-v", "0"], env=env, check=True, cwd=ROOT)
        start = time.perf_counter()
        subprocess.run(
            [*xr, "seed", "--scale", scale, "--seed", "20221"],
            env=env,
            check=True,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        seed_s = time.perf_counter() - start
        # the seed scored everyone already; force a full rewrite with a new model version
        subprocess.run(
            [*xr, "model", "train", "--seed", "7", "--activate"],
            env=env,
            check=True,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        start = time.perf_counter()
        proc = subprocess.Popen(
            [*xr, "score", "--all"], env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        out = proc.stdout.read() if proc.stdout else ""
        if os.waitstatus_to_exitcode(status):
            sys.exit(out)
        print(f"end to end on {backend}, scale {scale} (seeded in {seed_s:.0f} s):")
        print(f"  {out.strip()}")
        peak = usage.ru_maxrss / 1024
        print(f"  `xinrong score --all`: {wall:.1f} s wall, peak RSS {peak:,.0f} MiB")
    finally:
        if backend == "postgres":
            subprocess.run(
                ["psql", PG_ADMIN, "-qc", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"], check=False
            )
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=520_000)
    parser.add_argument("--e2e", action="store_true")
    parser.add_argument("--scale", default="province", choices=("demo", "city", "province"))
    parser.add_argument("--backend", default="postgres", choices=("sqlite", "postgres"))
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinrong.config.settings")
    os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 40)
    os.environ.setdefault("XINRONG_VAR", tempfile.mkdtemp(prefix="xinrong-bench-"))
    import django

    django.setup()  # only for the feature list; part 1 never opens the database
    if args.e2e:
        e2e(args.scale, args.backend)
    else:
        kernels(args.rows)


if __name__ == "__main__":
    main()
