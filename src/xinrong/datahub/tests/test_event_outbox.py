"""The outbox of live loan events: kept in the caller's transaction, recorded by one coalesced
flush as one batch, each event exactly once, a bad event set aside with its error."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from typing import Any, cast

import pytest
from django.db import OperationalError, connection, connections
from django.test import override_settings
from django.utils import timezone
from django_tasks.backends.dummy import DummyBackend

from xinrong.common.errors import ApplicationError
from xinrong.datahub.models import Fact, IngestBatch, PendingPlatformEvent, TaskRequest
from xinrong.datahub.services import sources
from xinrong.datahub.tasks import platform_events_flush_task
from xinrong.enterprises.models import MarketEntity
from xinrong.enterprises.tests.factories import MarketEntityFactory, valid_uscc

pytestmark = pytest.mark.django_db

DUMMY_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def _entity() -> MarketEntity:
    return cast(MarketEntity, MarketEntityFactory())


def _row(entity: MarketEntity, n: int, **over: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "uscc": entity.uscc,
        "loan_no": f"XR-{n:04d}",
        "institution": "青海银行",
        "event": "disbursed",
        "amount": Decimal("500000.00"),
        "outstanding": Decimal("500000.00"),
        "overdue_days": 0,
        "occurred_on": dt.date(2024, 3, 1),
        "maturity_on": dt.date(2025, 3, 1),
        "first_loan": True,
        "renewal": False,
    }
    row.update(over)
    return row


def _loan_facts() -> int:
    return Fact.objects.filter(category="loan").count()


def test_an_event_waits_in_the_outbox_and_one_flush_records_all_as_one_batch() -> None:
    entity = _entity()
    for n in range(3):
        sources.platform_loan_event_enqueue(row=_row(entity, n), note=f"XR-{n:04d} disbursed")
    assert PendingPlatformEvent.objects.count() == 3 and _loan_facts() == 0

    report = sources.platform_events_flush()

    assert (report.recorded, report.refused, report.batches) == (3, 0, 1)
    assert IngestBatch.objects.filter(category="loan").count() == 1
    assert sorted(Fact.objects.values_list("reference_no", flat=True)) == [
        "XR-0000",
        "XR-0001",
        "XR-0002",
    ]
    assert not PendingPlatformEvent.objects.exists()
    assert sources.platform_events_flush().recorded == 0  # nothing twice


def test_a_flushed_event_is_the_same_fact_as_a_direct_record() -> None:
    entity = _entity()
    sources.platform_loan_event_enqueue(
        row=_row(entity, 1, first_loan=None, renewal=None, maturity_on=None)
    )
    sources.platform_events_flush()
    flushed = Fact.objects.get(reference_no="XR-0001")
    sources.platform_loan_events_record(
        rows=[_row(entity, 2, first_loan=None, renewal=None, maturity_on=None)]
    )
    direct = Fact.objects.get(reference_no="XR-0002")
    fields = ("status", "amount", "arrears", "quantity", "occurred_on", "flag", "negative", "data")
    assert [getattr(flushed, f) for f in fields] == [getattr(direct, f) for f in fields]
    assert flushed.amount == Decimal("500000.00") and flushed.occurred_on == dt.date(2024, 3, 1)


def test_a_wrong_key_fails_the_caller_at_once() -> None:
    entity = _entity()
    row = _row(entity, 1)
    del row["event"]
    with pytest.raises(ApplicationError) as exc:
        sources.platform_loan_event_enqueue(row=row)
    assert exc.value.code == "invalid_loan_rows" and "event" in exc.value.message
    assert not PendingPlatformEvent.objects.exists()


def test_bad_events_are_kept_with_their_error_and_the_others_are_recorded() -> None:
    entity = _entity()
    stranger = valid_uscc(seed=987)  # a valid code no entity on the platform has
    for n in range(6):
        sources.platform_loan_event_enqueue(row=_row(entity, n))
    sources.platform_loan_event_enqueue(row=_row(entity, 6, uscc=stranger), note="unregistered")
    sources.platform_loan_event_enqueue(row=_row(entity, 7, event="lost"), note="unknown event")

    report = sources.platform_events_flush()

    assert (report.recorded, report.refused) == (6, 2)
    assert _loan_facts() == 6
    refused = {e.note: e for e in sources.platform_events_refused()}
    assert set(refused) == {"unregistered", "unknown event"}
    assert stranger in refused["unregistered"].error
    assert "lost" in refused["unknown event"].error
    assert all(e.failed_at is not None for e in refused.values())
    # a later flush leaves them alone; once the entity exists, the operator puts it back
    assert sources.platform_events_flush().refused == 0
    MarketEntityFactory(uscc=stranger)
    assert sources.platform_events_retry(ids=[refused["unregistered"].pk]) == 1
    again = sources.platform_events_flush()
    assert (again.recorded, again.refused) == (1, 0)
    assert Fact.objects.filter(reference_no="XR-0006").count() == 1
    assert [e.note for e in sources.platform_events_refused()] == ["unknown event"]


def test_an_unexpected_fault_on_one_event_sets_only_that_event_aside(monkeypatch) -> None:
    entity = _entity()
    for n in range(9):
        sources.platform_loan_event_enqueue(row=_row(entity, n), note=f"e{n}")
    real = sources.platform_loan_events_record

    def faulty(*, rows: list[dict[str, Any]], note: str = "") -> IngestBatch:
        if any(r["loan_no"] == "XR-0005" for r in rows):
            raise RuntimeError("a programming error")
        return real(rows=rows, note=note)

    monkeypatch.setattr(sources, "platform_loan_events_record", faulty)
    report = sources.platform_events_flush()

    assert (report.recorded, report.refused) == (8, 1)
    assert _loan_facts() == 8
    (bad,) = sources.platform_events_refused()
    assert bad.note == "e5" and bad.error == "RuntimeError: a programming error"


def test_a_flush_that_dies_midway_leaves_every_event_for_the_next(monkeypatch) -> None:
    entity = _entity()
    for n in range(5):
        sources.platform_loan_event_enqueue(row=_row(entity, n))
    real = sources.platform_loan_events_record

    def dies_after_writing(*, rows: list[dict[str, Any]], note: str = "") -> IngestBatch:
        real(rows=rows, note=note)
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(sources, "platform_loan_events_record", dies_after_writing)
    with pytest.raises(OperationalError):
        sources.platform_events_flush()
    # nothing of the part stayed: no facts, and every event still waits (none set aside)
    assert _loan_facts() == 0
    assert PendingPlatformEvent.objects.filter(failed_at__isnull=True).count() == 5

    monkeypatch.setattr(sources, "platform_loan_events_record", real)
    assert sources.platform_events_flush().recorded == 5
    assert _loan_facts() == 5


def test_many_commits_queue_one_debounced_flush(django_capture_on_commit_callbacks) -> None:
    entity = _entity()
    with override_settings(TASKS=DUMMY_TASKS, XINRONG_EVENT_FLUSH_SECONDS=3):
        backend = cast(DummyBackend, platform_events_flush_task.get_backend())
        backend.clear()
        before = timezone.now()
        for n in range(40):  # forty calls, each its own commit
            with django_capture_on_commit_callbacks(execute=True):
                sources.platform_loan_event_enqueue(row=_row(entity, n))
        queued = list(backend.results)
        assert len(queued) == 1
        (result,) = queued
        assert result.task.name == platform_events_flush_task.name
        assert result.task.run_after is not None
        assert result.task.run_after >= before + dt.timedelta(seconds=3)
        assert TaskRequest.objects.get().task_id == result.id

        # the worker runs it: the request is released first, every event becomes a fact
        out = result.task.call()
        assert out == {"recorded": 40, "refused": 0, "batches": 1}
        assert not TaskRequest.objects.exists()
        with django_capture_on_commit_callbacks(execute=True):
            sources.platform_loan_event_enqueue(row=_row(entity, 99))
        assert len(backend.results) == 2  # the next event asks for the next run
        backend.clear()


def test_a_request_whose_run_was_lost_is_queued_again(django_capture_on_commit_callbacks) -> None:
    entity = _entity()
    with override_settings(TASKS=DUMMY_TASKS):
        backend = cast(DummyBackend, platform_events_flush_task.get_backend())
        backend.clear()
        TaskRequest.objects.create(
            name=sources.FLUSH_REQUEST,
            task_id="gone",
            requested_at=timezone.now() - dt.timedelta(hours=1),
        )
        with django_capture_on_commit_callbacks(execute=True):
            sources.platform_loan_event_enqueue(row=_row(entity, 1))
        assert len(backend.results) == 1
        assert TaskRequest.objects.get().task_id == backend.results[0].id
        backend.clear()


@override_settings(TASKS=DUMMY_TASKS)  # queued, not run: the two flushes below do the work
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_flushes_record_each_event_exactly_once() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks (SKIP LOCKED) between two connections need PostgreSQL")
    entities = [_entity() for _ in range(4)]
    for n in range(400):
        sources.platform_loan_event_enqueue(row=_row(entities[n % 4], n))
    start = threading.Barrier(2)
    reports: list[sources.FlushReport] = []
    errors: list[BaseException] = []

    def flush() -> None:
        try:
            start.wait()
            reports.append(sources.platform_events_flush(part=25))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=flush) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    assert sum(r.recorded for r in reports) == 400  # no event recorded by both
    assert all(r.recorded > 0 for r in reports)  # both really ran side by side
    assert Fact.objects.filter(category="loan").count() == 400
    assert Fact.objects.values("reference_no").distinct().count() == 400
    assert not PendingPlatformEvent.objects.exists()
