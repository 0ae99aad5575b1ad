#!/usr/bin/env python3
"""Statistics dashboard at province scale: p50/p99 of its grouped queries beside a naive count.

PostgreSQL only. Builds (once) a province-sized book in its own database with ``COPY``:
``--entities`` market entities (default 520,000, Qinghai's), 20,000 of them registered on the
platform, 30 lenders with 60 published products, ``--loans`` loans (default 1,000,000) on as
many applications plus 20% more applications that did not become loans, 100,000 demands (most
answered), spread over three years, all prefectures and counties, ten industries. A later run
with the same sizes finds the data (a marker table) and reuses it: build once, time many.

A reused database is migrated (tables added since its build, e.g. the statistics summary), and
the summary is refreshed once (``insight.services.statistics.summary_refresh``, timed).

Then times, ``--repeat`` times each (default 7), the dashboard as the page asks it
(``insight.selectors.statistics.table`` for one dimension + ``overview``) for this year and for
the three years, and each of the five dimensions; prints p50 and p99 (nearest-rank). As the
baseline, the region table computed all live (no summary), the check that summary + live equals
all live for every dimension and both periods, and, in the same run, the same region table
computed naively (every row of the period
fetched and added up in Python, the way a report loop would), once, and checks both agree.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python benchmarks/stats_bench.py            # builds x_stats_bench, times
    .venv/bin/python benchmarks/stats_bench.py --rebuild       # drop and build again
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import math
import os
import sys
import tempfile
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
PG_ADMIN = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
DB_NAME = "x_stats_bench"
REGISTERED = 20_000
DEMANDS = 100_000
BANKS = 30


def _admin_execute(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(sql)


def _db_exists() -> bool:
    import psycopg

    with psycopg.connect(PG_ADMIN) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone()
        return row is not None


def pctl(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


# --- building ---------------------------------------------------------------------------------


def copy_model(model: Any, frame: pd.DataFrame) -> None:
    """COPY ``frame`` into ``model``'s table; columns it lacks get the field's default."""
    from django.db import connection
    from django.db.models import JSONField

    now = dt.datetime.now(dt.UTC).isoformat()
    for f in model._meta.concrete_fields:
        col = f.column
        if col in frame.columns:
            continue
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            frame[col] = now
            continue
        if f.has_default():
            value = f.get_default()
            frame[col] = json.dumps(value) if isinstance(f, JSONField) else value
        elif f.null:
            frame[col] = None
        elif f.primary_key:
            raise ValueError(f"{model.__name__}: give the ids")
        else:
            frame[col] = ""
    cols = list(frame.columns)
    table = model._meta.db_table
    names = ", ".join(f'"{c}"' for c in cols)
    raw = connection.connection
    assert raw is not None
    with raw.cursor() as cur:
        chunk = 200_000
        with cur.copy(f"COPY {table} ({names}) FROM STDIN WITH (FORMAT csv, NULL '\\N')") as cp:
            for start in range(0, len(frame), chunk):
                buf = io.StringIO()
                frame.iloc[start : start + chunk].to_csv(
                    buf, header=False, index=False, na_rep="\\N"
                )
                cp.write(buf.getvalue())
        cur.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
            f"(SELECT MAX(id) FROM {table}))"
        )
    raw.commit()


def build(n_entities: int, n_loans: int, rng: np.random.Generator) -> None:
    from django.db import connection

    from xinrong.accounts.models import Organisation
    from xinrong.accounts.services.organisations import organisation_create
    from xinrong.accounts.services.users import user_create
    from xinrong.enterprises.models import MarketEntity
    from xinrong.marketplace.models import Demand, DemandEvent, Loan, LoanApplication
    from xinrong.marketplace.tests.factories import published_product
    from xinrong.reference import divisions

    t0 = time.perf_counter()
    op_org = organisation_create(name="基准运营中心", kind="operator")
    operator = user_create(
        username="bench_operator",
        organisation=op_org,
        roles=["operator_admin"],
        password_hash="!bench",  # noqa: S106  (unusable: nobody logs in)
    )
    products = []
    for b in range(BANKS):
        bank = organisation_create(name=f"基准银行{b:02d}", kind="bank")
        officer = user_create(
            username=f"bench_officer{b}",
            organisation=bank,
            roles=["loan_officer"],
            password_hash="!bench",  # noqa: S106  (unusable: nobody logs in)
        )
        for p in range(2):
            products.append(published_product(officer, operator, code=f"BENCH-{b:02d}-{p}"))
    prod_ids = np.array([p.pk for p in products])
    prod_ver = np.array([p.current_version_id for p in products])
    prod_inst = np.array([p.institution_id for p in products])
    print(f"  lenders and products: {time.perf_counter() - t0:.1f} s")

    counties = [
        c.code
        for pref in divisions.children(divisions.PLATFORM_ROOT)
        for c in divisions.children(pref.code)
        if not c.is_placeholder
    ]
    weights = np.array([6.0 if c.startswith("6301") else 1.0 for c in counties])
    industries = np.array(
        ["A0111", "A0311", "C1310", "C1320", "E4710", "F5110", "F5211", "H6110", "I6510", "O8010"]
    )
    now = dt.datetime.now(dt.UTC)
    t = time.perf_counter()
    registered = min(REGISTERED, n_entities)
    max_org = Organisation.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    org_ids = np.arange(max_org + 1, max_org + 1 + registered)
    org_created = now - pd.to_timedelta(rng.integers(0, 3 * 365 * 86400, registered), unit="s")
    copy_model(
        Organisation,
        pd.DataFrame(
            {
                "id": org_ids,
                "name": [f"基准企业{k}" for k in range(registered)],
                "kind": "enterprise",
                "created_at": org_created.astype(str),
            }
        ),
    )
    ent_ids = np.arange(1, n_entities + 1)
    ent_div = rng.choice(np.array(counties), n_entities, p=weights / weights.sum())
    ent_org = np.full(n_entities, None, dtype=object)
    ent_org[:registered] = org_ids
    copy_model(
        MarketEntity,
        pd.DataFrame(
            {
                "id": ent_ids,
                "uscc": [f"9163{k:014d}" for k in ent_ids],
                "name": [f"基准主体{k}" for k in ent_ids],
                "name_key": [f"基准主体{k}" for k in ent_ids],
                "entity_type": "enterprise",
                "industry_code": rng.choice(industries, n_entities),
                "division_code": ent_div,
                "organisation_id": ent_org,
            }
        ),
    )
    print(f"  {n_entities:,} entities ({registered:,} registered): {time.perf_counter() - t:.1f} s")

    t = time.perf_counter()
    n_apps = int(n_loans * 1.2)
    app_ent = rng.integers(1, n_entities + 1, n_apps)
    pick = rng.integers(0, len(products), n_apps)
    submitted = now - pd.to_timedelta(rng.integers(10 * 86400, 3 * 365 * 86400, n_apps), unit="s")
    wait = pd.to_timedelta(rng.integers(3600, 10 * 86400, n_apps), unit="s")
    loan_status = rng.choice(
        np.array(["current", "settled", "overdue", "defaulted"]), n_loans, p=[0.6, 0.33, 0.05, 0.02]
    )
    app_status = np.empty(n_apps, dtype=object)
    app_status[:n_loans] = pd.Series(loan_status).map(
        {
            "current": "repaying",
            "settled": "settled",
            "overdue": "overdue",
            "defaulted": "defaulted",
        }
    )
    app_status[n_loans:] = rng.choice(
        np.array(["rejected", "submitted", "under_review", "approved"]), n_apps - n_loans
    )
    decided = (submitted + wait).astype(str).to_numpy(dtype=object)
    undecided = np.isin(app_status, ["submitted", "under_review"])
    decided[undecided] = None
    amount = (rng.integers(1, 300, n_apps) * 10_000).astype(float)
    copy_model(
        LoanApplication,
        pd.DataFrame(
            {
                "id": np.arange(1, n_apps + 1),
                "number": [f"B{k:011d}" for k in range(1, n_apps + 1)],
                "entity_id": app_ent,
                "product_id": prod_ids[pick],
                "product_version_id": prod_ver[pick],
                "institution_id": prod_inst[pick],
                "amount": amount,
                "term_months": 12,
                "repayment_method": "equal_instalment",
                "status": app_status,
                "submitted_at": submitted.astype(str),
                "decided_at": decided,
            }
        ),
    )
    print(f"  {n_apps:,} applications: {time.perf_counter() - t:.1f} s")

    t = time.perf_counter()
    disb = (submitted[:n_loans] + pd.Timedelta(days=3)).tz_convert("Asia/Shanghai").date
    overdue_days = np.zeros(n_loans, dtype=int)
    od = loan_status == "overdue"
    overdue_days[od] = rng.integers(1, 180, od.sum())
    df = loan_status == "defaulted"
    overdue_days[df] = rng.integers(91, 400, df.sum())
    principal = amount[:n_loans]
    outstanding = np.where(loan_status == "settled", 0.0, np.round(principal * 0.6, 2))
    copy_model(
        Loan,
        pd.DataFrame(
            {
                "id": np.arange(1, n_loans + 1),
                "application_id": np.arange(1, n_loans + 1),
                "entity_id": app_ent[:n_loans],
                "institution_id": prod_inst[pick[:n_loans]],
                "number": [f"L{k:011d}" for k in range(1, n_loans + 1)],
                "principal": principal,
                "annual_rate": np.round(rng.uniform(3.45, 8.0, n_loans), 2),
                "term_months": 12,
                "repayment_method": "equal_instalment",
                "disbursed_on": [d.isoformat() for d in disb],
                "maturity_on": [(d + dt.timedelta(days=365)).isoformat() for d in disb],
                "first_loan": rng.random(n_loans) < 0.3,
                "renewal": rng.random(n_loans) < 0.15,
                "outstanding": outstanding,
                "overdue_days": overdue_days,
                "max_overdue_days": overdue_days,
                "status": loan_status,
            }
        ),
    )
    print(f"  {n_loans:,} loans: {time.perf_counter() - t:.1f} s")

    t = time.perf_counter()
    d_ent = rng.integers(1, n_entities + 1, DEMANDS)
    d_created = now - pd.to_timedelta(rng.integers(86400, 3 * 365 * 86400, DEMANDS), unit="s")
    copy_model(
        Demand,
        pd.DataFrame(
            {
                "id": np.arange(1, DEMANDS + 1),
                "entity_id": d_ent,
                "amount": 200000.0,
                "term_months": 12,
                "purpose_category": "working_capital",
                "max_rate": 8.0,
                "division_code": ent_div[d_ent - 1],
                "status": "open",
                "created_at": d_created.astype(str),
            }
        ),
    )
    answered = np.flatnonzero(rng.random(DEMANDS) < 0.9)
    ans_at = d_created[answered] + pd.to_timedelta(
        rng.integers(3600, 8 * 86400, len(answered)), unit="s"
    )
    copy_model(
        DemandEvent,
        pd.DataFrame(
            {
                "id": np.arange(1, len(answered) + 1),
                "demand_id": answered + 1,
                "kind": rng.choice(np.array(["taken", "invited"]), len(answered)),
                "created_at": ans_at.astype(str),
            }
        ),
    )
    print(f"  {DEMANDS:,} demands, {len(answered):,} answered: {time.perf_counter() - t:.1f} s")
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
        cur.execute("CREATE TABLE bench_marker (entities int, loans int)")
        cur.execute("INSERT INTO bench_marker VALUES (%s, %s)", [n_entities, n_loans])
    print(f"  built in {time.perf_counter() - t0:.1f} s")


# --- timing -----------------------------------------------------------------------------------


def naive_region(f: Any) -> dict[str, tuple[int, Decimal, int, int]]:
    """The region table's core figures, the naive way: every row fetched, summed in Python."""
    from xinrong.insight.selectors.statistics import _bounds
    from xinrong.marketplace.models import Loan, LoanApplication

    out: dict[str, list[Any]] = defaultdict(lambda: [0, Decimal("0.00"), 0, 0])
    for div, principal in (
        Loan.objects.filter(disbursed_on__gte=f.date_from, disbursed_on__lte=f.date_to)
        .values_list("entity__division_code", "principal")
        .iterator(chunk_size=20_000)
    ):
        row = out[div[:4]]
        row[0] += 1
        row[1] += principal
    start, end = _bounds(f)
    for div, status in (
        LoanApplication.objects.filter(submitted_at__gte=start, submitted_at__lt=end)
        .values_list("entity__division_code", "status")
        .iterator(chunk_size=20_000)
    ):
        row = out[div[:4]]
        row[2] += 1
        row[3] += status in APPROVED
    return {k: (v[0], v[1], v[2], v[3]) for k, v in out.items()}


