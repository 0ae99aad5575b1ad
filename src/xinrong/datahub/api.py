"""Data hub API: departments deliver rows as JSON with their API key."""

from __future__ import annotations

import csv
import io
from typing import Any, cast

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router
from ninja.responses import Status

from xinrong.accounts.models import User
from xinrong.datahub import rules, selectors
from xinrong.datahub.categories import CATEGORIES
from xinrong.datahub.choices import BatchChannel
from xinrong.datahub.crossval import RULES_BY_ID
from xinrong.datahub.models import Conflict, IngestBatch
from xinrong.datahub.schemas import (
    BatchCreateIn,
    BatchOut,
    ConflictListIn,
    ConflictOut,
    ConflictPageOut,
    ConflictResolveIn,
)
from xinrong.datahub.services import conflicts, ingest, sources
from xinrong.reference.schema_types import error_responses

router = Router(tags=["datahub"])


def _batch_out(batch: IngestBatch) -> dict[str, Any]:
    errors = selectors.batch_errors_summary(batch=batch)
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
        "failure": batch.failure,
        "errors_total": errors.total,
        "errors_stored": errors.stored,
        "errors_note": errors.note,
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


@router.post(
    "/batches",
    response={200: BatchOut, 201: BatchOut, **error_responses(403, 404)},
    summary="报送一批数据",
)
def batch_create(request: HttpRequest, payload: BatchCreateIn) -> Status[dict[str, Any]]:
    """Validate and store rows; the same rows again return the existing batch (200)."""
    user = cast(User, request.user)
    source = sources.source_get(code=payload.source)
    ingest.batch_rows_check(count=len(payload.rows), field="rows")
    content = _rows_as_csv(payload.category, payload.rows)
    fileobj = io.BytesIO(content)
    batch = ingest.batch_register(
        source=source,
        category=payload.category,
        fileobj=fileobj,
        filename="api-rows.csv",
        channel=BatchChannel.API,
        actor=user,
    )
    existed = batch.status == "completed"
    batch = ingest.batch_process(batch=batch, fileobj=fileobj)
    return Status(200 if existed else 201, _batch_out(batch))


@router.get(
    "/batches/{batch_id}", response={200: BatchOut, **error_responses(403, 404)}, summary="查询批次"
)
def batch_detail(request: HttpRequest, batch_id: int) -> dict[str, Any]:
    """Return a batch of one of the caller's sources."""
    return _batch_out(selectors.batch_get(user=cast(User, request.user), pk=batch_id))


def _conflict_out(c: Conflict) -> dict[str, Any]:
    rule = RULES_BY_ID.get(c.rule)
    blamed = rules.REGISTRY if c.blamed_registry else ""
    if c.blamed_source is not None:
        blamed = c.blamed_source.code
    return {
        "id": c.pk,
        "uscc": c.entity.uscc,
        "entity_name": c.entity.name,
        "rule": c.rule,
        "rule_label": str(_(rule.description)) if rule else c.rule,
        "severity": c.severity,
        "sources": list(c.sources),
        "detail": c.detail,
        "status": c.status,
        "status_label": str(c.get_status_display()),
        "resolution_note": c.resolution_note,
        "blamed_source": blamed,
        "resolved_by": str(c.resolved_by) if c.resolved_by else "",
        "resolved_at": c.resolved_at,
        "created_at": c.created_at,
    }


@router.get(
    "/conflicts",
    response={200: ConflictPageOut, **error_responses(403)},
    summary="数据冲突处理队列",
)
def conflict_list(request: HttpRequest, params: Query[ConflictListIn]) -> dict[str, Any]:
    """List the conflicts the caller may handle: its department's sources, or the region's."""
    qs = selectors.conflict_queue(
        user=cast(User, request.user),
        status=params.status,
        rule=params.rule,
        severity=params.severity,
        source=params.source,
        uscc=params.uscc,
    )
    start = (params.page - 1) * params.page_size
    return {
        "count": qs.count(),
        "page": params.page,
        "page_size": params.page_size,
        "results": [_conflict_out(c) for c in qs[start : start + params.page_size]],
    }


@router.post(
    "/conflicts/{conflict_id}/resolve",
    response={200: ConflictOut, **error_responses(403, 404, 409)},
    summary="处理数据冲突",
)
def conflict_resolve(
    request: HttpRequest, conflict_id: int, payload: ConflictResolveIn
) -> dict[str, Any]:
    """Close a conflict: confirmed_error (naming the wrong source), explained or dismissed."""
    user = cast(User, request.user)
    conflict = selectors.conflict_get(user=user, pk=conflict_id)
    blamed, registry = selectors.conflict_blame_parse(conflict=conflict, code=payload.blamed_source)
    conflict = conflicts.conflict_resolve(
        conflict=conflict,
        actor=user,
        outcome=payload.outcome,
        note=payload.note,
        blamed_source=blamed,
        blamed_registry=registry,
    )
    return _conflict_out(selectors.conflict_get(user=user, pk=conflict.pk))
