"""Statuses of process versions and process instances."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class VersionStatus(models.TextChoices):
    """Where a process version stands: edited, in use, or replaced."""

    DRAFT = "draft", _("草稿")
    ACTIVE = "active", _("启用中")
    RETIRED = "retired", _("已停用")


class InstanceStatus(models.TextChoices):
    """Whether a case is still moving through its process."""

    RUNNING = "running", _("进行中")
    COMPLETED = "completed", _("已结束")


VERSION_BADGES = {
    VersionStatus.DRAFT: "secondary",
    VersionStatus.ACTIVE: "success",
    VersionStatus.RETIRED: "light",
}
