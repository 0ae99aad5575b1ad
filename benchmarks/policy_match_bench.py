#!/usr/bin/env python3
"""Policy matching speed: all measures over all entities in one vectorised pass, against a
general rule engine (PyPI ``rule-engine``) judging the same rules entity by entity.

No database: ``--entities`` synthetic entity rows (default 520,000, Qinghai's market entities)
are drawn as a DataFrame with every condition column (``policies.evaluate.columns``), with
realistic shares of unknown values, and ``--measures`` random condition lists (default 100; 1–6
conditions each, drawn from ``policies.conditions.FIELDS`` as a department would write them).

  - vectorised: ``policies.evaluate.evaluate_matrix`` over all rows (eligible and unmet counts);
  - rule engine: each measure compiled once as one ``rule_engine.Rule`` (the same rules, written
    by the test suite's reference translator), then ``matches`` per entity per measure, on a
    sample of ``--sample`` entities (default 5,000) and extrapolated to all; the conversion of
    rows to the dicts the engine reads is timed apart;
  - both must agree on the sample (the script stops otherwise).

    .venv/bin/python benchmarks/policy_match_bench.py
    .venv/bin/python benchmarks/policy_match_bench.py --entities 100000 --sample 2000
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))


def entity_frame(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Draw ``n`` entity rows with every condition column (unknowns as the registry has them)."""
    from xinrong.policies.conditions import CREDIT_GRADES, TAX_GRADES

    def maybe(values: np.ndarray, share: float, missing: Any) -> np.ndarray:
        out = values.astype(object)
        out[rng.random(n) < share] = missing
        return out

    industries = np.array(
        [
            "A0111",
            "A0311",
            "C1310",
            "C1320",
            "C2610",
            "C3011",
            "E4710",
            "F5110",
            "F5211",
            "H6110",
            "H6210",
            "I6510",
            "L7211",
            "M7320",
        ]
    )
    counties = np.array(
        [
            "630102",
            "630103",
            "630104",
            "630105",
            "630121",
            "630202",
            "632221",
            "632321",
            "632521",
            "632621",
            "632721",
            "632801",
            "632802",
            "632803",
        ]
    )
    tag_pool = ["zjtx", "gxjs", "kjxzx", "xgqy", "lzh"]
    tags = [
        tuple(sorted(rng.choice(tag_pool, size=k, replace=False)))
        for k in rng.choice([0, 0, 0, 0, 1, 1, 2], size=n)
    ]
    loans = rng.choice([0.0, 0.0, 0.0, 1.0, 2.0, 3.0], size=n)
    return pd.DataFrame(
        {
            "entity_type": rng.choice(["enterprise", "individual_business"], size=n, p=[0.3, 0.7]),
            "size_class": maybe(
                rng.choice(
                    ["large", "medium", "small", "micro"], size=n, p=[0.01, 0.04, 0.25, 0.70]
                ),
                0.2,
                "",
            ),
            "industry_code": rng.choice(industries, size=n),
            "division_code": rng.choice(counties, size=n),
            "years_in_business": maybe(rng.gamma(2.0, 3.0, size=n), 0.05, np.nan).astype(float),
            "employees": maybe(rng.integers(1, 300, size=n).astype(float), 0.3, np.nan).astype(
                float
            ),
            "insured_headcount": maybe(
                rng.integers(0, 200, size=n).astype(float), 0.5, np.nan
            ).astype(float),
            "registered_capital": maybe(rng.lognormal(4, 1.5, size=n), 0.6, np.nan).astype(float),
            "tax_paid_12m": maybe(rng.lognormal(1, 1.5, size=n), 0.4, np.nan).astype(float),
            "ip_count": rng.poisson(0.5, size=n).astype(float),
            "platform_loans": loans,
            "tax_grade": maybe(rng.choice(list(TAX_GRADES), size=n), 0.4, None),
            "credit_grade": maybe(rng.choice(list(CREDIT_GRADES), size=n), 0.1, None),
            "dishonest": (rng.random(n) < 0.02).astype(float),
            "abnormal_listed": (rng.random(n) < 0.05).astype(float),
            "penalties_serious": (rng.random(n) < 0.01).astype(float),
            "has_loan": (loans > 0).astype(float),
            "first_loan": ((loans > 0) & (rng.random(n) < 0.3)).astype(float),
            "tags": tags,
        },
        index=pd.Index(np.arange(1, n + 1), name="entity_id"),
    )


