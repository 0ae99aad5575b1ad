"""Choices of the data hub."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class BatchStatus(models.TextChoices):
    """Where an ingestion batch stands; only completed batches' facts are visible."""

    PENDING = "pending", _("排队中")
    PROCESSING = "processing", _("处理中")
    COMPLETED = "completed", _("已完成")
    FAILED = "failed", _("失败")


class BatchChannel(models.TextChoices):
    """Which door the data came through."""

    UPLOAD = "upload", _("网页上传")
    API = "api", _("接口")
    CLI = "cli", _("命令行")
    SEED = "seed", _("演示数据")
    PLATFORM = "platform", _("平台业务")


class ResolutionStatus(models.TextChoices):
    """State of a row that carried no USCC and matched no registered name."""

    OPEN = "open", _("待处理")
    RESOLVED = "resolved", _("已关联")
    DISCARDED = "discarded", _("已舍弃")


class Cadence(models.TextChoices):
    """How often a source is expected to deliver."""

    DAILY = "daily", _("每日")
    MONTHLY = "monthly", _("每月")
    QUARTERLY = "quarterly", _("每季度")
    YEARLY = "yearly", _("每年")
    ON_EVENT = "on_event", _("按事件")


CADENCE_DAYS = {"daily": 1, "monthly": 31, "quarterly": 92, "yearly": 366, "on_event": 0}


class ConflictStatus(models.TextChoices):
    """Where a cross-validation conflict stands; every status but open closes it."""

    OPEN = "open", _("待处理")
    CONFIRMED_ERROR = "confirmed_error", _("确认数据有误")
    EXPLAINED = "explained", _("已说明（均属实）")
    DISMISSED = "dismissed", _("误报（规则不适用）")


CONFLICT_OUTCOMES = (
    ConflictStatus.CONFIRMED_ERROR,
    ConflictStatus.EXPLAINED,
    ConflictStatus.DISMISSED,
)


class ConflictEventKind(models.TextChoices):
    """A step of a conflict's timeline."""

    RESOLVED = "resolved", _("处理")
    REOPENED = "reopened", _("重新打开")


class UnresolvedRowEventKind(models.TextChoices):
    """A step of an unresolved row's timeline."""

    RESOLVED = "resolved", _("关联到市场主体")
    DISCARDED = "discarded", _("舍弃")
