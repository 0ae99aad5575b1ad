"""API schemas of the credit archive."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Field, Schema

from xinrong.common.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE


class FactOut(Schema):
    """One piece of credit information with its source and date."""

    id: int = Field(description="信息编号（提出异议时使用）")
    category: str
    source: str
    period: str
    occurred_on: dt.date | None
    negative: bool
    disputed: bool = Field(description="存在处理中的异议（异议处理中）")
    repaired: bool = Field(description="已信用修复（仅企业本身可见，机构看不到已修复的信息）")
    data: dict[str, str]


class ArchiveOut(Schema):
    """The part of an enterprise's archive the caller may read."""

    uscc: str
    name: str
    authorised: bool
    scope: str
    categories: list[str]
    hidden_categories: list[str]
    facts: list[FactOut]


# ---------------------------------------------------------------- disputes


class DisputeCreateIn(Schema):
    """An enterprise's dispute about one fact of its own archive."""

    fact_id: int = Field(ge=1, le=2**62, description="信用档案中信息的编号（FactOut.id）")
    kind: Literal["objection", "correction", "addition"] = Field(
        description="objection 异议 / correction 更正 / addition 补充"
    )
    claim: str = Field(min_length=1, max_length=2000, description="异议说明")
    proposed_values: dict[str, str | int | float | bool | None] = Field(
        default_factory=dict,
        max_length=50,
        description="申请更正/补充的字段值：键为该类别的字段代码（如 tax_paid），值按模板规则填写",
    )


class DisputeListIn(Schema):
    """Filters of the dispute list."""

    status: str = Field("", max_length=16, description="submitted / in_review / corrected …")
    overdue: bool = Field(False, description="只看逾期未答复的")
    page: int = Field(1, ge=1, le=100000)
    page_size: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)


class DisputeEventOut(Schema):
    """One step of the dispute's timeline."""

    kind: str
    kind_label: str
    actor: str
    from_status: str
    to_status: str
    note: str
    data: dict[str, object]
    at: dt.datetime


class DisputeOut(Schema):
    """A dispute and where it stands."""

    id: int
    uscc: str
    entity_name: str
    fact_id: int
    category: str
    category_label: str
    source: str
    kind: str
    kind_label: str
    status: str
    status_label: str
    claim: str
    proposed_values: dict[str, str]
    original_values: dict[str, str]
    submitted_at: dt.datetime
    due_on: dt.date = Field(description="答复期限（提交日起20日，《征信业管理条例》第二十五条）")
    overdue: bool
    escalated: bool
    resolution: str
    resolved_at: dt.datetime | None


class DisputeDetailOut(DisputeOut):
    """A dispute with its timeline and evidence file names."""

    events: list[DisputeEventOut]
    evidence: list[str]


class DisputePageOut(Schema):
    """A page of disputes."""

    count: int
    page: int
    page_size: int
    results: list[DisputeOut]
