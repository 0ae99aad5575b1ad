"""Fact categories as data: the fields each department delivers, their rules and where they go.

Every category shares the identity columns (USCC, or name and region) and maps its own fields
onto the typed columns of ``Fact`` (amount, arrears, quantity, grade, status, flag, reference
number, dates) so credit scoring can read them column-wise; the full row is kept in ``data``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop as N_

# Field kinds understood by the row validator (datahub.rows).
TEXT, DECIMAL, INT, DATE, PERIOD, CHOICE, BOOL = (
    "text",
    "decimal",
    "int",
    "date",
    "period",
    "choice",
    "bool",
)

# Typed columns of Fact a field may fill.
FACT_COLUMNS = frozenset(
    {
        "amount",
        "arrears",
        "quantity",
        "grade",
        "status",
        "flag",
        "reference_no",
        "occurred_on",
        "period",
        "behaviour_end",
    }
)


@dataclass(frozen=True)
class FieldSpec:
    """One column of a category's template."""

    key: str
    header: str  # Chinese column header of the Excel template
    kind: str = TEXT
    required: bool = False
    choices: tuple[str, ...] = ()
    column: str = ""  # the Fact column it fills, if any
    note: str = ""
    example: str = ""
    max_length: int = 200
    # a date that has already happened (a decision, an event): not later than today
    past_only: bool = False
    # a personal identifier: masked wherever a delivered value is kept or shown (errors, facts)
    sensitive: bool = False

    def choice_labels(self) -> dict[str, str]:
        """Return {code: translated Chinese label} of a choice field, in the codes' order."""
        labels = CHOICE_LABELS.get(self.key, {})
        return {c: str(_(labels.get(c, c))) for c in self.choices}

    def choice_code(self, text: str) -> str | None:
        """Return the code a cell means: the code itself (any case) or its Chinese label."""
        text = text.strip()
        if self.key == "credit_grade" and text.endswith("级"):  # "B级", as people write it
            text = text[:-1].strip().upper()
        if text in self.choices:
            return text
        alias = CHOICE_ALIASES.get(self.key, {}).get(text)
        if alias in self.choices:
            return alias
        for code, label in self.choice_labels().items():
            if text.lower() == code.lower() or text == label:
                return code
        labels = CHOICE_LABELS.get(self.key, {})
        for code in self.choices:  # the Chinese label whatever the reader's language
            if text == labels.get(code):
                return code
        return None

    def display(self, raw: object) -> str:
        """Return a stored value as a reader sees it: choices by label, booleans as 是/否."""
        if raw is None or raw == "":
            return ""
        if self.kind == BOOL:
            yes = raw is True or str(raw).lower() in {"true", "1", "是", "yes", "y", "t"}
            return str(_("是") if yes else _("否"))
        if self.kind == CHOICE:
            return self.choice_labels().get(str(raw), str(raw))
        return str(raw)


@dataclass(frozen=True)
class CategorySpec:
    """A kind of public credit information, e.g. tax or court judgements."""

    code: str
    name: str
    fields: tuple[FieldSpec, ...]
    # a row is negative information when this field is truthy (or > 0 for numbers)
    negative_when: tuple[str, ...] = ()
    # ...or when a choice field has one of these values
    negative_values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    always_negative: bool = False
    description: str = ""
    # the identity columns when the category has its own (the registry: code and name required)
    identity: tuple[FieldSpec, ...] = ()
    by_key: dict[str, FieldSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_key", {f.key: f for f in self.all_fields})
        for f in self.fields:
            labels = CHOICE_LABELS.get(f.key, {})
            missing = [c for c in f.choices if c not in labels]
            if missing:  # every choice has its Chinese label (a page never shows a code)
                raise ValueError(f"{self.code}.{f.key}: no label for {missing}")

    @property
    def all_fields(self) -> tuple[FieldSpec, ...]:
        """Return the identity columns followed by the category's own fields."""
        return (self.identity or IDENTITY_FIELDS) + self.fields


IDENTITY_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "uscc",
        N_("统一社会信用代码"),
        note=N_("18位；没有时须填写主体名称"),
        example="91630100MA752L1X3M",
        max_length=24,
    ),
    FieldSpec(
        "name",
        N_("主体名称"),
        note=N_("与登记名称一致；用于无代码时的名称匹配"),
        example="青海示例商贸有限公司",
    ),
    FieldSpec(
        "region",
        N_("行政区划代码"),
        note=N_("可选，6位区县代码，帮助名称匹配"),
        example="630102",
        max_length=12,
    ),
)

