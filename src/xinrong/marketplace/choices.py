"""Choices of the financial product supermarket."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from xinrong.common.choices import register_colours


class ProductStatus(models.TextChoices):
    """Where a product is in its publication workflow."""

    DRAFT = "draft", _("草稿")
    IN_REVIEW = "in_review", _("待审核")
    PUBLISHED = "published", _("已上架")
    WITHDRAWN = "withdrawn", _("已下架")


register_colours(ProductStatus, {}, default="primary")


class ProductType(models.TextChoices):
    """The kind of financing a product offers."""

    CREDIT = "credit", _("信用贷款")
    MORTGAGE = "mortgage", _("抵押贷款")
    PLEDGE = "pledge", _("质押贷款")
    GUARANTEE = "guarantee", _("担保/保证")
    SUPPLY_CHAIN = "supply_chain", _("供应链金融")
    POLICY_SPECIAL = "policy_special", _("政策性专项")


class VersionStatus(models.TextChoices):
    """Where one version of a product's terms is: edited, reviewed, live or replaced."""

    DRAFT = "draft", _("草稿")
    IN_REVIEW = "in_review", _("待审核")
    PUBLISHED = "published", _("生效")
    SUPERSEDED = "superseded", _("已被替代")
    RETURNED = "returned", _("已退回")


class RepaymentMethod(models.TextChoices):
    """How a loan is repaid."""

    EQUAL_INSTALMENT = "equal_instalment", _("等额本息")
    EQUAL_PRINCIPAL = "equal_principal", _("等额本金")
    INTEREST_FIRST = "interest_first", _("先息后本")
    BULLET = "bullet", _("到期一次还本付息")
    FLEXIBLE = "flexible", _("随借随还")


class CollateralMode(models.TextChoices):
    """What secures a product."""

    NONE = "none", _("纯信用")
    MORTGAGE = "mortgage", _("抵押")
    PLEDGE = "pledge", _("质押")
    GUARANTOR = "guarantor", _("保证人")
    GUARANTEE_COMPANY = "guarantee_company", _("担保公司担保")
    INSURANCE = "insurance", _("保证保险")


class EventKind(models.TextChoices):
    """What happened to a product (the timeline)."""

    CREATED = "created", _("创建")
    EDITED = "edited", _("修改条款")
    SUBMITTED = "submitted", _("提交审核")
    APPROVED = "approved", _("审核通过并上架")
    RETURNED = "returned", _("退回修改")
    WITHDRAWN = "withdrawn", _("下架")


TAX_GRADES = ("A", "B", "M", "C", "D")
PRODUCT_TAGS = (
    "首贷",
    "续贷",
    "拉面贷",
    "虫草贷",
    "枸杞贷",
    "银税贷",
    "知识产权贷",
    "创业担保贷",
    "政采贷",
    "普惠",
    "无还本续贷",
    "科创贷",
    "乡村振兴",
    "绿色金融",
)
# Which organisation kinds may offer which product types: lenders lend; guarantors and insurers
# offer guarantee products only.
LENDER_KINDS = frozenset({"bank", "microloan"})
GUARANTEE_KINDS = frozenset({"guarantor", "insurer"})
PRODUCT_KINDS = LENDER_KINDS | GUARANTEE_KINDS


class DemandStatus(models.TextChoices):
    """Where a financing demand is: open to matching, closed or withdrawn by the enterprise."""

    OPEN = "open", _("征集中")
    CLOSED = "closed", _("已关闭")
    WITHDRAWN = "withdrawn", _("已撤回")


class DemandEventKind(models.TextChoices):
    """What happened to a financing demand (its timeline)."""

    PUBLISHED = "published", _("发布")
    TAKEN = "taken", _("机构承接（抢单）")
    INVITED = "invited", _("邀请企业申请")
    RELEASED = "released", _("机构放弃承接")
    EXPIRED = "expired", _("承接超时，退回需求池")
    ESCALATED = "escalated", _("长期无人承接，提请运营方跟进")
    WITHDRAWN = "withdrawn", _("企业撤回")
    CLOSED = "closed", pgettext_lazy("demand event", "关闭")


