"""API schemas of the data hub."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Field, Schema

from xinrong.common.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from xinrong.reference.schema_types import Uscc

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
    failure: str = Field("", description="失败原因（status 为 failed 时）")
    errors_total: int = Field(0, description="全部行错误的条数")
    errors_stored: int = Field(0, description="保存下来的行错误条数（每批最多保存前 1,000 条）")
    errors_note: str = Field(
        "", description="有错误未保存时的说明，如“共 1,500 行错误，仅保存前 1,000 行”"
    )
    errors: list[RowErrorOut] = Field(description="前 100 条错误；行号从 2 开始（第 1 行为表头）")


class ConflictListIn(Schema):
    """Filters of the caller's conflict queue."""

    status: str = Field(
        "open",
        max_length=16,
        description="open 待处理 / confirmed_error / explained / dismissed；空串为全部",
    )
    rule: str = Field("", max_length=40, description="校验规则，如 legal_rep_mismatch")
    severity: str = Field("", max_length=16, description="high / medium / low")
    source: str = Field("", max_length=40, description="涉及的来源代码（registry 为登记信息）")
    uscc: str = Field("", max_length=18, description="统一社会信用代码")
    page: int = Field(1, ge=1, le=100000)
    page_size: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)


class ConflictOut(Schema):
    """A cross-validation conflict and where its handling stands."""

    id: int
    uscc: Uscc
    entity_name: str
    rule: str
    rule_label: str
    severity: str
    sources: list[str] = Field(description="涉及来源代码；registry 为市场主体登记信息")
    detail: dict[str, object]
    status: str
    status_label: str
    resolution_note: str
    blamed_source: str = Field(description="数据有误的来源代码（registry 为登记信息），无则为空")
    resolved_by: str
    resolved_at: dt.datetime | None
    created_at: dt.datetime


class ConflictPageOut(Schema):
    """A page of conflicts."""

    count: int
    page: int
    page_size: int
    results: list[ConflictOut]


class ConflictResolveIn(Schema):
    """Close a conflict with an outcome and a written note."""

    outcome: Literal["confirmed_error", "explained", "dismissed"] = Field(
        description="confirmed_error 确认某来源数据有误 / explained 均属实 / dismissed 规则误报"
    )
    note: str = Field(max_length=2000, description="处理说明（必填）")
    blamed_source: str = Field(
        "",
        max_length=40,
        description=(
            "confirmed_error 时必填：数据有误的来源代码（须为冲突涉及的来源；registry 为登记信息）"
        ),
    )
