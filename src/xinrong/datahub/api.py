"""Data hub API: departments deliver rows as JSON with their API key."""

from __future__ import annotations

import csv
import io
from typing import Any, cast

from django.http import HttpRequest
from ninja import Router
from ninja.responses import Status

from xinrong.accounts.models import User
from xinrong.datahub import selectors, services
from xinrong.datahub.categories import CATEGORIES
from xinrong.datahub.choices import BatchChannel
from xinrong.datahub.models import IngestBatch
from xinrong.datahub.schemas import BatchCreateIn, BatchOut

router = Router(tags=["datahub"])


def _batch_out(batch: IngestBatch) -> dict[str, Any]:
    return {
        "id": batch.pk,
        "source": batch.source.code,
        "category": batch.category,
        "status": batch.status,
        "received": batch.received,
        "accepted": batch.accepted,
        "rejected": batch.rejected,
        "duplicates": batch.duplicates,
        "unresolved": batch.unresolved,
        "conflicts": batch.conflicts,
        "created_at": batch.created_at,
        "finished_at": batch.finished_at,
        "errors": [
            {"row": e.row_number, "column": e.column, "value": e.value, "rule": e.rule}
            for e in batch.errors.order_by("row_number", "id")[:100]
        ],
    }


def _rows_as_csv(category: str, rows: list[dict[str, Any]]) -> bytes:
    """Write JSON rows as a CSV with the field keys as headers: one pipeline for every door."""
    keys = [f.key for f in CATEGORIES[category].all_fields] if category in CATEGORIES else []
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(keys)
    for row in rows:
        writer.writerow(["" if row.get(k) is None else str(row.get(k)) for k in keys])
    return buf.getvalue().encode("utf-8")


@router.post("/batches", response={200: BatchOut, 201: BatchOut}, summary="报送一批数据")
def batch_create(request: HttpRequest, payload: BatchCreateIn) -> Status[dict[str, Any]]:
    """Validate and store rows; the same rows again return the existing batch (200)."""
    user = cast(User, request.user)
    source = services.source_get(code=payload.source)
    content = _rows_as_csv(payload.category, payload.rows)
    fileobj = io.BytesIO(content)
    batch = services.batch_register(
        source=source,
        category=payload.category,
        fileobj=fileobj,
        filename="api-rows.csv",
        channel=BatchChannel.API,
        actor=user,
    )
    existed = batch.status == "completed"
    batch = services.batch_process(batch=batch, fileobj=fileobj)
    return Status(200 if existed else 201, _batch_out(batch))


@router.get("/batches/{batch_id}", response=BatchOut, summary="查询批次")
def batch_detail(request: HttpRequest, batch_id: int) -> dict[str, Any]:
    """Return a batch of one of the caller's sources."""
    return _batch_out(selectors.batch_get(user=cast(User, request.user), pk=batch_id))
