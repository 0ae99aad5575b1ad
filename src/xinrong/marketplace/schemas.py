"""API schemas of the product supermarket."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Field, Schema

from xinrong.common.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE


class ProductSearchIn(Schema):
    """Filters of the published-product list (all optional)."""

    q: str = Field("", max_length=100, description="名称、机构或标签关键词")
    type: str = Field("", max_length=20, description="产品类型：credit、mortgage、pledge…")
    tag: str = Field("", max_length=20, description="标签，如 首贷、银税贷")
    amount: str = Field("", max_length=20, description="拟融资金额（元），额度区间须覆盖")
    term: str = Field("", max_length=4, description="拟融资期限（月），期限区间须覆盖")
    max_rate: str = Field("", max_length=8, description="可接受的最高年利率（%）")
    region: str = Field("", max_length=12, description="所在行政区划代码")
    institution_kind: str = Field(
        "", max_length=16, description="bank、microloan、guarantor、insurer"
    )
    sort: str = Field("newest", max_length=10, description="newest、rate、amount、service")
    page: int = Field(1, ge=1, le=100_000)
    page_size: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)


class ProductListItemOut(Schema):
    """One published product with its live terms."""

    code: str
    name: str
    institution: str
    institution_kind: str
    version: int
    product_type: str
    product_type_label: str
    amount_min: Decimal
    amount_max: Decimal
    term_min_months: int
    term_max_months: int
    rate_min: Decimal
    rate_max: Decimal
    tags: list[str]
    days_to_accept: int
    days_to_decide: int
    published_at: dt.datetime | None


class ProductPageOut(Schema):
    """A page of published products."""

    count: int
    page: int
    page_size: int
    results: list[ProductListItemOut]


class ProductDetailOut(ProductListItemOut):
    """A published product's full live terms."""

    repayment_methods: list[str]
    entity_types: list[str]
    industries: list[str]
    regions: list[str]
    min_years_in_business: Decimal
    min_credit_grade: str
    tax_grades: list[str]
    collateral_modes: list[str]
    supports_relending: bool
    supports_rediscount: bool
    description: str


class DemandCreateIn(Schema):
    """A financing demand to publish (values are checked by the service, errors name the field)."""

    amount: str = Field(..., max_length=20, description="融资金额（元），大于 0 且不超过 1 亿")
    term_months: int = Field(..., description="期限（月），1–360")
    purpose_category: str = Field(
        ..., max_length=20, description="用途类别：working_capital、equipment、expansion…"
    )
    purpose: str = Field("", max_length=1000, description="资金用途说明")
    collateral_modes: list[str] = Field(
        default_factory=list, max_length=10, description="可接受的担保方式；为空表示不限"
    )
    max_rate: str = Field(..., max_length=8, description="可接受的最高年利率（%），0–36")
    urgency: str = Field("normal", max_length=12, description="normal、urgent、very_urgent")


class DemandOut(Schema):
    """A published financing demand."""

    id: int
    entity_uscc: str
    entity_name: str
    amount: Decimal
    term_months: int
    purpose_category: str
    purpose: str
    collateral_modes: list[str]
    max_rate: Decimal
    urgency: str
    status: str
    created_at: dt.datetime


class DemandReleaseIn(Schema):
    """Why the institution gives a held demand back (optional)."""

    note: str = Field("", max_length=2000, description="放弃承接的原因（可选）")


class DemandHoldOut(Schema):
    """Who holds a demand (抢单) and until when; nobody when ``held_by`` is null."""

    id: int
    status: str
    held_by: str | None = Field(None, description="承接机构名称")
    held_until: dt.datetime | None = Field(None, description="承接截止时间；到期退回需求池")


class MatchOut(Schema):
    """One ranked product for a demand, with its score, the score's parts and why it fits."""

    rank: int
    code: str
    name: str
    institution: str
    score: float
    components: dict[str, float]
    explanations: list[str]


class DemandMatchesOut(Schema):
    """The ranked matches of a demand."""

    demand_id: int
    considered: int
    eligible_count: int
    weights: dict[str, float]
    results: list[MatchOut]
