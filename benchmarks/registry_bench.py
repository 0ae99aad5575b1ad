#!/usr/bin/env python3
"""The registry door's throughput beside the fact pipeline's, same size, same run, same database.

In a fresh database (SQLite file under a temporary folder, or a fresh PostgreSQL database):
  1. registry: N registration rows (N new market entities, each with its legal representative:
     a person with an encrypted ID number and the tie) through ``batch_ingest``;
  2. changes: N change rows of those entities (employees and capital; other cells empty);
  3. facts: N tax rows of the same entities through the same pipeline (a fact category).
Prints rows/s of each and the ratios registry / facts and changes / facts.

    .venv/bin/python benchmarks/registry_bench.py --rows 50000 --backend sqlite
    .venv/bin/python benchmarks/registry_bench.py --rows 50000 --backend postgres
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
PG_ADMIN = os.environ.get("PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def _csv(header: list[str], rows: list[list[str]]) -> io.BytesIO:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(rows)
    return io.BytesIO(buf.getvalue().encode("utf-8"))


def _codes(n: int) -> tuple[list[str], list[str]]:
    from xinrong.reference import idcard
    from xinrong.reference import uscc as uscc_codec

    rng = random.Random(20261207)
    codes: dict[str, None] = {}
    while len(codes) < n:
        kind = "2" if rng.random() < 0.7 else "1"  # most are individual businesses
        codes[uscc_codec.generate(rng, division_code="630102", entity_type=kind)] = None
    ids: dict[str, None] = {}
    day = 0
    while len(ids) < n:
        birth = dt.date(1950, 1, 1) + dt.timedelta(days=day % 18000)
        ids[idcard.generate(rng, division_code="630102", birth=birth)] = None
        day += 1
    return list(codes), list(ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    n = args.rows
    var = tempfile.mkdtemp(prefix="xr-registry-bench-")
    os.environ["XINRONG_VAR"] = var
    db_name = ""
    if args.backend == "postgres":
        import psycopg

        db_name = f"xr_regbench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{db_name}"')
        os.environ["DATABASE_URL"] = PG_ADMIN.rsplit("/", 1)[0] + f"/{db_name}"
    else:
        os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinrong.config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    try:
        call_command("migrate", verbosity=0)
        _run(n, args.backend)
    finally:
        if db_name:
            from django.db import connections

            connections.close_all()
            import psycopg

            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


def _run(n: int, backend: str) -> None:
    from xinrong.accounts.services.organisations import organisation_create
    from xinrong.datahub.services.ingest import batch_ingest
    from xinrong.datahub.services.sources import source_create
    from xinrong.enterprises.models import MarketEntity, Person

    org = organisation_create(name="青海省市场监督管理局", kind="government")
    market = source_create(
        code="market", name="市场监管", organisation=org, categories=["registry"]
    )
    tax_org = organisation_create(name="税务局", kind="government")
    tax = source_create(code="tax", name="税务", organisation=tax_org, categories=["tax"])
    codes, ids = _codes(n)

    def deliver(source, category: str, fileobj: io.BytesIO, name: str) -> tuple[float, int]:
        start = time.perf_counter()
        batch = batch_ingest(
            source=source, category=category, fileobj=fileobj, filename=name, channel="cli"
        )
        seconds = time.perf_counter() - start
        assert batch.rejected == 0, (category, batch.rejected)
        return seconds, batch.accepted

    registry_rows = [
        [c, f"西宁示例商户{i}", "630102", "5212", "2018-03-01", "500000", str(i % 40),
         f"经营者{i}", ids[i], "西宁市城东区八一路1号"]
        for i, c in enumerate(codes)
    ]  # fmt: skip
    header = ["uscc", "name", "region", "industry_code", "established_on",
              "registered_capital", "employees", "legal_rep_name", "legal_rep_id_number",
              "address"]  # fmt: skip
    t_reg, accepted = deliver(market, "registry", _csv(header, registry_rows), "registry.csv")
    assert accepted == n and MarketEntity.objects.count() == n and Person.objects.count() == n
    change_rows = [[c, f"西宁示例商户{i}", str(i % 40 + 1), "800000"] for i, c in enumerate(codes)]
    t_chg, accepted = deliver(
        market,
        "registry",
        _csv(["uscc", "name", "employees", "registered_capital"], change_rows),
        "changes.csv",
    )
    assert accepted == n
    tax_rows = [[c, "2026-06", f"{1000 + i % 500}.00", "B"] for c in codes for i in (0,)]
    t_tax, accepted = deliver(
        tax, "tax", _csv(["uscc", "period", "tax_paid", "credit_grade"], tax_rows), "tax.csv"
    )
    assert accepted == n
    print(f"backend {backend}, {n:,} rows per delivery")
    print(f"registry (create entities + people + ties): {t_reg:7.2f} s  {n / t_reg:10,.0f} rows/s")
    print(f"registry (change two fields):               {t_chg:7.2f} s  {n / t_chg:10,.0f} rows/s")
    print(f"facts (tax, same pipeline):                 {t_tax:7.2f} s  {n / t_tax:10,.0f} rows/s")
    print(f"ratio registry create / facts: {t_tax / t_reg:.2f}  (rows/s over rows/s)")
    print(f"ratio registry change / facts: {t_tax / t_chg:.2f}")


if __name__ == "__main__":
    main()