# The note of a field departments often lack: an empty cell is stored as unknown (NULL), never
# as 0, and scoring treats it as missing (docs/credit-scoring.md, "Missing values in the data").
UNKNOWN_NOTE = N_("可不填；不填表示未知，不按0计算")

_GRADES = ("A", "B", "M", "C", "D")
_SEVERITY = ("minor", "general", "serious")

# The Chinese label of every choice code a category field may hold (gettext_noop'd): what a page
# shows instead of the code, and what a delivery or a form may write instead of it. Tax credit
# grades are letters in Chinese usage too.
CHOICE_LABELS: dict[str, dict[str, str]] = {
    "credit_grade": {g: g for g in _GRADES},
    "utility": {"water": N_("水"), "electricity": N_("电"), "gas": N_("气")},
    "role": {
        "plaintiff": N_("原告"),
        "defendant": N_("被告"),
        "third_party": N_("第三人"),
        "executed": N_("被执行人"),
    },
    "case_status": {"pending": N_("审理中"), "closed": N_("已结案"), "enforcing": N_("执行中")},
    "severity": {"minor": N_("轻微"), "general": N_("一般"), "serious": N_("严重")},
    "kind": {  # of real estate, and of intellectual property
        "ownership": N_("所有权"),
        "mortgage": N_("抵押"),
        "invention": N_("发明专利"),
        "utility_model": N_("实用新型"),
        "design": N_("外观设计"),
        "trademark": N_("商标"),
    },
    "event": {
        "disbursed": N_("放款"),
        "repaid": N_("正常还款"),
        "overdue": N_("逾期"),
        "defaulted": N_("违约"),
        "settled": N_("结清"),
        # events of the legal-entity registry (category "registry")
        "registered": N_("设立登记"),
        "changed": N_("变更登记"),
        "cancelled": N_("注销"),
        "revoked": N_("吊销"),
    },
    # enterprises.choices.RegistrationStatus, as market regulation publishes it
    "status": {
        "active": N_("存续（在营、开业、在册）"),
        "revoked": N_("吊销"),
        "cancelled": N_("注销"),
        "moved_out": N_("迁出"),
        "suspended": N_("停业"),
    },
}
# Other words a delivery may write for a choice (the short forms of the registry's statuses).
CHOICE_ALIASES: dict[str, dict[str, str]] = {
    "status": {
        "存续": "active",
        "在营": "active",
        "开业": "active",
        "在册": "active",
        "吊销，未注销": "revoked",
        "已注销": "cancelled",
        "已吊销": "revoked",
    },
}
# Events of a platform loan (category "loan"); overdue and defaulted are negative information.
LOAN_EVENTS = ("disbursed", "repaid", "overdue", "defaulted", "settled")
LOAN_NEGATIVE_EVENTS = ("overdue", "defaulted")

# The province's base database of legal entities (法人单位基础数据库), delivered by market
# regulation: its rows create and update market entities (``datahub.services.registry``) instead
# of only adding facts; each applied row is also kept as a fact of the batch (its provenance).
REGISTRY_CATEGORY = "registry"
REGISTRY_EVENTS = ("registered", "changed", "cancelled", "revoked")
REGISTRY_STATUSES = ("active", "revoked", "cancelled", "moved_out", "suspended")

