"""API schemas of the data hub."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Schema

MAX_API_ROWS = 50_000


class BatchCreateIn(Schema):
    """A JSON delivery: rows keyed by the category's field keys (see the Excel template)."""

    source: str = Field(max_length=40, description="数据来源代码")
    category: str = Field(max_length=32, description="数据类别，如 tax")
    rows: list[dict[str, str | int | float | bool | None]] = Field(
        min_length=1,
        max_length=MAX_API_ROWS,
        description="每行一个对象，键为字段代码（uscc、name、period、tax_paid…）",
    )


class RowErrorOut(Schema):
    """Why a row was refused."""

    row: int
    column: str
    value: str
    rule: str


class BatchOut(Schema):
    """The summary of a batch."""

    id: int
    source: str
    category: str
    status: str
    received: int
    accepted: int
    rejected: int
    duplicates: int
    unresolved: int
    conflicts: int
    created_at: dt.datetime
    finished_at: dt.datetime | None
    errors: list[RowErrorOut] = Field(description="前 100 条错误；行号从 2 开始（第 1 行为表头）")
