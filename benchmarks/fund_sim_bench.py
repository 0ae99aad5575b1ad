#!/usr/bin/env python3
"""Fund-sufficiency simulator speed and memory at province scale (issue 15).

No database: ``--entities`` synthetic borrowers (default 520,000, Qinghai's market entities, 74%
individual businesses), one outstanding loan each (individual businesses around ¥200k, enterprises
around ¥1.5m, lognormal; sizes small/micro/medium), a PD from a credit score drawn around 640
(σ 45) through the default scorecard scale (600 points = 50:1, 20 points to double the odds),
and the four default scenarios (¥5m 3:7 enterprises; ¥10m; ¥10m + individual businesses;
¥10m + individual + 4:6), judged with NumPy masks as ``selectors.simulation.eligible_mask``.

  - engine: ``riskfund.simulation.simulate_payouts`` over every loan, ``--paths`` paths
    (default 10,000), ρ given by ``--rho`` (default 0.1), chunked; time and peak traced memory;
  - baseline 1, naive Python: a per-path, per-loan ``random.random() < pd`` loop on a sample
    (``--sample-paths`` × ``--sample-loans``), extrapolated per draw to the full size;
  - baseline 2, dense NumPy without chunks: all paths × loans at once, run at ``--dense-paths``
    paths and extrapolated (its memory grows with paths × loans: it would not fit at 10,000).

    .venv/bin/python benchmarks/fund_sim_bench.py
    .venv/bin/python benchmarks/fund_sim_bench.py --entities 100000 --paths 2000 --rho 0
"""

from __future__ import annotations

import argparse
import math
import random
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from xinrong.riskfund import simulation as engine  # noqa: E402


def synthetic_book(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    individual = rng.random(n) < 0.74
    exposure = np.where(
        individual, rng.lognormal(math.log(2e5), 0.8, n), rng.lognormal(math.log(1.5e6), 1.0, n)
    ).round(2)
    size = rng.choice(np.array(["micro", "small", "medium"]), size=n, p=[0.6, 0.3, 0.1])
    score = rng.normal(640, 45, n)
    factor = 20 / math.log(2)
    log_odds = (score - (600 - factor * math.log(50))) / factor
    return {
        "individual": individual,
        "exposure": exposure,
        "size": size,
        "pd": 1 / (1 + np.exp(log_odds)),
    }


def scenario_losses(book: dict[str, np.ndarray], lgd: float) -> np.ndarray:
    small = np.isin(book["size"], ["small", "micro"])
    enterprise_ok = ~book["individual"] & small
    cols = []
    for cap, with_individual, share in (
        (5e6, False, 0.3),
        (1e7, False, 0.3),
        (1e7, True, 0.3),
        (1e7, True, 0.4),
    ):
        covered = (enterprise_ok | (book["individual"] & with_individual)) & (
            book["exposure"] <= cap
        )
        cols.append(np.where(covered, book["exposure"] * lgd * share, 0.0))
    return np.stack(cols, axis=1)


def naive(pd: np.ndarray, loss: np.ndarray, paths: int, seed: int) -> np.ndarray:
    rnd = random.Random(seed)
    pdl, lossl = pd.tolist(), loss.tolist()
    out = []
    for _ in range(paths):
        total = [0.0] * loss.shape[1]
        for p, row in zip(pdl, lossl, strict=True):
            if rnd.random() < p:
                for s, v in enumerate(row):
                    total[s] += v
        out.append(total)
    return np.array(out)


def dense(pd: np.ndarray, loss: np.ndarray, paths: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    hits = rng.random((paths, pd.size)) < pd
    return hits.astype(np.float64) @ loss


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--entities", type=int, default=520_000)
    ap.add_argument("--paths", type=int, default=10_000)
    ap.add_argument("--rho", type=float, default=0.1)
    ap.add_argument("--lgd", type=float, default=0.6)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--sample-paths", type=int, default=20)
    ap.add_argument("--sample-loans", type=int, default=20_000)
    ap.add_argument("--dense-paths", type=int, default=50)
    args = ap.parse_args()

    book = synthetic_book(args.entities, np.random.default_rng(args.seed))
    loss = scenario_losses(book, args.lgd)
    pd = book["pd"]
    n, paths = pd.size, args.paths
    draws = n * paths
    print(
        f"portfolio: {n:,} loans, exposure ¥{book['exposure'].sum() / 1e8:,.1f} 亿, "
        f"mean PD {pd.mean():.2%}, covered per scenario "
        f"{[int((loss[:, s] > 0).sum()) for s in range(4)]}"
    )

    engine.simulate_payouts(pd[:10], loss[:10], paths=2, rho=args.rho)  # imports, warm-up
    tracemalloc.start()
    t0 = time.perf_counter()
    out = engine.simulate_payouts(pd, loss, paths=paths, rho=args.rho, seed=args.seed)
    t_engine = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    expected = engine.expected_payout(pd, loss)
    print(
        f"engine: {paths:,} paths × {n:,} loans, ρ={args.rho}: {t_engine:.1f} s "
        f"({t_engine / draws * 1e9:.2f} ns per loan-path), peak traced memory "
        f"{peak / 2**20:,.0f} MiB"
    )
    for s in range(loss.shape[1]):
        y = out[s].ravel()
        print(
            f"  scenario {s + 1}: mean ¥{y.mean() / 1e4:,.0f} 万 "
            f"(analytic {expected[s] / 1e4:,.0f} 万), "
            f"p99 ¥{np.percentile(y, 99) / 1e4:,.0f} 万"
        )

    idx = np.random.default_rng(1).choice(n, size=min(args.sample_loans, n), replace=False)
    t0 = time.perf_counter()
    naive(pd[idx], loss[idx], args.sample_paths, args.seed)
    t_naive = time.perf_counter() - t0
    per = t_naive / (idx.size * args.sample_paths)
    naive_full = per * draws
    print(
        f"naive Python loop: {args.sample_paths} paths × {idx.size:,} loans {t_naive:.2f} s "
        f"({per * 1e9:,.0f} ns per loan-path) → extrapolated {naive_full:,.0f} s "
        f"({naive_full / 3600:,.1f} h); engine is {naive_full / t_engine:,.0f}× faster (ρ=0 loop)"
    )

    tracemalloc.start()
    t0 = time.perf_counter()
    dense(pd, loss, args.dense_paths, args.seed)
    t_dense = time.perf_counter() - t0
    _, dpeak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    dense_full = t_dense / args.dense_paths * paths
    dense_mem = dpeak / args.dense_paths * paths
    print(
        f"dense NumPy, no chunks: {args.dense_paths} paths {t_dense:.2f} s, peak "
        f"{dpeak / 2**20:,.0f} MiB → at {paths:,} paths ≈ {dense_full:,.0f} s and "
        f"{dense_mem / 2**30:,.0f} GiB ({dense_mem / max(peak, 1):,.0f}× the engine's memory)"
    )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak RSS (includes the dense baseline): {rss:,.0f} MiB")


if __name__ == "__main__":
    main()
