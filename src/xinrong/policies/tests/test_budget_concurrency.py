"""A measure's budget is never exceeded, even when many approvals commit at the same moment."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum

from xinrong.common.errors import ConflictError
from xinrong.policies.choices import FundApplicationStatus, GrantSource
from xinrong.policies.models import FundApplication, Grant
from xinrong.policies.services import budget
from xinrong.policies.services.funds import fund_decide
from xinrong.policies.tests.funds_support import apply, eligible, enterprise, world

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locks need PostgreSQL; SQLite serialises writers with its write lock",
    ),
]


def _race(targets: list, work) -> list[str]:
    barrier = threading.Barrier(len(targets))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(target):
        from django.db import connections

        try:
            barrier.wait()
            work(target)
            result = "ok"
        except ConflictError as exc:
            result = exc.code
        except Exception as exc:
            result = f"error: {exc!r}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(t,)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_many_threads_committing_grants_never_pass_the_budget():
    w = world(budget=Decimal("100000.00"))
    owners = [enterprise(500 + i) for i in range(12)]
    entities = [o.organisation.market_entity for o in owners]
    amounts = [Decimal("30000.00"), Decimal("25000.00"), Decimal("17000.50")] * 4

    def commit(pair):
        entity, amount = pair
        budget.grant_commit(
            measure=w.measure, entity=entity, amount=amount, source=GrantSource.APPLICATION
        )

    outcomes = _race(list(zip(entities, amounts, strict=True)), commit)
    assert all(o in ("ok", "budget_exceeded") for o in outcomes), outcomes
    assert "budget_exceeded" in outcomes
    total = Grant.objects.filter(measure=w.measure).aggregate(s=Sum("amount"))["s"]
    assert total <= Decimal("100000.00")
    assert outcomes.count("ok") == Grant.objects.filter(measure=w.measure).count()
    # nothing more fits than what is left
    use = budget.budget_use(measure=w.measure)
    assert use.left == Decimal("100000.00") - total and use.left < Decimal("17000.50")


def test_many_finance_approvals_at_once_never_pass_the_budget():
    w = world(budget=Decimal("50000.00"))
    applications = []
    for i in range(8):
        owner = enterprise(600 + i)
        eligible(w.measure, owner.organisation.market_entity)
        app = apply(w, owner, requested="12000.00")
        fund_decide(application=app, actor=w.publisher, approved=True, amount="12000.00")
        applications.append(app)

    outcomes = _race(
        applications,
        lambda app: fund_decide(application=app, actor=w.finance, approved=True),
    )
    assert sorted(set(outcomes)) <= ["budget_exceeded", "ok"], outcomes
    assert outcomes.count("ok") == 4  # 4 × 12,000 fit in 50,000; a fifth does not
    total = Grant.objects.filter(measure=w.measure).aggregate(s=Sum("amount"))["s"]
    assert total == Decimal("48000.00") <= w.measure.budget
    approved = FundApplication.objects.filter(status=FundApplicationStatus.APPROVED).count()
    waiting = FundApplication.objects.filter(status=FundApplicationStatus.IN_REVIEW).count()
    assert (approved, waiting) == (4, 4)  # the refused ones stay at finance, nothing half-written
