#!/usr/bin/env python3
"""Ingestion pipeline throughput against a bare bulk load of the same rows, in the same run.

Generates N tax rows as a CSV (valid USCCs of N/12 seeded entities, 12 months each), then:
  1. runs `xinrong ingest` (the real pipeline: validation, association, dedup, typed facts)
     in a fresh database, measuring wall time and peak RSS of that process;
  2. loads the same CSV into a bare table: PostgreSQL `COPY`, or SQLite `executemany`.
Prints rows/s for each and the ratio pipeline / bare load.

With --floor (PostgreSQL), the same run then measures the *write floor*: the facts the pipeline
stored, already validated and typed, are exported and copied back with `COPY` into an empty
table shaped like `datahub_fact` (sorted by the unique key, the cheapest order), once with the
fact table's own indexes, once without the unique key, once with no index. No pipeline that
stores these facts in that table can beat the first of these times, so `COPY` / floor is the
highest ratio any implementation could reach on this machine.

    .venv/bin/python benchmarks/ingest_bench.py --rows 1000000 --backend postgres
    .venv/bin/python benchmarks/ingest_bench.py --rows 200000 --backend sqlite
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
PG_ADMIN = os.environ.get("PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")

SETUP = """
import os
from xinrong.accounts.services.organisations import organisation_create
from xinrong.datahub.services.sources import source_create
from xinrong.enterprises.models import MarketEntity
from xinrong.enterprises.names import name_key
org = organisation_create(name="税务局", kind="government")
source_create(code="tax", name="税务局", organisation=org, categories=["tax"])
codes = open(os.environ["BENCH_CODES"]).read().split()
MarketEntity.objects.bulk_create(
    [MarketEntity(uscc=c, name=f"企业{i}", name_key=name_key(f"企业{i}"), entity_type="enterprise",
                  industry_code="F51", division_code="630102") for i, c in enumerate(codes)],
    batch_size=5000)
