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
DISPUTE_TRANSITIONS: dict[str, frozenset[str]] = {
    DisputeStatus.SUBMITTED: frozenset(
        {
            DisputeStatus.IN_REVIEW,
            DisputeStatus.CORRECTED,
            DisputeStatus.UPHELD,
            DisputeStatus.WITHDRAWN,
        }
    ),
    DisputeStatus.IN_REVIEW: frozenset(
        {DisputeStatus.CORRECTED, DisputeStatus.UPHELD, DisputeStatus.WITHDRAWN}
    ),
}


class DisputeEventKind(models.TextChoices):
    """What happened to a dispute (one row per step: the timeline)."""

    FILED = "filed", _("提交异议")
    EVIDENCE_ADDED = "evidence_added", _("补充证据")
    REVIEW_STARTED = "review_started", _("开始核查")
    CORRECTED = "corrected", _("更正信息")
    UPHELD = "upheld", _("维持原记录")
    WITHDRAWN = "withdrawn", _("撤回异议")
    ESCALATED = "escalated", _("逾期提请运营方督办")


class RepairStatus(models.TextChoices):
    """Where a credit-repair application stands."""

    SUBMITTED = "submitted", _("待审核")
    APPROVED = "approved", _("准予修复")
    REJECTED = "rejected", _("不予修复")


class RepairEventKind(models.TextChoices):
    """What happened to a repair application."""

    FILED = "filed", _("提交申请")
    APPROVED = "approved", _("准予修复")
    REJECTED = "rejected", _("不予修复")