APPROVED: frozenset[str] = frozenset()


def _figures(r: Any) -> tuple[Any, ...]:
    """A row's figures as the page shows them (ratios and averages rounded as displayed)."""
    return (
        r.key,
        r.registrations,
        r.demands,
        r.demands_answered,
        r.days_to_answer,
        r.applications,
        r.approvals,
        r.days_to_approve,
        r.loans,
        r.amount,
        r.average_rate,
        r.first_loans,
        r.renewals,
        r.overdue,
        r.overdue_balance,
        r.npl,
        r.npl_balance,
    )


def main() -> None:
    global APPROVED, DB_NAME
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=520_000)
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--seed", type=int, default=20261207)
    parser.add_argument("--db", default=DB_NAME, help="the benchmark's own database")
    args = parser.parse_args()
    DB_NAME = args.db
    if args.rebuild and _db_exists():
        _admin_execute(f"DROP DATABASE {DB_NAME} WITH (FORCE)")
    fresh = not _db_exists()
    if fresh:
        _admin_execute(f"CREATE DATABASE {DB_NAME}")
    os.environ["DATABASE_URL"] = PG_ADMIN.rsplit("/", 1)[0] + "/" + DB_NAME
    os.environ.setdefault("XINRONG_VAR", tempfile.mkdtemp(prefix="xr-stats-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinrong.config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from xinrong.accounts.models import User
    from xinrong.insight.selectors import statistics as st

    APPROVED = frozenset(str(s) for s in st.APPROVED_STATUSES)
    have = None
    with connection.cursor() as cur:
        cur.execute("SELECT to_regclass('bench_marker')")
        if cur.fetchone()[0]:
            cur.execute("SELECT entities, loans FROM bench_marker")
            have = cur.fetchone()
    if have is None:
        if not fresh:
            raise SystemExit(f"{DB_NAME} holds no finished book: run again with --rebuild")
        print(f"building {DB_NAME} with COPY …")
        call_command("migrate", verbosity=0)
        build(args.entities, args.loans, np.random.default_rng(args.seed))
    elif tuple(have) != (args.entities, args.loans):
        raise SystemExit(f"{DB_NAME} holds {have}: give those sizes or --rebuild")
    else:
        print(f"reusing {DB_NAME} ({have[0]:,} entities, {have[1]:,} loans)")
        call_command("migrate", verbosity=0)  # tables added since the build (the summary)
    from xinrong.insight.services.statistics import summary_refresh

    refreshed = summary_refresh()
    print(
        f"summary refresh (months before {refreshed.through:%Y-%m}): {refreshed.cells:,} cells "
        f"in {refreshed.seconds * 1000:,.0f} ms"
    )
    user = User.objects.get(username="bench_operator")
    today = dt.date.today()
    periods = {
        "本年": st.Filters(dt.date(today.year, 1, 1), today),
        "三年": st.Filters(today - dt.timedelta(days=3 * 365), today),
    }
    print(f"\n{'查询':<28}{'p50 ms':>10}{'p99 ms':>10}   (n={args.repeat})")
    for pname, f in periods.items():
        cases: list[tuple[str, Any]] = [
            (f"dashboard {pname}", lambda f=f: (st.table(user, f, "region"), st.overview(user, f)))
        ]
        cases += [(f"  {d} {pname}", lambda f=f, d=d: st.table(user, f, d)) for d in st.DIMENSIONS]
        cases.append(
            (f"  region, all live {pname}", lambda f=f: st.table(user, f, "region", live=True))
        )
        for label, fn in cases:
            fn()  # warm (plans, caches) once
            times = []
            for _ in range(args.repeat):
                t = time.perf_counter()
                fn()
                times.append((time.perf_counter() - t) * 1000)
            print(f"{label:<28}{pctl(times, 50):>10.0f}{pctl(times, 99):>10.0f}")
    for pname, f in periods.items():
        for d in st.DIMENSIONS:
            a, b = st.table(user, f, d), st.table(user, f, d, live=True)
            if [_figures(r) for r in a.rows] != [_figures(r) for r in b.rows]:
                raise SystemExit(f"summary and live differ: {d} {pname}")
    print("summary + live == all live: every dimension, both periods")
    f = periods["本年"]
    t = time.perf_counter()
    naive = naive_region(f)
    naive_ms = (time.perf_counter() - t) * 1000
    grouped = {
        r.key: (r.loans, r.amount, r.applications, r.approvals)
        for r in st.table(user, f, "region").rows
        if r.loans or r.applications
    }
    same = grouped == naive
    print(f"{'naive region 本年 (once)':<28}{naive_ms:>10.0f}{'':>10}   agree: {same}")
    if not same:
        raise SystemExit("the grouped and the naive figures differ")


if __name__ == "__main__":
    main()