"""


def _timed(
    cmd: list[str], env: dict[str, str], out: list[str] | None = None
) -> tuple[float, float]:
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    _pid, status, usage = os.wait4(proc.pid, 0)
    text = proc.stdout.read().decode() if proc.stdout else ""
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{text}")
    if out is not None:
        out.append(text)
    return time.perf_counter() - start, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="postgres")
    parser.add_argument(
        "--floor", action="store_true", help="also measure the fact-table write floor (PostgreSQL)"
    )
    args = parser.parse_args()
    if args.floor and args.backend != "postgres":
        parser.error("--floor needs --backend postgres")
    tmp = Path(tempfile.mkdtemp(prefix="xinrong-ingest-bench-"))
    os.environ.update(
        XINRONG_VAR=str(tmp),
        SECRET_KEY="bench-" + "x" * 40,
        DJANGO_SETTINGS_MODULE="xinrong.config.settings",
    )
    import django

    django.setup()  # only to generate valid codes; this process never opens the database
    from xinrong.reference import uscc

    rng = random.Random(7)
    n_entities = max(1, args.rows // 12)
    codes: list[str] = []
    seen: set[str] = set()
    while len(codes) < n_entities:
        c = uscc.generate(rng, division_code="630102")
        if c not in seen:
            seen.add(c)
            codes.append(c)
    csv_path, codes_path = tmp / "tax.csv", tmp / "codes.txt"
    codes_path.write_text("\n".join(codes))
    with csv_path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            ["统一社会信用代码", "所属期", "实缴税额（元）", "纳税信用等级", "欠税金额（元）"]
        )
        for i in range(args.rows):
            year = 2000 + (i // n_entities) // 12
            w.writerow(
                [
                    codes[i % n_entities],
                    f"{year}-{(i // n_entities) % 12 + 1:02d}",
                    f"{rng.randint(0, 999999)}.{rng.randint(0, 99):02d}",
                    "ABMCD"[i % 5],
                    "0" if i % 10 else "120.00",
                ]
            )
    env = {
        **os.environ,
        "XINRONG_VAR": str(tmp),
        "SECRET_KEY": "bench-" + "x" * 40,
        "DJANGO_SETTINGS_MODULE": "xinrong.config.settings",
        "PYTHONPATH": str(ROOT / "src"),
    }
    db = f"xinrong_ingest_bench_{os.getpid()}"
    if args.backend == "postgres":
        subprocess.run(["psql", PG_ADMIN, "-qc", f"CREATE DATABASE {db}"], check=True)
        env["DATABASE_URL"] = PG_ADMIN.rsplit("/", 1)[0] + "/" + db
    else:
        env.pop("DATABASE_URL", None)
    try:
        xr = [sys.executable, "-m", "xinrong.cli"]
        _timed([*xr, "migrate", "--noinput", "-v", "0"], env)
        _timed([*xr, "shell", "-v", "0", "-c", SETUP], {**env, "BENCH_CODES": str(codes_path)})
        printed: list[str] = []
        pipe_s, pipe_mib = _timed(
            [*xr, "ingest", "--source", "tax", "--category", "tax", str(csv_path)], env, printed
        )
        match = re.search(r"pipeline ([0-9.]+) s", printed[0])
        inner_s = float(match.group(1)) if match else pipe_s
        start = time.perf_counter()
        if args.backend == "postgres":
            import psycopg

            with psycopg.connect(env["DATABASE_URL"]) as conn:
                conn.execute(
                    "CREATE TABLE bare_tax (uscc text, period text, tax_paid numeric, "
                    "grade text, arrears numeric)"
                )
                with (
                    conn.cursor() as cur,
                    cur.copy("COPY bare_tax FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
                    csv_path.open("rb") as fh,
                ):
                    while block := fh.read(1 << 20):
                        copy.write(block)
            label = "PostgreSQL COPY"
        else:
            conn = sqlite3.connect(tmp / "bare.sqlite3")
            conn.execute(
                "CREATE TABLE bare_tax (uscc text, period text, tax_paid numeric, "
                "grade text, arrears numeric)"
            )
            with csv_path.open(encoding="utf-8") as fh:
                reader = csv.reader(fh)
                next(reader)
                conn.executemany("INSERT INTO bare_tax VALUES (?, ?, ?, ?, ?)", reader)
            conn.commit()
            conn.close()
            label = "SQLite executemany"
        bare_s = time.perf_counter() - start
        floor_indexes, floors = _write_floor(env["DATABASE_URL"]) if args.floor else ([], [])
    finally:
        if args.backend == "postgres":
            subprocess.run(
                ["psql", PG_ADMIN, "-qc", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"], check=False
            )
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"rows: {args.rows:,} on {args.backend}")
    print(
        f"  pipeline (xinrong ingest): {pipe_s:8.1f} s  {args.rows / pipe_s:10,.0f} rows/s  "
        f"peak {pipe_mib:,.0f} MiB"
    )
    print(
        f"  pipeline (batch start→end): {inner_s:8.1f} s  {args.rows / inner_s:10,.0f} rows/s  "
        "(without interpreter and Django start-up)"
    )
    print(f"  {label:<25}: {bare_s:8.1f} s  {args.rows / bare_s:10,.0f} rows/s")
    print(f"  ratio pipeline / bare load: {bare_s / pipe_s:.3f} (whole command)")
    print(f"  ratio pipeline / bare load: {bare_s / inner_s:.3f} (batch start→end)")
    if floors:
        print("  write floor: COPY of the stored facts, sorted, into an empty fact-shaped table")
        print(f"    the fact table's indexes: {', '.join(floor_indexes)}")
        for label, rows, seconds in floors:
            print(
                f"    {label:<36}: {seconds:6.2f} s for {rows:,} facts; "
                f"best reachable ratio {bare_s / seconds * rows / args.rows:.3f}"
            )


def _write_floor(url: str) -> tuple[list[str], list[tuple[str, int, float]]]:
    """Time COPY of the stored facts into fresh fact-shaped tables with fewer and fewer indexes."""
    import psycopg

    results: list[tuple[str, int, float]] = []
    with psycopg.connect(url) as conn:
        cols = [
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = 'datahub_fact' AND column_name NOT IN ('id', 'created_at') "
                "ORDER BY ordinal_position"
            )
        ]
        names = ", ".join(cols)
        data = bytearray()
        with conn.cursor().copy(
            f"COPY (SELECT {names} FROM datahub_fact "  # noqa: S608
            "ORDER BY entity_id, source_id, row_hash) TO STDOUT"
        ) as copy:
            for block in copy:
                data += block
        rows = int(conn.execute("SELECT count(*) FROM datahub_fact").fetchone()[0])
        indexes = [
            (name, ddl)
            for name, ddl in conn.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'datahub_fact'"
            )
        ]
        conn.commit()
        variants = [
            ("with the fact table's indexes", indexes),
            (
                "without the unique key",
                [(n, d) for n, d in indexes if "UNIQUE" not in d or "pkey" in n],
            ),
            ("without any index", []),
        ]
        for label, keep in variants:
            conn.execute("DROP TABLE IF EXISTS floor_fact")
            conn.execute(
                "CREATE TABLE floor_fact (LIKE datahub_fact INCLUDING DEFAULTS INCLUDING IDENTITY)"
            )
            for name, ddl in keep:
                conn.execute(
                    ddl.replace(f"INDEX {name} ON", f"INDEX floor_{name} ON").replace(
                        "public.datahub_fact ", "floor_fact "
                    )
                )
            conn.commit()
            start = time.perf_counter()
            with conn.cursor().copy(f"COPY floor_fact ({names}) FROM STDIN") as copy:
                view = memoryview(data)
                for at in range(0, len(view), 1 << 20):
                    copy.write(view[at : at + (1 << 20)])
            conn.commit()
            results.append((label, rows, time.perf_counter() - start))
        conn.execute("DROP TABLE floor_fact")
        conn.commit()
    return [name for name, _ddl in indexes], results


if __name__ == "__main__":
    main()
