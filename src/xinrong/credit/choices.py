"""Choices of credit information access."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    """How much of its archive an enterprise lets an institution see."""

    PUBLIC = "public", _("公开信息")
    FULL = "full", _("全部信息")
    CHOSEN = "chosen", _("指定类别")


class Purpose(models.TextChoices):
    """Why an institution reads (征信业管理条例 第十八条: a stated purpose)."""

    LOAN_APPLICATION = "loan_application", _("贷款审批")
    POST_LOAN = "post_loan", _("贷后管理")
    GUARANTEE = "guarantee", _("担保审查")
    INSURANCE = "insurance", _("保险审核")
    OTHER = "other", _("其他")


class Channel(models.TextChoices):
    """Where a read happened."""

    PAGE = "page", _("网页")
    API = "api", _("接口")
    EXPORT = "export", _("导出")


# Categories published by law (企业信用信息公示): readable without authorisation.
PUBLIC_CATEGORIES = frozenset({"registration_change", "penalty", "abnormal_operation", "honour"})
MAX_AUTHORISATION_DAYS = 366


class ModelStatus(models.TextChoices):
    """Life of a scoring-model version: one is active at a time."""

    DRAFT = "draft", _("待启用")
    ACTIVE = "active", _("启用中")
    RETIRED = "retired", _("已停用")


class TrainingData(models.TextChoices):
    """Where a model's outcomes came from."""

    SYNTHETIC = "synthetic", _("合成数据（潜在风险→违约）")
    PLATFORM = "platform", _("平台贷款结果")
    EXTERNAL = "external", _("外部数据集")


class AlertStatus(models.TextChoices):
    """An early-warning alert's life in an institution's inbox."""

    OPEN = "open", _("待处理")
    ACKNOWLEDGED = "acknowledged", _("已确认")
    CLOSED = "closed", _("已关闭")


class CultivationStatus(models.TextChoices):
    """An enterprise's path through credit cultivation (信用培植)."""

    ACTIVE = "active", _("培植中")
    GRADUATED = "graduated", _("已达标")
    DROPPED = "dropped", _("已终止")


class CultivationEventKind(models.TextChoices):
    """What happened to a cultivation case (one row per step: the timeline)."""

    STARTED = "started", _("纳入培植")
    NOTE = "note", _("跟进记录")
    DROPPED = "dropped", _("终止培植")
    GRADUATED = "graduated", _("达标结业")


class ModelEventKind(models.TextChoices):
    """What happened to a scoring model version."""

    TRAINED = "trained", _("训练")
    ACTIVATED = "activated", _("启用")
    RETIRED = "retired", _("停用")


class EdgeKind(models.TextChoices):
    """How two nodes of the relationship graph (图谱) are linked."""

    LEGAL_REPRESENTATIVE = "legal_representative", _("法定代表人")
    SHAREHOLDER = "shareholder", _("持股")
    EXECUTIVE = "executive", _("任职")
    ACTUAL_CONTROLLER = "actual_controller", _("实际控制")
    GUARANTEE = "guarantee", _("担保")
    SHARED_ADDRESS = "shared_address", _("同一住所")
    SHARED_PHONE = "shared_phone", _("同一联系电话")


class NodeKind(models.TextChoices):
    """What a node of the relationship graph stands for."""

    ENTERPRISE = "enterprise", _("企业")
    INDIVIDUAL_BUSINESS = "individual_business", _("个体工商户")
    PERSON = "person", _("自然人")


class RiskFlag(models.TextChoices):
    """A related-party risk shown on a node of the relationship graph."""

    DISHONEST = "dishonest", _("失信被执行人")
    NEGATIVE_INFO = "negative_info", _("负面信息")
    REVOKED = "revoked", _("已吊销")
    CANCELLED = "cancelled", _("已注销")
    GUARANTEE_CIRCLE = "guarantee_circle", _("处于担保圈")


# Query-log content code of a graph read that showed guarantees and shared phones (besides the
# fact categories behind its risk flags).
GRAPH_CONTENT = "relationship_graph"
GRAPH_CONTENT_LABEL = _("关系图谱（担保关系、关联联系电话）")
GRAPH_HOPS = (1, 2, 3)


# ---------------------------------------------------------------- credit reports


class ReportAudience(models.TextChoices):
    """Who a credit report was generated for."""

    OWN = "own", _("企业自查版")
    INSTITUTION = "institution", _("机构查询版")


# Query-log entries that are not fact categories.
QUERY_LOG_ITEMS = {"portrait": _("信用画像"), "report": _("信用报告")}


# ---------------------------------------------------------------- disputes and credit repair

# 征信业管理条例 第二十五条: the information provider or credit agency answers an objection
# within 20 days of receiving it. Counted in calendar days from the day the dispute is filed.
DISPUTE_ANSWER_DAYS = 20


class DisputeKind(models.TextChoices):
    """What the enterprise asks for about one fact."""

    OBJECTION = "objection", _("异议")
    CORRECTION = "correction", _("更正")
    ADDITION = "addition", _("补充")


class DisputeStatus(models.TextChoices):
    """Where a dispute stands; the first two are open."""

    SUBMITTED = "submitted", _("已提交")
    IN_REVIEW = "in_review", _("核查中")
    CORRECTED = "corrected", _("已更正")
    UPHELD = "upheld", _("维持原记录")
    WITHDRAWN = "withdrawn", _("已撤回")


OPEN_DISPUTE_STATUSES = (DisputeStatus.SUBMITTED, DisputeStatus.IN_REVIEW)
# The moves are declared in credit.workflows.DISPUTE (the workflow kernel).


class DisputeEventKind(models.TextChoices):
    """What happened to a dispute (one row per step: the timeline)."""

    FILED = "filed", _("提交异议")
    EVIDENCE_ADDED = "evidence_added", _("补充证据")
    REVIEW_STARTED = "review_started", _("开始核查")
    CORRECTED = "corrected", _("更正信息")
    UPHELD = "upheld", _("维持原记录")
    WITHDRAWN = "withdrawn", _("撤回异议")
    ESCALATED = "escalated", _("逾期提请运营方督办")
    ANSWER_DUE = "remind.answer", _("答复期限提醒")


class RepairStatus(models.TextChoices):
    """Where a credit-repair application stands."""

    SUBMITTED = "submitted", _("待审核")
    APPROVED = "approved", _("准予修复")
    REJECTED = "rejected", _("不予修复")


class RepairEventKind(models.TextChoices):
    """What happened to a repair application."""

    FILED = "filed", _("提交申请")
    REVIEWED = "reviewed", _("审核同意，转下一环节")
    APPROVED = "approved", _("准予修复")
    REJECTED = "rejected", _("不予修复")
