"""Hundreds of approvals and recovery confirmations racing on one fund never overdraw it, never
pay a claim twice, never return more than was paid, and the balance is always Σ its lines.

Each attempt runs in its own thread with its own database connection. PostgreSQL's
``max_connections`` (100, shared with other test runs) bounds how many are in flight at once, so
a pool of workers released together by a barrier takes the attempts from one shared queue.
"""

from __future__ import annotations

import queue
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count, Sum
from django.utils import timezone

from xinrong.common.errors import ApplicationError
from xinrong.riskfund.choices import Account, ClaimStatus, EntryKind, RecoveryStatus
from xinrong.riskfund.models import Claim, LedgerEntry, LedgerLine, Recovery
from xinrong.riskfund.services import claims as services
from xinrong.riskfund.services import ledger
from xinrong.riskfund.tests.factories import fund_world, platform_loan
from xinrong.riskfund.tests.test_claims import pdf

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locks need PostgreSQL; SQLite serialises writers with its write lock",
    ),
]

WORKERS = 24


def _race(jobs: list, work) -> list[str]:
    todo: queue.Queue = queue.Queue()
    for job in jobs:
        todo.put(job)
    barrier = threading.Barrier(WORKERS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run():
        from django.db import connections

        try:
            barrier.wait()
            while True:
                try:
                    job = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    work(job)
                    result = "ok"
                except ApplicationError as exc:
                    result = exc.code
                except Exception as exc:
                    result = f"error: {exc!r}"
                with lock:
                    outcomes.append(result)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def _file(w, principal):
    loan = platform_loan(w.bank, w.officer, w.product, principal=principal)
    return services.claim_file(
        actor=w.officer, loan=loan, loss_principal=principal, evidence=[pdf()]
    )


def test_hundreds_of_approvals_and_recoveries_at_once(make_user):
    w = fund_world(make_user, balance="1140000.00")
    # 8 claims paid before the race (30,000 each), 10 recoveries of 8,000 reported on each:
    # 30% of each goes back, 24,000 per claim
    paid_before = []
    for _ in range(8):
        claim = _file(w, "100000.00")
        services.claim_decide(claim=claim, actor=w.office, approved=True)
        services.claim_decide(claim=claim, actor=w.finance, approved=True)
        paid_before.append(claim)
    today = timezone.localdate()
    recoveries = [
        services.recovery_report(actor=w.officer, claim=c, amount="8000.00", recovered_on=today)
        for c in paid_before
        for _ in range(10)
    ]
    # 60 claims of 30,000 at the finance step; the fund holds 900,000 (+ 192,000 coming back)
    waiting = []
    for _ in range(60):
        claim = _file(w, "100000.00")
        services.claim_decide(claim=claim, actor=w.office, approved=True)
        waiting.append(claim)
    assert ledger.fund_balance(w.fund) == Decimal("900000.00")

    # every waiting claim is approved twice at once (finance's double click), and every
    # recovery confirmed, all interleaved: 200 attempts
    jobs = [("approve", c.pk) for c in waiting for _ in range(2)]
    jobs += [("confirm", r.pk) for r in recoveries]
    jobs.sort(key=lambda j: hash((j[1] * 7919) % 101))

    def work(job):
        kind, pk = job
        if kind == "approve":
            services.claim_decide(claim=Claim.objects.get(pk=pk), actor=w.finance, approved=True)
        else:
            services.recovery_confirm(actor=w.office, recovery=Recovery.objects.get(pk=pk))

    outcomes = _race(jobs, work)
    assert len(outcomes) == 200
    assert not [o for o in outcomes if o.startswith("error")], outcomes
    assert set(outcomes) <= {"ok", "fund_insufficient", "invalid_transition", "forbidden"}, set(
        outcomes
    )

    # no double payment: one compensation entry per paid claim, none for the others
    per_claim = (
        LedgerEntry.objects.filter(fund=w.fund, kind=EntryKind.COMPENSATION)
        .values("claim_id")
        .annotate(n=Count("id"))
    )
    assert all(r["n"] == 1 for r in per_claim)
    paid_ids = set(Claim.objects.filter(status=ClaimStatus.PAID).values_list("pk", flat=True))
    assert {r["claim_id"] for r in per_claim} == paid_ids
    newly_paid = len(paid_ids) - 8
    assert outcomes.count("ok") == newly_paid + len(recoveries)
    # every recovery confirmed once, each returning exactly its share
    assert Recovery.objects.filter(status=RecoveryStatus.CONFIRMED).count() == 80
    for c in paid_before:
        assert services.claim_returned_amount(c) == Decimal("24000.00")
    assert LedgerEntry.objects.filter(fund=w.fund, kind=EntryKind.RECOVERY).count() == 80
    # balance = Σ lines, never below zero, and exactly the money story
    lines = LedgerLine.objects.filter(fund=w.fund, account=Account.CASH).aggregate(
        d=Sum("debit"), c=Sum("credit")
    )
    balance = ledger.fund_balance(w.fund)
    assert balance == lines["d"] - lines["c"] >= 0
    returned = Decimal("192000.00")
    assert balance == Decimal("1140000.00") - Decimal("30000.00") * (8 + newly_paid) + returned
    assert ledger.ledger_consistent(w.fund)
    # the fund ran dry: claims were refused for the balance, and those still wait at finance
    assert "fund_insufficient" in outcomes and newly_paid < 60
    left = Claim.objects.filter(status=ClaimStatus.IN_REVIEW).count()
    assert left == 60 - newly_paid
    assert balance < Decimal("30000.00") or left == 0