class DemandUrgency(models.TextChoices):
    """How soon the enterprise needs the money."""

    NORMAL = "normal", pgettext_lazy("urgency", "一般")
    URGENT = "urgent", _("紧急")
    VERY_URGENT = "very_urgent", _("非常紧急")


class DemandPurpose(models.TextChoices):
    """What the money is for."""

    WORKING_CAPITAL = "working_capital", _("流动资金")
    EQUIPMENT = "equipment", _("设备购置")
    EXPANSION = "expansion", _("扩大经营")
    TECHNOLOGY = "technology", _("技术研发")
    AGRICULTURE = "agriculture", _("农牧生产")
    REFINANCE = "refinance", _("续贷周转")
    OTHER = "other", _("其他")


class ApplicationStatus(models.TextChoices):
    """Where a loan application is, from submission to the loan's end (进度可视化)."""

    SUBMITTED = "submitted", _("已提交")
    ACCEPTED = "accepted", _("已受理")
    UNDER_REVIEW = "under_review", _("审批中")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("未获批准")
    CONTRACT_SIGNED = "contract_signed", _("已签约")
    DISBURSED = "disbursed", _("已放款")
    REPAYING = "repaying", _("还款中")
    SETTLED = "settled", _("已结清")
    OVERDUE = "overdue", _("逾期")
    DEFAULTED = "defaulted", _("违约")
    WITHDRAWN = "withdrawn", _("已撤回")


register_colours(
    ApplicationStatus,
    {
        ApplicationStatus.REJECTED: "danger",
        ApplicationStatus.DEFAULTED: "danger",
        ApplicationStatus.OVERDUE: "danger",
        ApplicationStatus.WITHDRAWN: "secondary",
    },
    default="primary",
)


# Statuses in which an application still waits for the institution, and those of a live loan.
PENDING_STATUSES = (
    ApplicationStatus.SUBMITTED,
    ApplicationStatus.ACCEPTED,
    ApplicationStatus.UNDER_REVIEW,
)
ACTIVE_STATUSES = (
    *PENDING_STATUSES,
    ApplicationStatus.APPROVED,
    ApplicationStatus.CONTRACT_SIGNED,
)
LOAN_STATUSES = (
    ApplicationStatus.DISBURSED,
    ApplicationStatus.REPAYING,
    ApplicationStatus.OVERDUE,
)
FINAL_STATUSES = (
    ApplicationStatus.REJECTED,
    ApplicationStatus.WITHDRAWN,
    ApplicationStatus.SETTLED,
    ApplicationStatus.DEFAULTED,
)


class RejectReason(models.TextChoices):
    """Why an institution declined an application (the code the enterprise and statistics see)."""

    CREDIT = "credit", _("信用状况不符合要求")
    CAPACITY = "capacity", _("经营或还款能力不足")
    COLLATERAL = "collateral", _("担保或抵质押不足")
    SCOPE = "scope", _("不在产品服务范围")
    DOCUMENTS = "documents", _("材料不全或不实")
    POLICY = "policy", _("机构授信政策限制")
    OTHER = "other", _("其他原因")


class ApplicationEventKind(models.TextChoices):
    """One step of an application's timeline."""

    SUBMITTED = "submitted", _("提交申请")
    IMPORTED = "imported", _("导入历史贷款")
    ACCEPTED = "accepted", _("受理")
    REVIEW_STARTED = "review_started", _("进入审批")
    APPROVED = "approved", _("批准")
    REJECTED = "rejected", _("拒绝")
    CONTRACT_SIGNED = "contract_signed", _("签订合同")
    DISBURSED = "disbursed", _("放款")
    REPAID = "repaid", _("还款")
    OVERDUE = "overdue", _("逾期")
    DEFAULTED = "defaulted", _("认定违约")
    SETTLED = "settled", _("结清")
    WITHDRAWN = "withdrawn", _("撤回申请")
    REFERRED = "referred", _("拒贷转介")
    SLA_BREACHED = "sla_breached", _("超出服务时限")
    SLA_REMINDED = "remind.sla", _("服务时限提醒")
    REPAYMENT_REMINDED = "remind.repayment", _("还款提醒")


