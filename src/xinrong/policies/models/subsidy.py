"""The timeline of an interest-subsidy (贴息) batch: calculated, lines confirmed, granted."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from xinrong.workflows.timeline import TimelineEvent


class SubsidyBatchEvent(TimelineEvent):
    """One step of a 贴息 batch (written by the workflow kernel)."""

    batch = models.ForeignKey(
        "policies.SubsidyBatch",
        verbose_name=_("贴息批次"),
        on_delete=models.CASCADE,
        related_name="events",
    )

    class Meta(TimelineEvent.Meta):
        verbose_name = _("贴息批次事件")
        verbose_name_plural = _("贴息批次事件")
