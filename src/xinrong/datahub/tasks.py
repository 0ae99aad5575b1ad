"""Background ingestion of large files (run by `xinrong db_worker`)."""

from __future__ import annotations

from pathlib import Path

from django_tasks import task

from xinrong.datahub.models import IngestBatch
from xinrong.datahub.services import batch_process


@task()
def ingest_stored_file(batch_id: int, path: str) -> int:
    """Process a registered batch from a file saved under MEDIA_ROOT; return accepted rows."""
    batch = IngestBatch.objects.get(pk=batch_id)
    stored = Path(path)
    try:
        with stored.open("rb") as fh:
            batch = batch_process(batch=batch, fileobj=fh)
    finally:
        stored.unlink(missing_ok=True)
    return batch.accepted
