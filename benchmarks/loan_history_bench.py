#!/usr/bin/env python3
"""Loan-history import: N loans in one call (the service behind POST /api/v1/bank/loan-history).

Builds a fresh database (SQLite under a temporary XINRONG_VAR, or PostgreSQL with --database-url),
registers a bank and 200 entities, generates N loans with monthly repayments on the platform's
own schedule (a mix of current, overdue, defaulted and settled loans), then times:
  1. the import (all checks, bulk writes, one datahub batch of every loan event);
  2. the same loans again (all "present": checked and compared, nothing written);
  3. the datahub batch alone (the same events through platform_loan_events_record), the part
     of the import that is the ingestion pipeline, as the baseline in the same run.

    .venv/bin/python benchmarks/loan_history_bench.py --loans 1000
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=1000)
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (default SQLite)")
    args = parser.parse_args()
    os.environ.setdefault("XINRONG_VAR", tempfile.mkdtemp(prefix="xr-loanhist-bench-"))
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinrong.config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from xinrong.accounts.services.organisations import organisation_create
    from xinrong.datahub.services import sources
    from xinrong.enterprises.models import MarketEntity
    from xinrong.enterprises.names import name_key
    from xinrong.enterprises.tests.factories import valid_uscc
    from xinrong.marketplace.models import Loan
    from xinrong.marketplace.schedule import add_months, schedule
    from xinrong.marketplace.services import loan_history

    organisation_create(name="运营中心", kind="operator")
    bank = organisation_create(name="基准银行", kind="bank")
    codes = [valid_uscc(seed=10_000 + k) for k in range(200)]
    MarketEntity.objects.bulk_create(
        MarketEntity(
            uscc=c,
            name=f"企业{k}",
            name_key=name_key(f"企业{k}"),
            entity_type="enterprise",
            industry_code="F51",
            division_code="630102",
        )
        for k, c in enumerate(codes)
    )
    today = timezone.localdate()
    loans = []
    for k in range(args.loans):
        disbursed = today - dt.timedelta(days=30 + (k * 7) % 700)
        months = 12 if k % 3 else 24
        lines = schedule(
            principal=Decimal(100_000 + k),
            annual_rate=Decimal("5.50"),
            term_months=months,
            method="equal_instalment",
            start=disbursed,
        )
        kind = k % 10  # 0: stops paying, 1: defaulted, otherwise pays on time
        due = [line for line in lines if line.due_on <= today]
        paid = due[: max(0, len(due) - 2)] if kind in (0, 1) else due
        loans.append(
            {
                "bank_loan_no": f"BENCH-{k:06d}",
                "uscc": codes[k % len(codes)],
                "principal": str(Decimal(100_000 + k)),
                "annual_rate": "5.50",
                "repayment_method": "equal_instalment",
                "applied_on": (disbursed - dt.timedelta(days=15)).isoformat(),
                "contract_signed_on": (disbursed - dt.timedelta(days=2)).isoformat(),
                "disbursed_on": disbursed.isoformat(),
                "maturity_on": add_months(disbursed, months).isoformat(),
                "first_loan": k % 4 == 0,
                "renewal": False,
                "repayments": [
                    {
                        "paid_on": line.due_on.isoformat(),
                        "amount": str(line.total),
                        "principal": str(line.principal),
                        "interest": str(line.interest),
                    }
                    for line in paid
                ],
                "overdue": [],
                "defaulted_on": today.isoformat() if kind == 1 and len(due) > 2 else None,
                "settled_on": paid[-1].due_on.isoformat() if len(paid) == len(lines) else None,
            }
        )
    batch_time = []
    real = sources.platform_loan_events_record

    def timed(**kw):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        try:
            return real(**kw)
        finally:
            batch_time.append(time.perf_counter() - start)

    loan_history.platform_loan_events_record = timed  # type: ignore[assignment]
    start = time.perf_counter()
    answer = loan_history.loan_history_import(institution=bank, actor=None, loans=loans)
    first = time.perf_counter() - start
    start = time.perf_counter()
    again = loan_history.loan_history_import(institution=bank, actor=None, loans=loans)
    second = time.perf_counter() - start
    events = sum(
        1 + len(x["repayments"]) + (x["defaulted_on"] is not None) + (x["settled_on"] is not None)
        for x in loans
    )
    with transaction.atomic():
        rows = []
        for loan in Loan.objects.select_related("entity", "institution"):
            rows.append(loan_history.loan_event_row(loan, event="disbursed", on=loan.disbursed_on))
        rows_start = time.perf_counter()
        for row in rows:
            row["loan_no"] = "X" + row["loan_no"][1:]
        real(rows=rows, note="baseline")
        baseline = (time.perf_counter() - rows_start) / len(rows)
        transaction.set_rollback(True)
    backend = "postgresql" if args.database_url else "sqlite"
    print(f"backend {backend}: {args.loans} loans, {events} loan events")
    print(f"import          {first:7.2f} s  ({answer['created']} created)")
    print(f"  of which datahub batch {batch_time[0]:7.2f} s  ({batch_time[0] / first:.0%})")
    print(f"same call again {second:7.2f} s  ({again['present']} present, nothing written)")
    per_event = first / events
    print(
        f"per event: import {per_event * 1000:.2f} ms, datahub pipeline alone "
        f"{baseline * 1000:.2f} ms, ratio {per_event / baseline:.2f}"
    )


if __name__ == "__main__":
    main()
