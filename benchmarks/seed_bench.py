#!/usr/bin/env python3
"""Time and peak memory of `xinrong seed` at province scale on SQLite and PostgreSQL.

Each run is a fresh database and a separate process (`xinrong migrate` then `xinrong seed`), so
peak RSS is the seed's own. The baseline is the demo scale (2,000 entities) measured in the same
run on the same backend; the script prints the ratios province/demo for wall time, time per
entity (1.0 = perfectly linear) and peak memory.

    .venv/bin/python benchmarks/seed_bench.py                      # both backends, province
    .venv/bin/python benchmarks/seed_bench.py --backends sqlite --scale city
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
XINRONG = [sys.executable, "-m", "xinrong.cli"]
ENTITIES = {"demo": 2_000, "city": 60_000, "province": 520_000}
PG_ADMIN = os.environ.get("PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")


@dataclass
class Run:
    backend: str
    scale: str
    seconds: float
    peak_mib: float


def _run(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run a command; return (wall seconds, peak RSS MiB of that process)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    out = proc.stdout.read().decode() if proc.stdout else ""
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"command failed: {' '.join(cmd)}\n{out}")
    return seconds, usage.ru_maxrss / 1024


def _psql(sql: str) -> None:
    subprocess.run(["psql", PG_ADMIN, "-qc", sql], check=True)


def measure(backend: str, scale: str, seed: int) -> Run:
    """Seed ``scale`` into a fresh database of ``backend``; return its cost."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "xinrong.config.settings",
        "PYTHONPATH": str(ROOT / "src"),
    }
    tmp = Path(tempfile.mkdtemp(prefix="xinrong-bench-"))
    env["XINRONG_VAR"] = str(tmp)
    env["SECRET_KEY"] = "benchmark-only-secret-key-0123456789abcdef"
    db = f"xinrong_bench_{os.getpid()}_{scale}"
    if backend == "postgres":
        _psql(f"DROP DATABASE IF EXISTS {db}")
        _psql(f"CREATE DATABASE {db}")
        env["DATABASE_URL"] = PG_ADMIN.rsplit("/", 1)[0] + "/" + db
    else:
        env.pop("DATABASE_URL", None)
    try:
        _run([*XINRONG, "migrate", "--noinput", "-v", "0"], env)
        seconds, peak = _run([*XINRONG, "seed", "--scale", scale, "--seed", str(seed)], env)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if backend == "postgres":
            _psql(f"DROP DATABASE IF EXISTS {db}")
    return Run(backend, scale, seconds, peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--scale", default="province", choices=sorted(ENTITIES))
    parser.add_argument("--seed", type=int, default=20221)
    args = parser.parse_args()
    print(f"{'backend':<9} {'scale':<9} {'entities':>9} {'seconds':>9} {'peak MiB':>9}")
    results: dict[str, tuple[Run, Run]] = {}
    for backend in args.backends.split(","):
        base = measure(backend, "demo", args.seed)
        print(
            f"{backend:<9} {'demo':<9} {ENTITIES['demo']:>9,} {base.seconds:>9.1f} "
            f"{base.peak_mib:>9.0f}",
            flush=True,
        )
        big = measure(backend, args.scale, args.seed)
        print(
            f"{backend:<9} {args.scale:<9} {ENTITIES[args.scale]:>9,} {big.seconds:>9.1f} "
            f"{big.peak_mib:>9.0f}",
            flush=True,
        )
        results[backend] = (base, big)
    print("\nratios against the demo baseline of the same backend and run:")
    for backend, (base, big) in results.items():
        n = ENTITIES[args.scale] / ENTITIES["demo"]
        per_entity = (big.seconds / ENTITIES[args.scale]) / (base.seconds / ENTITIES["demo"])
        print(
            f"  {backend}: time x{big.seconds / base.seconds:.1f} for x{n:.0f} entities "
            f"(per-entity cost x{per_entity:.2f}); peak memory x{big.peak_mib / base.peak_mib:.1f}"
        )
    if "sqlite" in results and "postgres" in results:
        ratio = results["postgres"][1].seconds / results["sqlite"][1].seconds
        print(f"  postgres/sqlite time at {args.scale} scale: x{ratio:.2f}")


if __name__ == "__main__":
    main()
