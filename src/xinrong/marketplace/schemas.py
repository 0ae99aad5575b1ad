"""API schemas of the product supermarket."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Field, Schema

from xinrong.common.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from xinrong.credit.schemas import ArchiveOut
from xinrong.marketplace.inputs import DemandIn
from xinrong.reference.schema_types import Money, Uscc


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
    amount_min: Money
    amount_max: Money
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
    """A financing demand to publish (``demand_in`` checks the values, errors name each field)."""

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

    def demand_in(self) -> DemandIn:
        """Return the typed demand the service takes (the same parse as the web form's)."""
        return DemandIn.parse(self.dict())


class DemandOut(Schema):
    """A published financing demand."""

    id: int
    entity_uscc: Uscc
    entity_name: str
    amount: Money
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


# ---------------------------------------------------------------- bank integration API (一网通办)
# Institutions' own systems pull applications and push decisions and loan events
# (marketplace/bank_api.py). Money is a decimal string in yuan with two places.


class BankApplicationListIn(Schema):
    """What to pull: changes after a cursor, optionally of one status."""

    cursor: str = Field(
        "",
        max_length=200,
        description="上次返回的 next_cursor；为空表示从头开始（按更新时间先后返回）",
    )
    status: str = Field(
        "",
        max_length=16,
        description="只返回该状态的申请：submitted、accepted、under_review、approved…",
    )
    limit: int = Field(20, ge=1, le=50, description="每页条数，1–50")
    archive: bool = Field(
        True, description="附带企业授权范围内的信用档案（每次读取都记入企业可见的查询记录）"
    )


class BankProductOut(Schema):
    """The product an application was made on, and the version whose terms apply."""

    code: str
    name: str
    version: int = Field(description="申请时的产品版本号")


class BankEntityOut(Schema):
    """The applying enterprise."""

    uscc: Uscc
    name: str


class BankEventOut(Schema):
    """One step of an application's timeline."""

    kind: str
    kind_label: str
    from_status: str
    to_status: str
    at: dt.datetime
    via_api: bool = Field(description="经机构系统接口推送")
    organisation: str | None
    note: str
    data: dict[str, object]


class BankLoanOut(Schema):
    """A disbursed loan and where it stands."""

    number: str = Field(description="平台贷款编号（全平台唯一）")
    bank_loan_no: str = Field(description="机构借据号（放款时推送的 loan_no，可为空）")
    principal: Money
    annual_rate: Decimal = Field(description="年利率（%）")
    term_months: int
    repayment_method: str
    disbursed_on: dt.date
    maturity_on: dt.date
    outstanding: Money = Field(description="贷款余额（元）")
    overdue_days: int
    max_overdue_days: int
    status: str = Field(description="current、overdue、defaulted、settled")
    status_label: str
    settled_on: dt.date | None
    defaulted_on: dt.date | None


class BankApplicationOut(Schema):
    """A loan application as the institution's system sees it."""

    number: str = Field(description="申请编号")
    status: str
    status_label: str
    next_actions: list[str] = Field(description="当前状态下可推送的操作")
    product: BankProductOut
    entity: BankEntityOut
    amount: Money = Field(description="申请金额（元）")
    term_months: int
    repayment_method: str
    purpose: str
    submitted_at: dt.datetime
    updated_at: dt.datetime
    accepted_at: dt.datetime | None
    decided_at: dt.datetime | None
    closed_at: dt.datetime | None
    approved_amount: Money | None
    approved_rate: Decimal | None
    approved_term_months: int | None
    reject_reason: str
    reject_note: str
    contract_no: str
    contract_signed_on: dt.date | None
    loan: BankLoanOut | None
    timeline: list[BankEventOut]
    archive: ArchiveOut | None = Field(
        description="企业授权本机构查看的信用档案（拉取时读取并记入查询记录；写操作的响应中为空）"
    )


class BankApplicationPageOut(Schema):
    """One page of the application feed."""

    results: list[BankApplicationOut]
    next_cursor: str = Field(description="下次拉取时传入的 cursor")
    has_more: bool


class BankAcceptIn(Schema):
    """Accept an application (受理)."""

    note: str = Field("", max_length=2000)


class BankReviewIn(Schema):
    """Hand an accepted application to the reviewers (进入审批)."""

    note: str = Field("", max_length=2000)


class BankApproveIn(Schema):
    """The credit decision: granted amount, annual rate and term, within the product's ranges."""

    amount: Decimal = Field(gt=0, max_digits=16, decimal_places=2, description="批准金额（元）")
    rate: Decimal = Field(ge=0, max_digits=5, decimal_places=2, description="批准年利率（%）")
    term_months: int = Field(ge=1, le=360, description="批准期限（月）")
    note: str = Field("", max_length=2000)


class BankRejectIn(Schema):
    """Decline with a reason code and an explanation the enterprise reads."""

    reason: str = Field(
        max_length=16,
        description="credit、capacity、collateral、scope、documents、policy、other",
    )
    note: str = Field(min_length=1, max_length=2000, description="拒绝说明（企业可见）")


class BankContractIn(Schema):
    """The signed loan contract."""

    contract_no: str = Field(min_length=1, max_length=64, description="合同编号")
    signed_on: dt.date | None = Field(None, description="签约日期，默认今天")


class BankDisburseIn(Schema):
    """The disbursement: amount, date and the institution's loan number."""

    amount: Decimal = Field(
        gt=0, max_digits=16, decimal_places=2, description="放款金额（元），不超过批准金额"
    )
    disbursed_on: dt.date | None = Field(None, description="放款日期，默认今天")
    loan_no: str = Field(
        "",
        max_length=64,
        description="本机构的借据号（选填，机构内唯一）；平台另编全平台唯一的贷款编号 number，"
        "此后两者都可用于 /loans/{loan_no}",
    )


class BankRepaymentIn(Schema):
    """A repayment received (paid to the oldest instalments first, interest before principal)."""

    amount: Decimal = Field(gt=0, max_digits=16, decimal_places=2, description="还款金额（元）")
    paid_on: dt.date | None = Field(None, description="还款日期，默认今天")


class BankRepaymentOut(Schema):
    """The recorded repayment and the loan after it."""

    id: int
    amount: Money
    principal: Money
    interest: Money
    paid_on: dt.date
    loan: BankLoanOut


class BankOverdueIn(Schema):
    """Mark a loan overdue as of a date."""

    as_of: dt.date | None = Field(None, description="以该日期判断逾期，默认今天")


class BankDefaultIn(Schema):
    """Declare an overdue loan in default (the reviewer's decision)."""

    note: str = Field(min_length=1, max_length=2000, description="违约认定说明")
    on: dt.date | None = Field(None, description="违约认定日期，默认今天")


class BankLoanHistoryIn(Schema):
    """A lender's historical loans to import (at most 1,000 per call; docs/bank-api.md §7)."""

    loans: list[Any] = Field(
        description=(
            "历史贷款列表，每次最多 1000 笔。每笔须且只能有：bank_loan_no、uscc、principal、"
            "annual_rate、repayment_method、applied_on、contract_signed_on、disbursed_on、"
            "maturity_on、first_loan、renewal、repayments（[{paid_on, amount, principal, "
            "interest}]）、overdue（[{on, days}]）、defaulted_on、settled_on；可选 product_code。"
            "金额、利率用字符串（最多两位小数），日期为 YYYY-MM-DD。"
        )
    )


class BankLoanHistoryItemOut(Schema):
    """What became of one loan of the call."""

    bank_loan_no: str = Field(description="机构借据号")
    result: str = Field(description="created：本次导入；present：此前已导入且内容相同，未重复导入")
    loan_no: str = Field(description="平台贷款编号")
    application_no: str = Field(description="平台申请编号（标记为历史导入）")
    status: str = Field(description="贷款状态：current、overdue、defaulted、settled")


class BankLoanHistoryOut(Schema):
    """The answer of a loan-history import."""

    received: int = Field(description="本次报文中的贷款笔数")
    created: int = Field(description="本次新导入的笔数")
    present: int = Field(description="此前已导入、内容相同而未重复导入的笔数")
    facts_batch: int | None = Field(description="记录贷款事件的平台数据批次；没有新贷款时为空")
    loans: list[BankLoanHistoryItemOut]
