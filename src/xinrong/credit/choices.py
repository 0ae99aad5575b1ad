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


# ---------------------------------------------------------------- credit reports


class ReportAudience(models.TextChoices):
    """Who a credit report was generated for."""

    OWN = "own", _("企业自查版")
    INSTITUTION = "institution", _("机构查询版")


# Query-log entries that are not fact categories.
QUERY_LOG_ITEMS = {"portrait": _("信用画像"), "report": _("信用报告")}