class LoanStatus(models.TextChoices):
    """The state of a disbursed loan."""

    CURRENT = "current", _("正常")
    OVERDUE = "overdue", _("逾期")
    DEFAULTED = "defaulted", _("违约")
    SETTLED = "settled", _("已结清")


# ---------------------------------------------------------------- columns (首贷/续贷/特色/后备库)

# Tags of products made for one local trade (Qinghai's 拉面经济, 虫草, 枸杞, 牦牛, 青稞).
LOCAL_SPECIAL_TAGS = ("拉面贷", "虫草贷", "枸杞贷", "牦牛贷", "青稞贷")
FIRST_LOAN_TAG = "首贷"
RENEWAL_TAGS = ("续贷", "无还本续贷")
# How far ahead the renewal centre looks at maturities.
RENEWAL_HORIZON_DAYS = 90


class ReserveStatus(models.TextChoices):
    """Where an enterprise is in the capital-market reserve database (上市挂牌后备库)."""

    ACTIVE = "active", _("在库培育")
    LISTED = "listed", _("已上市挂牌")
    REMOVED = "removed", _("已移出")


class ReserveEventKind(models.TextChoices):
    """One step of a reserve entry's timeline."""

    ADDED = "added", _("入库")
    INTEREST = "interest", _("投资机构表达意向")
    ACCEPTED = "accepted", _("企业接受意向")
    DECLINED = "declined", _("企业婉拒意向")
    INTRO = "intro", _("企业更新展示信息")
    LISTED = "listed", _("上市挂牌")
    REMOVED = "removed", _("移出后备库")


class InterestStatus(models.TextChoices):
    """Where an investor's expression of interest is."""

    PENDING = "pending", _("待企业回复")
    ACCEPTED = "accepted", _("企业已接受")
    DECLINED = "declined", _("企业已婉拒")


class FinancingCaseType(models.TextChoices):
    """The kind of a direct-financing case."""

    EQUITY = "equity", _("股权融资")
    BOND = "bond", _("债券融资")
    LISTING = "listing", _("境内外上市")
    NEEQ = "neeq", _("新三板挂牌")
    REGIONAL_EQUITY = "regional_equity", _("区域性股权市场挂牌")


# ---------------------------------------------------------------- guarantee / insurance requests


class GuaranteeRequestStatus(models.TextChoices):
    """Where an enterprise's request for a guarantee or credit insurance on a loan is."""

    PENDING = "pending", _("待审核")
    APPROVED = "approved", _("已同意")
    DECLINED = "declined", _("已拒绝")
    WITHDRAWN = "withdrawn", _("已撤回")
    ISSUED = "issued", _("已出函")


register_colours(
    GuaranteeRequestStatus,
    {
        GuaranteeRequestStatus.PENDING: "warning",
        GuaranteeRequestStatus.APPROVED: "primary",
        GuaranteeRequestStatus.DECLINED: "danger",
        GuaranteeRequestStatus.WITHDRAWN: "secondary",
        GuaranteeRequestStatus.ISSUED: "success",
    },
    default="primary",
)

# A request still alive: the enterprise may not file a second one to the same provider.
GUARANTEE_OPEN_STATUSES = (
    GuaranteeRequestStatus.PENDING,
    GuaranteeRequestStatus.APPROVED,
    GuaranteeRequestStatus.ISSUED,
)
# The highest guarantee or insurance fee rate the platform accepts (% a year).
GUARANTEE_FEE_RATE_MAX = 10


class GuaranteeRequestEventKind(models.TextChoices):
    """One step of a guarantee request's timeline."""

    FILED = "filed", _("提交担保/保险申请")
    APPROVED = "approved", _("同意承保")
    DECLINED = "declined", _("拒绝承保")
    WITHDRAWN = "withdrawn", _("企业撤回")
    ISSUED = "issued", _("出具保函/保单")
