"""Loan events of many calls become few batches and few queued tasks (issue 13): every event is
one fact, and every entity they touched is rescored once the drain has run."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

import pytest
from django.test import override_settings
from django_tasks.backends.dummy import DummyBackend

from xinrong.credit.models import CreditProfile, PendingRescore, ScoreModel, ScoringRun
from xinrong.credit.scorecard import BinnedFeature, Scorecard
from xinrong.datahub.models import Fact, IngestBatch, PendingPlatformEvent
from xinrong.datahub.tasks import platform_events_flush_task
from xinrong.marketplace.services import loans as loan_services
from xinrong.marketplace.tests.test_applications import _disbursed, bank, entity  # noqa: F401

pytestmark = pytest.mark.django_db

DUMMY_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
LOANS, REPAYMENTS = 6, 49  # 6 disbursements + 294 repayments = 300 events


def _active_model() -> ScoreModel:
    card = Scorecard(
        features=[
            BinnedFeature(
                name="years_in_business",
                splits=[3.0],
                woe=[-0.5, 0.5, 0.0],
                points=[20.0, 60.0, 30.0],
                counts=[10, 10, 1],
                event_rates=[0.2, 0.05, 0.1],
                iv=0.1,
                coef=-1.0,
                trend="descending",
            )
        ],
        intercept=0.0,
    )
    return ScoreModel.objects.create(
        version=1, name="测试评分卡", status="active", card=card.to_json()
    )


def _work(backend: DummyBackend, capture: Any) -> list[str]:
    """Run the queued tasks as a worker would, until none is left; return their names."""
    ran = []
    while backend.results:
        result = backend.results.pop(0)
        with capture(execute=True):
            result.task.call(*result.args, **result.kwargs)
        ran.append(result.task.name)
    return ran


def test_300_loan_events_make_one_batch_three_tasks_and_one_rescoring(
    enterprise_user,
    other_enterprise_user,
    bank,  # noqa: F811
    operator,
    django_capture_on_commit_callbacks,
):
    _active_model()
    borrowers = [enterprise_user, other_enterprise_user]
    with override_settings(TASKS=DUMMY_TASKS):
        backend = cast(DummyBackend, platform_events_flush_task.get_backend())
        backend.clear()
        batches_before = IngestBatch.objects.count()
        loans = []
        for i in range(LOANS):
            user = borrowers[i % 2]
            with django_capture_on_commit_callbacks(execute=True):
                loans.append(
                    _disbursed(
                        user,
                        user.organisation.market_entity,
                        bank,
                        operator,
                        days_ago=0,
                        code=f"CO-{i}",
                    )
                )
        calls = LOANS
        for n in range(REPAYMENTS):
            for loan in loans:  # amounts differ: equal events on one day are one fact
                with django_capture_on_commit_callbacks(execute=True):
                    loan_services.loan_repayment_record(
                        loan=loan, actor=bank["loan_officer"], amount=Decimal(10 + n)
                    )
                calls += 1
        assert calls == 300
        # 300 committed calls queued one flush, and no rescoring yet
        assert [r.task.name for r in backend.results] == ["platform_events_flush_task"]
        assert PendingPlatformEvent.objects.count() == 300
        assert not Fact.objects.filter(category="loan").exists()

        ran = _work(backend, django_capture_on_commit_callbacks)

        # the batch's completion also queues one set-wise sweep of the black and white lists
        # (the white list counts repaid platform loans)
        assert ran == ["platform_events_flush_task", "rescore_drain", "lists_sweep"]
        assert IngestBatch.objects.count() - batches_before == 1
    assert not PendingPlatformEvent.objects.exists()
    facts = Fact.objects.filter(category="loan")
    assert facts.count() == 300  # each event exactly one fact
    assert facts.filter(status="disbursed").count() == LOANS
    assert facts.filter(status="repaid").count() == LOANS * REPAYMENTS
    touched = {u.organisation.market_entity.pk for u in borrowers}
    assert set(facts.values_list("entity_id", flat=True)) == touched
    # one rescoring run covered every touched entity, and the pending set is empty
    (run,) = ScoringRun.objects.all()
    assert run.entities == len(touched)
    assert (
        set(CreditProfile.objects.filter(is_latest=True).values_list("entity_id", flat=True))
        == touched
    )
    assert not PendingRescore.objects.exists()
