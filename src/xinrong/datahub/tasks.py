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
