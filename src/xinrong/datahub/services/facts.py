"""Store validated rows as facts column-wise (shared by ingestion, association and demo data)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.db import connection

from xinrong.common import bulk
from xinrong.datahub import columnar
from xinrong.datahub.categories import CategorySpec
from xinrong.datahub.models import Fact, IngestBatch
from xinrong.enterprises.models import MarketEntity


def first_seen(hashes: np.ndarray, seen: set[int]) -> np.ndarray:
    """Mark rows whose hash is neither earlier in ``hashes`` nor in ``seen``; add them to it."""
    order = np.argsort(hashes, kind="stable")
    ordered = hashes[order]
    first = np.ones(len(hashes), dtype=bool)
    first[order[1:]] = ordered[1:] != ordered[:-1]  # the earliest row of equal hashes stays
    fresh: np.ndarray = first & np.fromiter(
        (h not in seen for h in hashes.tolist()), bool, len(hashes)
    )
    seen.update(hashes[fresh].tolist())
    return fresh


def facts_store(
    *,
    batch: IngestBatch,
    spec: CategorySpec,
    values: dict[str, pa.Array],
    entity_ids: np.ndarray,
    hashes: np.ndarray,
) -> int:
    """Store validated rows (canonical text per field) as facts of a batch; return how many.

    A row whose hash is already stored for the same entity and source is skipped by the
    unique index (the caller counts it as a duplicate). Written column-wise, without model
    objects: COPY into a staging table on PostgreSQL, executemany elsewhere.
    """
    n = len(entity_ids)
    if not n:
        return 0
    typed = columnar.fact_columns(spec, values)

    def col(name: str, default: str | None) -> pa.Array:
        arr = typed.get(name)
        if arr is None:
            return pa.nulls(n, pa.string()) if default is None else pa.array([default] * n)
        return pc.fill_null(arr, default) if default is not None else arr

    flag = typed.get("flag")
    table: dict[str, Any] = {
        "batch_id": batch.pk,
        "source_id": batch.source_id,
        "category": spec.code,
        "entity_id": pa.array(entity_ids, pa.int64()),
        "row_hash": pa.array(hashes, pa.int64()),
        "period": col("period", ""),
        "occurred_on": col("occurred_on", None),
        "behaviour_end": col("behaviour_end", None),
        "amount": col("amount", None),
        "arrears": col("arrears", None),
        "quantity": col("quantity", None),
        "grade": col("grade", ""),
        "status": col("status", ""),
        "flag": pc.fill_null(pc.equal(flag, "True"), False)
        if flag is not None
        else pa.array([False] * n),
        "reference_no": col("reference_no", ""),
        "negative": typed["negative"],
        "retention_until": typed["retention_until"],
        "data": columnar.json_objects(
            values, [k for k in values if k != "uscc" and not spec.by_key[k].column]
        ),
        "province": provinces_of(entity_ids),
    }
    return _facts_write(bulk.table_of(table, n))


def provinces_of(entity_ids: np.ndarray) -> pa.Array:
    """Return, per row, the province (first two digits of the entity's division code).

    It is the fact table's partition key on PostgreSQL (docs/scaling.md). One read of the
    distinct entities of a chunk (an entity id → division code lookup by primary key).
    """
    distinct = np.unique(entity_ids)
    known: dict[int, str] = {}
    table = MarketEntity._meta.db_table
    with connection.cursor() as cursor:
        for start in range(0, len(distinct), _LOOKUP):
            part = [int(x) for x in distinct[start : start + _LOOKUP]]
            params: list[Any]
            if connection.vendor == "postgresql":
                where, params = "id = ANY(%s)", [part]
            else:
                where, params = f"id IN ({', '.join(['%s'] * len(part))})", part
            cursor.execute(
                f"SELECT id, substr(division_code, 1, 2) FROM {table} WHERE {where}",  # noqa: S608
                params,
            )
            known.update(cursor.fetchall())
    codes = np.array([known.get(i, "") for i in distinct.tolist()], dtype=object)
    return pa.array(codes[np.searchsorted(distinct, entity_ids)], pa.string())


def fact_province_sync(*, entity_ids: list[int]) -> int:
    """Restamp the facts of entities whose province changed (a move; PostgreSQL moves the rows
    to the new partition); return how many. Reads by the unique key's leading entity id."""
    if not entity_ids:
        return 0
    fact, entity = Fact._meta.db_table, MarketEntity._meta.db_table
    new = (
        f"COALESCE((SELECT substr(e.division_code, 1, 2) FROM {entity} e "  # noqa: S608
        f"WHERE e.id = {fact}.entity_id), '')"
    )
    total = 0
    with connection.cursor() as cursor:
        for start in range(0, len(entity_ids), _LOOKUP):
            part = entity_ids[start : start + _LOOKUP]
            marks = ", ".join(["%s"] * len(part))
            cursor.execute(
                f"UPDATE {fact} SET province = {new} "  # noqa: S608
                f"WHERE entity_id IN ({marks}) AND province <> {new}",
                part,
            )
            total += int(cursor.rowcount or 0)
    return total


_LOOKUP = 5000  # entity ids per lookup (SQLite's bound-parameter limit is far above)
_STAGE = "xinrong_fact_stage"  # per-connection temporary table the COPY lands in


def _facts_write(table: pa.Table) -> int:
    """Append fact rows; return how many were new (the unique key skips stored rows).

    On PostgreSQL the rows are copied into a per-connection staging table and inserted from
    there, because COPY itself cannot skip conflicts.
    """
    target = Fact._meta.db_table
    skip = " ON CONFLICT (entity_id, source_id, row_hash, province) DO NOTHING"
    if connection.vendor != "postgresql":
        return bulk.insert_rows(target, table, suffix=skip)
    names = ", ".join(table.column_names)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} ON COMMIT DELETE ROWS AS "  # noqa: S608
            f"SELECT {names} FROM {target} WITH NO DATA"
        )
        bulk.copy_into(cursor, _STAGE, table)
        cursor.execute(f"INSERT INTO {target} ({names}) SELECT {names} FROM {_STAGE}{skip}")  # noqa: S608
        stored = int(cursor.rowcount)
        cursor.execute(f"TRUNCATE {_STAGE}")
        return stored
