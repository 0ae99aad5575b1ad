#!/usr/bin/env python3
"""Live loan events: ingest batches and queued tasks per 1,000 calls, one-row path against the
outbox with its coalesced flush, measured in the same run on a fresh SQLite database.

before: each call records its event with ``platform_loan_events_record(rows=[row])`` in its own
        transaction (what ``_loan_fact`` did): one batch per call, and the old receiver of
        ``batch_completed`` queued one ``rescore_batch`` task per batch (counted as the signals).
after:  each call keeps its event with ``platform_loan_event_enqueue`` in its own transaction;
        the database task backend holds the queued tasks (counted), which are then run as the
        worker would (flush, then the rescoring drain).

    .venv/bin/python benchmarks/event_coalesce_bench.py --calls 1000
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=1000)
    args = parser.parse_args()
    var = tempfile.mkdtemp(prefix="xr-coalesce-bench-")
    os.environ.update(
        XINRONG_VAR=var,
        DJANGO_SETTINGS_MODULE="xinrong.config.settings",
        SECRET_KEY="bench-" + "k" * 40,
        TASKS_BACKEND="django_tasks_db.DatabaseBackend",
        XINRONG_EVENT_FLUSH_SECONDS="0",
        XINRONG_RESCORE_DRAIN_SECONDS="0",
    )
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    import datetime as dt
    from decimal import Decimal

    from django.core.management import call_command
    from django.db import transaction
    from django_tasks_db.models import DBTaskResult

    from xinrong.datahub.models import Fact, IngestBatch
    from xinrong.datahub.services import sources
    from xinrong.datahub.signals import batch_completed
    from xinrong.enterprises.tests.factories import MarketEntityFactory

    call_command("migrate", verbosity=0)
    entities = [MarketEntityFactory() for _ in range(50)]

    def row(n: int, prefix: str) -> dict:
        return {
            "uscc": entities[n % len(entities)].uscc,
            "loan_no": f"{prefix}-{n:06d}",
            "institution": "青海银行",
            "event": "repaid",
            "occurred_on": dt.date(2026, 1, 5),
            "amount": Decimal("1000.00") + n,
        }

    signals = []
    batch_completed.connect(lambda sender, batch_id, **kw: signals.append(batch_id), weak=False)

    def counts() -> tuple[int, int]:
        return IngestBatch.objects.count(), DBTaskResult.objects.count()

    # before: one-row batches
    b0, _t0 = counts()
    start = time.perf_counter()
    for n in range(args.calls):
        with transaction.atomic():
            sources.platform_loan_events_record(rows=[row(n, "OLD")], note=f"OLD-{n}")
    before_s = time.perf_counter() - start
    before_batches = IngestBatch.objects.count() - b0
    before_tasks = len(signals)  # one rescore_batch per completed batch in the old receiver
    # the one-row batches' rescoring requests are not this path's work
    from xinrong.credit.models import PendingRescore
    from xinrong.datahub.models import TaskRequest

    DBTaskResult.objects.all().delete()
    PendingRescore.objects.all().delete()
    TaskRequest.objects.all().delete()

    # after: outbox + coalesced flush + drain
    b1, t1 = counts()
    start = time.perf_counter()
    for n in range(args.calls):
        with transaction.atomic():
            sources.platform_loan_event_enqueue(row=row(n, "NEW"), note=f"NEW-{n}")
    calls_s = time.perf_counter() - start
    queued_during_calls = DBTaskResult.objects.count() - t1
    start = time.perf_counter()
    from django_tasks import task_backends

    backend = task_backends["default"]
    ran = 0
    while True:
        pending = DBTaskResult.objects.ready().order_by("enqueued_at").first()
        if pending is None:
            break
        pending.claim("bench")
        result = pending.task.call(*pending.args_kwargs["args"], **pending.args_kwargs["kwargs"])
        pending.set_successful(result)
        ran += 1
    work_s = time.perf_counter() - start
    after_batches = IngestBatch.objects.count() - b1
    after_tasks = DBTaskResult.objects.count() - t1
    new_facts = Fact.objects.filter(reference_no__startswith="NEW-").count()
    assert new_facts == args.calls, new_facts
    del backend
    per = 1000 / args.calls
    print(f"calls: {args.calls} (SQLite, {len(entities)} entities)")
    print(
        f"before  one-row path: {before_batches * per:.0f} batches and {before_tasks * per:.0f} "
        f"queued tasks per 1,000 calls; {before_s:.2f} s "
        f"({before_s / args.calls * 1000:.1f} ms/call)"
    )
    print(
        f"after   outbox      : {after_batches * per:.1f} batches and {after_tasks * per:.1f} "
        f"queued tasks per 1,000 calls ({queued_during_calls} queued while calling, {ran} run); "
        f"calls {calls_s:.2f} s ({calls_s / args.calls * 1000:.1f} ms/call), "
        f"flush and drain {work_s:.2f} s"
    )
    print(f"facts recorded by the flush: {new_facts} (each event exactly once)")


if __name__ == "__main__":
    main()
