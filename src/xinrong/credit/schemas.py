"""API schemas of the credit archive and the relationship graph."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Field, Schema


class FactOut(Schema):
    """One piece of credit information with its source and date."""

    category: str
    source: str
    period: str
    occurred_on: dt.date | None
    negative: bool
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
    uscc: str | None
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
    uscc: str
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

    uscc: str
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
    uscc: str
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