REGISTRY_SPEC = CategorySpec(
    REGISTRY_CATEGORY,
    N_("法人单位基础信息"),
    (
        FieldSpec(
            "industry_code",
            N_("行业代码"),
            note=N_("《国民经济行业分类》(GB/T 4754-2017) 代码，如 5212；设立登记时必填"),
            example="5212",
            max_length=8,
        ),
        FieldSpec(
            "established_on",
            N_("成立日期"),
            DATE,
            example="2019-05-20",
            past_only=True,
        ),
        FieldSpec(
            "registered_capital",
            N_("注册资本（元）"),
            DECIMAL,
            column="amount",
            example="1000000",
        ),
        FieldSpec("employees", N_("从业人数"), INT, column="quantity", example="12"),
        FieldSpec("legal_rep_name", N_("法定代表人/经营者"), example="韩某某", max_length=64),
        FieldSpec(
            "legal_rep_id_number",
            N_("法定代表人身份证号码"),
            note=N_("18位居民身份证号码；加密保存，页面与错误文件中只显示脱敏号码"),
            example="",
            max_length=24,
            sensitive=True,
        ),
        FieldSpec(
            "status",
            N_("登记状态"),
            CHOICE,
            choices=REGISTRY_STATUSES,
            note=N_("存续/吊销/注销/迁出/停业；不填时设立为存续、注销为注销、吊销为吊销"),
            example="存续",
        ),
        FieldSpec(
            "event",
            N_("登记事项"),
            CHOICE,
            choices=REGISTRY_EVENTS,
            column="status",
            note=N_("设立登记/变更登记/注销/吊销；不填时新代码为设立登记，已登记代码为变更登记"),
            example="设立登记",
        ),
        FieldSpec(
            "event_on",
            N_("事项日期"),
            DATE,
            column="occurred_on",
            note=N_("设立、变更、注销或吊销的日期，不能晚于今天"),
            example="2019-05-20",
            past_only=True,
        ),
        FieldSpec("address", N_("住所"), example="西宁市城东区八一路1号", max_length=255),
        FieldSpec("annual_revenue", N_("营业收入（万元）"), DECIMAL, example="860.00"),
        FieldSpec("total_assets", N_("资产总额（万元）"), DECIMAL, example="1200.00"),
    ),
    description=N_(
        "市场监管部门报送的法人单位基础数据库：设立、变更、注销与吊销登记；"
        "据此新建和更新市场主体，空白单元格表示该项不变"
    ),
    identity=(
        FieldSpec(
            "uscc",
            N_("统一社会信用代码"),
            required=True,
            note=N_("18位，必填"),
            example="91630100MA752L1X3M",
            max_length=24,
        ),
        FieldSpec(
            "name",
            N_("主体名称"),
            required=True,
            note=N_("登记名称，必填"),
            example="青海示例商贸有限公司",
        ),
        FieldSpec(
            "region",
            N_("行政区划代码"),
            note=N_("6位区县代码，如 630102；设立登记时必填"),
            example="630102",
            max_length=12,
        ),
    ),
)

