"""API schemas of the credit archive and the relationship graph."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from ninja import Field, Schema

from xinrong.common.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from xinrong.reference.schema_types import Uscc


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

    uscc: Uscc
    name: str
    authorised: bool
    scope: str
    categories: list[str]
    hidden_categories: list[str]
    facts: list[FactOut]


class GraphIn(Schema):
    """Query parameters of the relationship graph."""

    hops: int = Field(2, ge=1, le=3, description="展开层数：1、2 或 3")


class GraphFlagOut(Schema):
    """A related-party risk on a node."""

    code: str = Field(
        description="dishonest / negative_info / revoked / cancelled / guarantee_circle"
    )
    label: str
    detail: str


class GraphNodeOut(Schema):
    """An entity ("e:<统一社会信用代码>") or a person ("p:<n>": masked, valid in one answer)."""

    id: str
    kind: str = Field(description="enterprise / individual_business / person")
    kind_label: str
    label: str
    uscc: Uscc | None
    hop: int = Field(description="与中心主体相隔的层数")
    center: bool
    status: str | None
    status_label: str | None
    flags: list[GraphFlagOut]


class GraphEdgeOut(Schema):
    """A tie; guarantees point from the guarantor to the entity whose debts it guarantees."""

    source: str
    target: str
    kind: str = Field(
        description="legal_representative / shareholder / executive / actual_controller / "
        "guarantee / shared_address / shared_phone"
    )
    kind_label: str
    label: str
    amount: Decimal | None = Field(description="担保金额合计（元）")
    directed: bool


class GraphCircleMemberOut(Schema):
    """An entity of a guarantee circle; it may lie beyond the hop limit (``in_graph`` false)."""

    id: str | None
    uscc: Uscc
    name: str
    in_graph: bool


class GraphCircleOut(Schema):
    """A guarantee circle: each member guarantees the next, the last guarantees the first."""

    members: list[GraphCircleMemberOut]
    amount: Decimal | None = Field(description="圈内已知担保金额合计（元）")
    amount_label: str = Field(description="金额的中文显示，如“300万元”")


class GraphAccessOut(Schema):
    """What the caller was allowed to see."""

    own: bool
    authorised: bool
    scope: str
    scope_label: str
    expires_at: dt.datetime | None
    guarantees: bool = Field(description="是否包含担保关系、担保圈与共用电话")
    fact_categories: list[str] = Field(description="风险标记所依据的信息类别")


class GraphOut(Schema):
    """The relationship graph (图谱) of one entity within ``hops`` ties."""

    uscc: Uscc
    name: str
    hops: int
    max_nodes: int
    truncated: bool = Field(description="节点数超过上限，图谱已截断")
    access: GraphAccessOut
    nodes: list[GraphNodeOut]
    edges: list[GraphEdgeOut]
    circles: list[GraphCircleOut]
    circles_truncated: bool


class ReportVerifyOut(Schema):
    """What the platform's record says about a credit report, and whether a digest matches."""

    number: str
    entity_name: str
    uscc: Uscc
    generated_at: dt.datetime
    audience: str
    audience_label: str
    model_version: int | None
    score: int | None
    grade: str
    pages: int
    size: int
    sm3: str
    checked: str = Field(description='"digest" when a digest was compared, else ""')
    matches: bool | None = Field(description="whether the digest matches; null when none given")


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
    uscc: Uscc
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
