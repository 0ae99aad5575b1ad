"""Region-scoped reads of the fact table: partitioned by province vs one plain table.

PostgreSQL only. Builds, in its own database ``x_partition_bench``, two copies of a table shaped
like ``datahub_fact`` (its columns, its primary key, its unique row key and its batch index) with
the same rows: ``--factor`` provinces of ``--province-facts`` facts each (the default, 10 ×
1,000,000, is ten times a province's facts), one copy LIST-partitioned by province as migration
datahub 0013 does, the other plain. Rows are generated in the server (``generate_series``) and the
indexes built after the load, so the build time per row is the write floor of this machine.
Then it times, in the same run, the region-scoped reads on both copies (p50 of ``--repeat``
after one warm-up) and counts the partitions each plan scans:

- statistics of a region: facts per category with their amounts, one province;
- features of a region: negative facts per entity, one province;
- archive: one entity's facts (the unique key's leading column), with its province.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python \
        benchmarks/partition_bench.py [--province-facts 1000000] [--factor 10]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import time
from urllib.parse import urlsplit, urlunsplit

import psycopg

PROVINCES = [
    *("11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36"),
    *("37", "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62"),
    *("63", "64", "65", "71", "81", "82"),
]
DB = "x_partition_bench"
COLUMNS = """
    id bigint NOT NULL, batch_id bigint NOT NULL, source_id bigint NOT NULL,
    category varchar(32) NOT NULL, entity_id bigint NOT NULL, row_hash bigint NOT NULL,
    period varchar(7) NOT NULL, occurred_on date, amount numeric(16, 2), negative boolean NOT NULL,
    retention_until date, data jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now(),
    province varchar(2) NOT NULL
"""
CATEGORIES = "ARRAY['tax','social_insurance','penalty','judicial','utility','customs','honour']"
TARGET = "63"  # Qinghai: the region the reads ask for


def _url(dbname: str) -> str:
    parts = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    return urlunsplit(parts._replace(path=f"/{dbname}"))


def build(cur: psycopg.Cursor, table: str, *, partitioned: bool, per: int, provinces: list[str]):
    cur.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
    tail = " PARTITION BY LIST (province)" if partitioned else ""
    cur.execute(f"CREATE TABLE {table} ({COLUMNS}){tail}")
    if partitioned:
        for code in PROVINCES:
            cur.execute(
                f"CREATE TABLE {table}_p{code} PARTITION OF {table} FOR VALUES IN ('{code}')"
            )
        cur.execute(f"CREATE TABLE {table}_pdefault PARTITION OF {table} DEFAULT")
    k, total = len(provinces), per * len(provinces)
    entities = max(per // 4, 1)  # about four facts an entity, as the seed's
    started = time.perf_counter()
    cur.execute(
        f"""INSERT INTO {table} (id, batch_id, source_id, category, entity_id, row_hash, period,
            occurred_on, amount, negative, retention_until, data, province)
        SELECT g, g / 100000, mod(g, 7), ({CATEGORIES})[1 + mod(g, 7)],
               mod(g, %s) * 10000000 + mod(g / %s, %s), hashtextextended(g::text, 0),
               to_char(date '2020-01-01' + mod(g, 1800)::int, 'YYYY-MM'),
               date '2020-01-01' + mod(g, 1800)::int, mod(g, 100000) / 100.0, mod(g, 13) = 0,
               CASE WHEN mod(g, 13) = 0 THEN date '2030-01-01' END, '{{}}'::jsonb,
               (%s::text[])[1 + mod(g, %s)]
        FROM generate_series(1, %s) g""",  # noqa: S608 (names from this script)
        [k, k, entities, provinces, k, total],
    )
    loaded = time.perf_counter() - started
    key = "id, province" if partitioned else "id"
    cur.execute(f"ALTER TABLE {table} ADD PRIMARY KEY ({key})")
    cur.execute(
        f"ALTER TABLE {table} ADD CONSTRAINT {table}_unique_row "
        "UNIQUE (entity_id, source_id, row_hash, province)"
    )
    cur.execute(f"CREATE INDEX {table}_batch_idx ON {table} (batch_id)")
    cur.execute(f"ANALYZE {table}")
    return total, loaded, time.perf_counter() - started


QUERIES = {
    "statistics of a region (per category)": (
        "SELECT category, count(*), sum(amount) FROM {t} WHERE province = %s GROUP BY category"
    ),
    "features of a region (negatives per entity)": (
        "SELECT entity_id, count(*) FILTER (WHERE negative) FROM {t} "
        "WHERE province = %s GROUP BY entity_id"
    ),
    "archive of one entity": "SELECT * FROM {t} WHERE province = %s AND entity_id = %s",
}


def timed(cur: psycopg.Cursor, sql: str, params: list[object], repeat: int) -> float:
    cur.execute(sql, params)
    cur.fetchall()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        cur.execute(sql, params)
        cur.fetchall()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def scanned(cur: psycopg.Cursor, sql: str, params: list[object]) -> int:
    cur.execute("EXPLAIN " + sql, params)
    plan = "\n".join(r[0] for r in cur.fetchall())
    return len(set(re.findall(r"\bon (fact_part_p(?:\d\d|default))\b", plan)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--province-facts", type=int, default=1_000_000)
    ap.add_argument("--factor", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    provinces = [TARGET, *[p for p in PROVINCES if p != TARGET][: args.factor - 1]]
    with psycopg.connect(_url("postgres"), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DB}")
        admin.execute(f"CREATE DATABASE {DB}")
    with psycopg.connect(_url(DB), autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("SET max_parallel_workers_per_gather = 2")
        built = {}
        for table, partitioned in (("fact_plain", False), ("fact_part", True)):
            built[table] = build(
                cur, table, partitioned=partitioned, per=args.province_facts, provinces=provinces
            )
            total, loaded, whole = built[table]
            print(
                f"{table:10} {total:>12,} rows: load {loaded:7.1f} s, with indexes "
                f"{whole:7.1f} s = {whole / total * 1e6:.2f} µs a row"
            )
        cur.execute("SELECT pg_total_relation_size('fact_plain')")
        size = cur.fetchone()[0]
        print(f"plain table with indexes: {size / 2**30:.2f} GiB ({size / total:.0f} B a row)")
        entity = 12345  # an entity of the target province (province index 0)
        print(f"\nregion-scoped reads, province {TARGET}, p50 of {args.repeat} (ms):")
        print(f"{'query':46} {'plain':>9} {'partitioned':>12} {'ratio':>6}  partitions scanned")
        for label, sql in QUERIES.items():
            params: list[object] = [TARGET] if "%s AND" not in sql else [TARGET, entity]
            plain = timed(cur, sql.format(t="fact_plain"), params, args.repeat)
            part = timed(cur, sql.format(t="fact_part"), params, args.repeat)
            n = scanned(cur, sql.format(t="fact_part"), params)
            print(f"{label:46} {plain:9.1f} {part:12.1f} {plain / part:6.1f}  {n}")
    with psycopg.connect(_url("postgres"), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DB}")


if __name__ == "__main__":
    main()
