"""Background ingestion of large files and its recovery (run by `xinrong worker`)."""

from __future__ import annotations

from dataclasses import asdict

from django_tasks import task


@task()
def ingest_stored_file(batch_id: int, path: str = "") -> int:
    """Process a batch from its file stored under MEDIA_ROOT/uploads; return accepted rows.

    ``path`` is only given by tasks queued by earlier versions (the batch now names its file).
    """
    from xinrong.datahub.services.ingest import batch_process_stored

    return batch_process_stored(batch_id=batch_id, path=path).accepted


@task()
def ingest_recover_task() -> dict[str, int]:
    """Restart or fail interrupted batches, fail tasks of dead workers, delete orphan uploads."""
    from xinrong.datahub.services.recovery import ingest_recover

    return asdict(ingest_recover())


@task()
def platform_events_flush_task() -> dict[str, int]:
    """Record the outbox's pending loan events (the coalesced run ``platform_events_flush_request``
    queued); return what it did."""
    from xinrong.datahub.services.coalesce import task_request_release
    from xinrong.datahub.services.sources import FLUSH_REQUEST, platform_events_flush

    # first: events committed from now on ask for the next run, the rest are read below
    task_request_release(name=FLUSH_REQUEST)
    return asdict(platform_events_flush())


@task()
def platform_events_sweep_task() -> dict[str, int]:
    """Record pending loan events whose flush request was lost (the periodic job): the queued
    run, if any, is left as it is."""
    from xinrong.datahub.services.sources import platform_events_flush

    return asdict(platform_events_flush())
