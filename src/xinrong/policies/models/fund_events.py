"""Timelines of special-fund applications and 免申即享 lists (written only by the kernel)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from xinrong.policies.choices import AutoListStatus, FundApplicationStatus
from xinrong.workflows.timeline import TimelineEvent


class FundEventKind(models.TextChoices):
    """What happened to a special-fund application."""

    FILED = "filed", _("提交申请")
    REVIEWED = "reviewed", _("审核同意，转下一环节")
    APPROVED = "approved", _("审批通过")
    REJECTED = "rejected", _("审批未通过")
    DISBURSED = "disbursed", _("资金已拨付")
    WITHDRAWN = "withdrawn", _("企业撤回申请")


class AutoListEventKind(models.TextChoices):
    """What happened to a 免申即享 list."""

    DRAWN = "drawn", _("生成名单")
    EXCLUDED = "excluded", _("排除企业")
    INCLUDED = "included", _("恢复企业")
    CONFIRMED = "confirmed", _("确认名单并兑现")
    DISCARDED = "discarded", _("作废名单")


class FundEvent(TimelineEvent):
    """One step of a special-fund application (the enterprise follows every one)."""

    application = models.ForeignKey(
        "policies.FundApplication",
        verbose_name=_("专项资金申请"),
        on_delete=models.CASCADE,
        related_name="events",
    )
    kind = models.CharField(_("事项"), max_length=32, choices=FundEventKind.choices)
    from_status = models.CharField(
        _("原状态"),
        max_length=32,
        choices=FundApplicationStatus.choices,
        blank=True,
        default="",
    )
    to_status = models.CharField(
        _("新状态"),
        max_length=32,
        choices=FundApplicationStatus.choices,
        blank=True,
        default="",
    )

    class Meta:
        verbose_name = _("专项资金办理记录")
        verbose_name_plural = _("专项资金办理记录")
        ordering = ["application_id", "id"]

    def __str__(self) -> str:
        return f"#{self.application_id} {self.get_kind_display()}"


class AutoListEvent(TimelineEvent):
    """One step of a 免申即享 list."""

    auto_list = models.ForeignKey(
        "policies.AutoGrantList",
        verbose_name=_("免申即享名单"),
        on_delete=models.CASCADE,
        related_name="events",
    )
    kind = models.CharField(_("事项"), max_length=32, choices=AutoListEventKind.choices)
    from_status = models.CharField(
        _("原状态"), max_length=32, choices=AutoListStatus.choices, blank=True, default=""
    )
    to_status = models.CharField(
        _("新状态"), max_length=32, choices=AutoListStatus.choices, blank=True, default=""
    )

    class Meta:
        verbose_name = _("免申即享名单记录")
        verbose_name_plural = _("免申即享名单记录")
        ordering = ["auto_list_id", "id"]

    def __str__(self) -> str:
        return f"#{self.auto_list_id} {self.get_kind_display()}"
