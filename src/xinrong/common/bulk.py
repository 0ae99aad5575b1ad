"""Column-wise bulk writes: an Arrow table into a database table without model objects.

PostgreSQL gets the rows by ``COPY … FROM STDIN`` (CSV written by Arrow in C++); other
backends by one ``executemany``. Callers own validation; this only moves rows.
"""

from __future__ import annotations

import io
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
from django.db import connection

_BLOCK = 1 << 20  # bytes per COPY write


def table_of(columns: dict[str, Any], n: int) -> pa.Table:
    """Return an Arrow table of ``n`` rows; plain values (not arrays) are repeated."""
    data = {
        name: col if isinstance(col, pa.Array | pa.ChunkedArray) else pa.array([col] * n)
        for name, col in columns.items()
    }
    return pa.table(data)


def csv_payload(table: pa.Table) -> bytes:
    """Return the table as headerless CSV: null unquoted, "" quoted, as COPY reads them."""
    sink = io.BytesIO()
    pa_csv.write_csv(table, sink, pa_csv.WriteOptions(include_header=False))
    return sink.getvalue()


def copy_into(cursor: Any, target: str, table: pa.Table) -> None:
    """COPY the table's rows into ``target`` (PostgreSQL; columns named as in the table)."""
    names = ", ".join(table.column_names)
    payload = csv_payload(table)
    with cursor.cursor.copy(f"COPY {target} ({names}) FROM STDIN WITH (FORMAT csv)") as cp:
        for start in range(0, len(payload), _BLOCK):
            cp.write(payload[start : start + _BLOCK])


def insert_rows(target: str, table: pa.Table, *, suffix: str = "") -> int:
    """Insert the table's rows into ``target`` (``suffix`` e.g. an ON CONFLICT clause).

    Returns the number of rows inserted. Without a suffix PostgreSQL copies directly.
    """
    if not table.num_rows:
        return 0
    names = ", ".join(table.column_names)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and not suffix:
            copy_into(cursor, target, table)
            return int(table.num_rows)
        lists = [table.column(i).to_pylist() for i in range(table.num_columns)]
        marks = ", ".join(["%s"] * table.num_columns)
        cursor.executemany(
            f"INSERT INTO {target} ({names}) VALUES ({marks}){suffix}",  # noqa: S608
            list(zip(*lists, strict=True)),
        )
        return int(cursor.rowcount)
