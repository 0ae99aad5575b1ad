"""Coalesced rescoring: requests feed a pending set; one drain rescores it and runs the rules."""

from __future__ import annotations

from typing import Any, cast

import pytest
from django.test import override_settings
from django_tasks.backends.dummy import DummyBackend

from xinrong.credit.models import PendingRescore
from xinrong.credit.services import rescoring
from xinrong.credit.tasks import on_batch_completed, rescore_drain, rescore_entities_schedule
from xinrong.datahub.models import IngestBatch
from xinrong.datahub.services.sources import platform_loan_events_record
from xinrong.enterprises.tests.factories import MarketEntityFactory

pytestmark = pytest.mark.django_db

DUMMY_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def _loan_batch(entities: list[Any]) -> IngestBatch:
    import datetime as dt

    return platform_loan_events_record(
        rows=[
            {
                "uscc": e.uscc,
                "loan_no": f"DR-{i}",
                "institution": "青海银行",
                "event": "defaulted",
                "occurred_on": dt.date(2026, 1, 5),
            }
            for i, e in enumerate(entities)
        ]
    )


def test_many_requests_queue_one_drain(django_capture_on_commit_callbacks) -> None:
    entities = MarketEntityFactory.create_batch(3)
    with override_settings(TASKS=DUMMY_TASKS):
        backend = cast(DummyBackend, rescore_drain.get_backend())
        backend.clear()
        for e in entities:
            with django_capture_on_commit_callbacks(execute=True):
                rescore_entities_schedule([e.pk, e.pk])
        batch = _loan_batch(entities)
        on_batch_completed(sender=IngestBatch, batch_id=batch.pk)
        on_batch_completed(sender=IngestBatch, batch_id=batch.pk)  # asked twice: one row each
        assert [r.task.name for r in backend.results] == ["rescore_drain"]
        assert PendingRescore.objects.filter(batch_id=0).count() == 3
        assert PendingRescore.objects.filter(batch_id=batch.pk).count() == 3
        backend.clear()


def test_the_drain_runs_the_rules_of_each_batch_with_its_id(monkeypatch) -> None:
    entities = MarketEntityFactory.create_batch(2)
    batch = _loan_batch(entities)
    rescoring.rescore_request_batch(batch_id=batch.pk)
    rescoring.rescore_request_entities(entity_ids=[entities[0].pk])
    calls: list[dict[str, Any]] = []
    from xinrong.credit.services import early_warning

    def record(**kw: Any) -> int:
        calls.append(kw)
        return 0

    monkeypatch.setattr(early_warning, "alerts_raise", record)
    report = rescoring.rescore_drain_run()
    # no active model: no scores, but the batch's warning rules run on its own facts
    assert report.entities == 0 and report.batches == 1
    assert calls == [{"entity_ids": sorted(e.pk for e in entities), "batch_id": batch.pk}]
    assert not PendingRescore.objects.exists()


def test_an_entity_asked_for_again_while_draining_stays_for_the_next_drain(monkeypatch) -> None:
    entity = MarketEntityFactory()
    rescoring.rescore_request_entities(entity_ids=[entity.pk])
    from xinrong.credit.services import early_warning

    asks = [1]

    def asked_again(**kw: Any) -> int:
        if asks:  # new facts arrive once while the first part is being worked
            asks.pop()
            rescoring.rescore_request_entities(entity_ids=[entity.pk])
        return 0

    monkeypatch.setattr(early_warning, "alerts_raise", asked_again)
    monkeypatch.setattr("xinrong.credit.selectors.scoring.model_active", lambda: object())
    monkeypatch.setattr(
        "xinrong.credit.services.scoring.profiles_score",
        lambda **kw: type("Run", (), {"entities": len(kw["entity_ids"])})(),
    )
    first = rescoring.rescore_drain_run()
    # the drain took the new request on its next part: scored twice, nothing left over
    assert first.entities == 2
    monkeypatch.setattr(early_warning, "alerts_raise", lambda **kw: 0)
    rescoring.rescore_request_entities(entity_ids=[entity.pk])
    (row,) = PendingRescore.objects.all()
    assert row.claim == ""
    assert rescoring.rescore_drain_run().entities == 1
    assert not PendingRescore.objects.exists()