CATEGORIES: dict[str, CategorySpec] = {
    spec.code: spec
    for spec in (
        REGISTRY_SPEC,
        CategorySpec(
            "registration_change",
            N_("登记变更"),
            (
                FieldSpec(
                    "item",
                    N_("变更事项"),
                    required=True,
                    column="status",
                    example="法定代表人",
                    max_length=32,
                ),
                FieldSpec("before", N_("变更前"), example="马某"),
                FieldSpec("after", N_("变更后"), example="韩某"),
                FieldSpec(
                    "changed_on",
                    N_("变更日期"),
                    DATE,
                    required=True,
                    column="occurred_on",
                    example="2024-03-15",
                ),
                FieldSpec("legal_rep_name", N_("法定代表人"), example="韩某"),
                FieldSpec("address", N_("住所"), example="西宁市城东区八一路1号"),
            ),
        ),
        CategorySpec(
            "tax",
            N_("纳税"),
            (
                FieldSpec(
                    "period",
                    N_("所属期"),
                    PERIOD,
                    required=True,
                    column="period",
                    note=N_("年份（如 2024）或年月（如 2024-06）"),
                    example="2024-06",
                ),
                FieldSpec(
                    "tax_paid",
                    N_("实缴税额（元）"),
                    DECIMAL,
                    required=True,
                    column="amount",
                    example="12800.50",
                ),
                FieldSpec(
                    "credit_grade",
                    N_("纳税信用等级"),
                    CHOICE,
                    choices=_GRADES,
                    column="grade",
                    note=N_("A/B/M/C/D"),
                    example="B",
                ),
                FieldSpec(
                    "arrears",
                    N_("欠税金额（元）"),
                    DECIMAL,
                    column="arrears",
                    note=UNKNOWN_NOTE,
                    example="0",
                ),
                FieldSpec("legal_rep_name", N_("法定代表人"), example="马某"),
                FieldSpec("address", N_("生产经营地址"), example="西宁市城东区八一路1号"),
                FieldSpec("employees", N_("从业人数"), INT, column="quantity", example="12"),
            ),
            negative_when=("arrears",),
        ),
        CategorySpec(
            "social_security",
            N_("社会保险"),
            (
                FieldSpec(
                    "period",
                    N_("所属期"),
                    PERIOD,
                    required=True,
                    column="period",
                    example="2024-06",
                ),
                FieldSpec(
                    "insured", N_("参保人数"), INT, required=True, column="quantity", example="11"
                ),
                FieldSpec(
                    "paid", N_("缴费金额（元）"), DECIMAL, column="amount", example="23000.00"
                ),
                FieldSpec(
                    "arrears",
                    N_("欠费金额（元）"),
                    DECIMAL,
                    column="arrears",
                    note=UNKNOWN_NOTE,
                    example="0",
                ),
            ),
            negative_when=("arrears",),
        ),
        CategorySpec(
            "housing_fund",
            N_("住房公积金"),
            (
                FieldSpec(
                    "period",
                    N_("所属期"),
                    PERIOD,
                    required=True,
                    column="period",
                    example="2024-06",
                ),
                FieldSpec(
                    "depositors",
                    N_("缴存人数"),
                    INT,
                    required=True,
                    column="quantity",
                    example="10",
                ),
                FieldSpec(
                    "paid", N_("缴存金额（元）"), DECIMAL, column="amount", example="8000.00"
                ),
                FieldSpec(
                    "arrears",
                    N_("欠缴金额（元）"),
                    DECIMAL,
                    column="arrears",
                    note=UNKNOWN_NOTE,
                    example="0",
                ),
            ),
            negative_when=("arrears",),
        ),
        CategorySpec(
            "utility",
            N_("水电气"),
            (
                FieldSpec(
                    "utility",
                    N_("类别"),
                    CHOICE,
                    required=True,
                    choices=("water", "electricity", "gas"),
                    column="status",
                    note=N_("water 水 / electricity 电 / gas 气"),
                    example="electricity",
                ),
                FieldSpec(
                    "period",
                    N_("所属期"),
                    PERIOD,
                    required=True,
                    column="period",
                    example="2024-06",
                ),
                FieldSpec(
                    "consumption",
                    N_("用量"),
                    DECIMAL,
                    column="quantity",
                    note=N_("吨/千瓦时/立方米"),
                    example="5230",
                ),
                FieldSpec(
                    "billed",
                    N_("应缴金额（元）"),
                    DECIMAL,
                    column="amount",
                    note=UNKNOWN_NOTE,
                    example="3660.10",
                ),
                FieldSpec(
                    "months_in_arrears",
                    N_("欠费月数"),
                    INT,
                    column="arrears",
                    note=UNKNOWN_NOTE,
                    example="0",
                ),
            ),
            negative_when=("months_in_arrears",),
        ),
        CategorySpec(
            "judicial",
            N_("司法诉讼"),
            (
                FieldSpec(
                    "case_no",
                    N_("案号"),
                    required=True,
                    column="reference_no",
                    example="(2024)青0102民初1234号",
                    max_length=64,
                ),
                FieldSpec(
                    "role",
                    N_("诉讼地位"),
                    CHOICE,
                    required=True,
                    choices=("plaintiff", "defendant", "third_party", "executed"),
                    column="status",
                    note=N_(
                        "plaintiff 原告 / defendant 被告 / third_party 第三人 / executed 被执行人"
                    ),
                    example="defendant",
                ),
                FieldSpec("cause", N_("案由"), example="买卖合同纠纷"),
                FieldSpec(
                    "amount", N_("标的金额（元）"), DECIMAL, column="amount", example="150000"
                ),
                FieldSpec(
                    "filed_on",
                    N_("立案日期"),
                    DATE,
                    required=True,
                    column="occurred_on",
                    example="2024-02-01",
                ),
                FieldSpec(
                    "case_status",
                    N_("案件状态"),
                    CHOICE,
                    choices=("pending", "closed", "enforcing"),
                    note=N_("pending 审理中 / closed 已结案 / enforcing 执行中"),
                    example="closed",
                    column="grade",
                ),
                FieldSpec(
                    "closed_on", N_("结案日期"), DATE, column="behaviour_end", example="2024-08-20"
                ),
                FieldSpec(
                    "dishonest",
                    N_("失信被执行人"),
                    BOOL,
                    column="flag",
                    note=N_("是/否"),
                    example="否",
                ),
            ),
            negative_when=("dishonest",),
            negative_values={"role": ("executed",)},
        ),
        CategorySpec(
            "penalty",
            N_("行政处罚"),
            (
                FieldSpec(
                    "decision_no",
                    N_("决定书文号"),
                    required=True,
                    column="reference_no",
                    example="西市监罚〔2024〕12号",
                    max_length=64,
                ),
                FieldSpec(
                    "severity",
                    N_("严重程度"),
                    CHOICE,
                    required=True,
                    choices=_SEVERITY,
                    column="grade",
                    note=N_("minor 轻微 / general 一般 / serious 严重"),
                    example="general",
                ),
                FieldSpec(
                    "decided_on",
                    N_("处罚日期"),
                    DATE,
                    required=True,
                    column="occurred_on",
                    example="2024-04-10",
                    past_only=True,
                ),
                FieldSpec("fine", N_("罚没金额（元）"), DECIMAL, column="amount", example="5000"),
                FieldSpec(
                    "publication_end",
                    N_("公示截止日期"),
                    DATE,
                    column="behaviour_end",
                    example="2025-04-10",
                ),
                FieldSpec("authority", N_("处罚机关"), example="西宁市市场监督管理局"),
            ),
            always_negative=True,
        ),
        CategorySpec(
            "abnormal_operation",
            N_("经营异常名录"),
            (
                FieldSpec(
                    "listed_on",
                    N_("列入日期"),
                    DATE,
                    required=True,
                    column="occurred_on",
                    example="2023-07-01",
                ),
                FieldSpec(
                    "reason",
                    N_("列入原因"),
                    required=True,
                    column="status",
                    example="未按规定报送年度报告",
                    max_length=64,
                ),
                FieldSpec("removed_on", N_("移出日期"), DATE, column="behaviour_end", example=""),
            ),
            always_negative=True,
        ),
        CategorySpec(
            "real_estate",
            N_("不动产与抵押"),
            (
                FieldSpec(
                    "certificate_no",
                    N_("不动产权证号"),
                    required=True,
                    column="reference_no",
                    example="青(2022)西宁市不动产权第001234号",
                    max_length=64,
                ),
                FieldSpec(
                    "kind",
                    N_("类型"),
                    CHOICE,
                    required=True,
                    choices=("ownership", "mortgage"),
                    column="status",
                    note=N_("ownership 所有权 / mortgage 抵押"),
                    example="ownership",
                ),
                FieldSpec(
                    "area", N_("面积（平方米）"), DECIMAL, column="quantity", example="120.5"
                ),
                FieldSpec(
                    "value",
                    N_("评估价值/抵押金额（元）"),
                    DECIMAL,
                    column="amount",
                    example="800000",
                ),
                FieldSpec(
                    "registered_on",
                    N_("登记日期"),
                    DATE,
                    required=True,
                    column="occurred_on",
                    example="2022-05-20",
                ),
            ),
        ),
        CategorySpec(
            "intellectual_property",
            N_("专利与商标"),
            (
                FieldSpec(
                    "ip_no",
                    N_("专利号/注册号"),
                    required=True,
                    column="reference_no",
                    example="ZL202310001234.5",
                    max_length=64,
                ),
                FieldSpec(
                    "kind",
                    N_("类型"),
                    CHOICE,
                    required=True,
                    choices=("invention", "utility_model", "design", "trademark"),
                    column="status",
                    example="utility_model",
                ),
                FieldSpec("title", N_("名称"), example="一种牦牛奶保鲜装置"),
                FieldSpec(
                    "granted_on",
                    N_("授权日期"),
                    DATE,
                    required=True,
                    column="occurred_on",
                    example="2023-11-02",
                ),
            ),
        ),
        CategorySpec(
            "procurement",
            N_("政府采购"),
            (
                FieldSpec(
                    "contract_no",
                    N_("合同编号"),
                    required=True,
                    column="reference_no",
                    example="QHCG-2024-0567",
                    max_length=64,
                ),
                FieldSpec("buyer", N_("采购人"), example="西宁市教育局"),
                FieldSpec(
                    "amount",
                    N_("合同金额（元）"),
                    DECIMAL,
                    column="amount",
                    note=UNKNOWN_NOTE,
                    example="360000",
                ),
                FieldSpec(
                    "signed_on",
                    N_("签订日期"),
                    DATE,
                    required=True,
                    column="occurred_on",
                    example="2024-03-01",
                ),
            ),
        ),
        CategorySpec(
            "honour",
            N_("荣誉与资质"),
            (
                FieldSpec(
                    "title",
                    N_("荣誉/资质名称"),
                    required=True,
                    column="status",
                    example="专精特新中小企业",
                    max_length=64,
                ),
                FieldSpec("awarded_by", N_("认定机关"), example="青海省工业和信息化厅"),
                FieldSpec(
                    "awarded_on",
                    N_("认定日期"),
                    DATE,
                    required=True,
                    column="occurred_on",
                    example="2023-09-01",
                ),
                FieldSpec(
                    "valid_until",
                    N_("有效期至"),
                    DATE,
                    column="behaviour_end",
                    example="2026-08-31",
                ),
            ),
        ),
        CategorySpec(
            "loan",
            N_("平台贷款记录"),
            (
                FieldSpec(
                    "loan_no",
                    N_("贷款编号"),
                    required=True,
                    column="reference_no",
                    example="XR-2025-000123",
                    max_length=64,
                ),
                FieldSpec(
                    "institution",
                    N_("放款机构"),
                    required=True,
                    example="青海银行西宁城东支行",
                ),
                FieldSpec(
                    "event",
                    N_("事件"),
                    CHOICE,
                    required=True,
                    choices=LOAN_EVENTS,
                    column="status",
                    note=N_(
                        "disbursed 放款 / repaid 正常还款 / overdue 逾期 / defaulted 违约 / "
                        "settled 结清"
                    ),
                    example="disbursed",
                ),
                FieldSpec(
                    "amount",
                    N_("金额（元）"),
                    DECIMAL,
                    column="amount",
                    note=N_("放款金额或还款金额"),
                    example="500000",
                ),
                FieldSpec(
                    "outstanding",
                    N_("贷款余额（元）"),
                    DECIMAL,
                    column="arrears",
                    example="500000",
                ),
                FieldSpec("overdue_days", N_("逾期天数"), INT, column="quantity", example="0"),
                FieldSpec(
                    "occurred_on",
                    N_("发生日期"),
                    DATE,
                    required=True,
                    column="occurred_on",
                    example="2025-03-15",
                ),
                FieldSpec("maturity_on", N_("到期日"), DATE, example="2026-03-14"),
                FieldSpec(
                    "first_loan", N_("首贷"), BOOL, column="flag", note=N_("是/否"), example="是"
                ),
                FieldSpec("renewal", N_("续贷"), BOOL, note=N_("是/否"), example="否"),
            ),
            negative_values={"event": LOAN_NEGATIVE_EVENTS},
            description=N_("平台撮合贷款的放款、还款、逾期、违约与结清事件，由平台业务系统报送"),
        ),
    )
}


def display_values(category: str, values: dict[str, str]) -> dict[str, str]:
    """Return a fact's delivered values as a reader sees them (labels for choices, 是/否)."""
    spec = CATEGORIES.get(category)
    if spec is None:
        return dict(values)
    out = dict(values)
    for f in spec.fields:
        if f.key in values:
            out[f.key] = f.display(values[f.key])
    return out


CATEGORY_CHOICES = [(c.code, _(c.name)) for c in CATEGORIES.values()]