def random_conditions(rng: random.Random) -> list[dict[str, Any]]:
    """One measure's condition list as a department writes it (1–6 conditions, distinct fields)."""
    from xinrong.policies.conditions import FIELDS

    pools: dict[str, Any] = {
        "entity_type": lambda: rng.sample(["enterprise", "individual_business"], 1),
        "size_class": lambda: rng.sample(["medium", "small", "micro"], rng.randint(1, 3)),
        "industry": lambda: rng.sample(["A", "C", "C13", "F", "H", "I65", "M"], rng.randint(1, 3)),
        "region": lambda: rng.sample(
            ["630000", "630100", "632800", "632801", "632200"], rng.randint(1, 2)
        ),
        "years_in_business": lambda: rng.choice([1, 2, 3, 5]),
        "employees": lambda: rng.choice([10, 50, 100]),
        "insured_headcount": lambda: rng.choice([5, 10, 20]),
        "registered_capital": lambda: rng.choice([10, 50, 100]),
        "tax_paid_12m": lambda: rng.choice([1, 5, 10]),
        "ip_count": lambda: rng.choice([1, 2, 5]),
        "platform_loans": lambda: rng.choice([1, 2]),
        "tax_grade": lambda: rng.choice(["A", "B", "M"]),
        "credit_grade": lambda: rng.choice(["AA", "A", "BBB", "BB"]),
        "dishonest": lambda: False,
        "abnormal_listed": lambda: False,
        "serious_penalty": lambda: False,
        "has_loan": lambda: rng.random() < 0.5,
        "first_loan": lambda: True,
        "tags": lambda: rng.sample(["zjtx", "gxjs", "kjxzx", "xgqy"], rng.randint(1, 2)),
    }
    out = []
    for name in rng.sample(sorted(FIELDS), rng.randint(1, 6)):
        f = FIELDS[name]
        op = rng.choice([o for o in f.ops if o != "between"])
        out.append({"field": name, "op": op, "value": pools[name]()})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entities", type=int, default=520_000)
    parser.add_argument("--measures", type=int, default=100)
    parser.add_argument("--sample", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinrong.config.settings")
    os.environ.setdefault("XINRONG_VAR", tempfile.mkdtemp(prefix="xinrong-policy-bench-"))
    import django

    django.setup()
    import rule_engine

    from xinrong.policies.evaluate import evaluate_matrix
    from xinrong.policies.tests.test_evaluate import _reference_row, _rule_text

    rng = np.random.default_rng(args.seed)
    prng = random.Random(args.seed)
    t = time.perf_counter()
    cols = entity_frame(args.entities, rng)
    measures = [random_conditions(prng) for _ in range(args.measures)]
    print(
        f"synthetic rows: {len(cols):,} × {len(cols.columns)} columns, "
        f"{len(measures)} measures, {sum(map(len, measures))} conditions "
        f"({time.perf_counter() - t:.1f} s to draw)"
    )

    t = time.perf_counter()
    eligible, unmet = evaluate_matrix(measures, cols)
    vec = time.perf_counter() - t
    pairs = args.measures * args.entities
    print(
        f"vectorised: {vec:.2f} s for {pairs:,} pairs "
        f"({vec / pairs * 1e9:.1f} ns a pair); eligible pairs {int(eligible.sum()):,}, "
        f"near misses (1 unmet) {int((unmet == 1).sum()):,}"
    )

    sample = np.sort(rng.choice(len(cols), size=min(args.sample, len(cols)), replace=False))
    records = cols.iloc[sample].to_dict("records")
    t = time.perf_counter()
    rows = [_reference_row(r) for r in records]
    convert = time.perf_counter() - t
    rules = [
        rule_engine.Rule(" and ".join(_rule_text(c) for c in conds) if conds else "true")
        for conds in measures
    ]
    t = time.perf_counter()
    verdict = np.array([[rule.matches(row) for row in rows] for rule in rules], dtype=bool)
    engine = time.perf_counter() - t
    if not np.array_equal(verdict, eligible[:, sample]):
        bad = int((verdict != eligible[:, sample]).sum())
        raise SystemExit(f"the rule engine and the vectorised pass disagree on {bad} pairs")
    scale = args.entities / len(sample)
    print(
        f"rule engine: {engine:.2f} s for {len(sample):,} entities × {len(rules)} measures "
        f"({engine / (len(sample) * len(rules)) * 1e6:.1f} µs a pair), rows to dicts "
        f"{convert:.2f} s; agrees with the vectorised pass on every sampled pair"
    )
    projected = (engine + convert) * scale
    print(
        f"rule engine extrapolated to {args.entities:,} entities: {projected:,.0f} s "
        f"({projected / 60:.1f} min)"
    )
    print(f"ratio: vectorised is {projected / vec:,.0f}× faster")


if __name__ == "__main__":
    main()
