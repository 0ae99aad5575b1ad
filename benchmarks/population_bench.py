#!/usr/bin/env python3
"""A generated population through the platform's doors and the model: push rates and AUCs.

Generates N firms the platform has never seen (``xinrong.credit.tests.population``: the
documented generating process, true probabilities of default known), then, in a fresh database:
  1. pushes the registry delivery, each department's CSV (``batch_ingest``) and the training
     borrowers' loans (signed loan-history API, 1,000 loans a call), timing each door;
  2. trains the scorecard on the platform's outcomes (``model_train(outcomes="platform")``);
  3. pushes the held-out borrowers' loans the same way and prints, on them, the AUC of the
     platform's score, of a plain logistic regression on the same columns (fit on the training
     borrowers) and of the true probabilities, the gaps and the number of distinct scores;
  4. unless ``--no-analyse``, where the gap goes (``population.analyse``): the same learners on
     the card's own 70% and on all training rows, finer bins, one card per segment, the true
     model's form estimated at this sample size, AUCs per segment, and per true variable
     whether the platform's feature equals what was delivered and how much the card misses.
Writes nothing into the repository (the database and files live in a temporary directory).

    .venv/bin/python benchmarks/population_bench.py                 # N=20,000 on SQLite
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python benchmarks/population_bench.py --backend postgres
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
PG_ADMIN = os.environ.get("PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="firms to generate")
    parser.add_argument("--seed", type=int, default=20261)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--no-analyse",
        dest="analyse",
        action="store_false",
        help="skip the analysis of the gap (refits, finer bins, segments, per-variable loss)",
    )
    parser.add_argument(
        "--keep",
        metavar="DIR",
        help="SQLite: keep the database in DIR; if DIR already holds a pushed run of the same "
        "--n/--seed/--as-of, regenerate the population and only evaluate (and analyse) it",
    )
    parser.add_argument("--as-of", type=dt.date.fromisoformat, help="default: today")
    args = parser.parse_args()
    if args.keep and args.backend != "sqlite":
        parser.error("--keep is for SQLite")
    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="xinrong-population-"))
    tmp.mkdir(parents=True, exist_ok=True)
    os.environ.update(
        XINRONG_VAR=str(tmp),
        SECRET_KEY="bench-" + "x" * 40,
        DJANGO_SETTINGS_MODULE="xinrong.config.settings",
    )
    db = f"xinrong_population_bench_{os.getpid()}"
    if args.backend == "postgres":
        subprocess.run(["psql", PG_ADMIN, "-qc", f"CREATE DATABASE {db}"], check=True)
        os.environ["DATABASE_URL"] = PG_ADMIN.rsplit("/", 1)[0] + "/" + db
    else:
        os.environ.pop("DATABASE_URL", None)
    try:
        run(args)
    finally:
        if args.backend == "postgres":
            from django.db import connections

            connections.close_all()
            subprocess.run(
                ["psql", PG_ADMIN, "-qc", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"],
                check=False,
            )
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


def run(args: argparse.Namespace) -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test.utils import setup_test_environment
    from django.utils import timezone

    from xinrong.credit.services.scoring import model_train
    from xinrong.credit.tests import population

    setup_test_environment()  # the in-process test client (testserver host) for the bank API
    # an error page from the API renders without the built static manifest
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    from xinrong.credit.models import ScoreModel

    call_command("migrate", "--noinput", verbosity=0)
    today = args.as_of or timezone.localdate()
    start = time.perf_counter()
    pop = population.generate(args.n, seed=args.seed, as_of=today)
    gen_s = time.perf_counter() - start
    firms = pop.firms
    print(
        f"population: {args.n:,} firms (seed {args.seed}, as of {today}), "
        f"{(firms['segment'] == 'individual').mean():.1%} individual businesses, "
        f"{int(firms['borrower'].sum()):,} borrowers "
        f"({firms.loc[firms['borrower'], 'bad'].mean():.1%} bad), "
        f"{pop.rows:,} delivered rows, generated in {gen_s:.1f} s; backend {args.backend}"
    )
    if args.keep and (model := ScoreModel.objects.order_by("-version").first()):
        print(f"reusing the pushed database in {args.keep} (model v{model.version})")
        _results(args, pop, model)
        return
    report = population.push_population(pop)
    problems = population.check_all_accepted(report, ["registry", *pop.deliveries])
    if problems:
        _doors(report, problems)
        sys.exit("the doors refused rows: no model trained")
    start = time.perf_counter()
    model = model_train(actor=None, outcomes="platform", as_of=today)
    train_s = time.perf_counter() - start
    population.push_holdout_loans(pop, report)
    _doors(report, population.check_all_accepted(report, ["registry", *pop.deliveries]))
    print(f"model train (platform outcomes): {train_s:.1f} s, v{model.version}")
    _results(args, pop, model)


def _results(args: argparse.Namespace, pop: Any, model: Any) -> None:
    from xinrong.credit.tests import population

    for line in population.evaluate(pop, model).lines():
        print(line)
    if args.analyse:
        start = time.perf_counter()
        for line in population.analyse(pop, model):
            print(line)
        print(f"  (analysis {time.perf_counter() - start:.1f} s)")


def _doors(report: object, problems: list[str]) -> None:
    print("doors:")
    for t in report.timings:  # type: ignore[attr-defined]
        print(f"  {t.door:<24} {t.rows:>9,} in {t.seconds:7.1f} s  {t.rate:10,.0f} /s")
    print(
        f"  batches: {len(report.batches)}, API calls: {report.api_calls}, "  # type: ignore[attr-defined]
        f"problems: {len(problems)}"
    )
    for p in problems[:20]:
        print(f"    {p}")


if __name__ == "__main__":
    main()
