"""Models of credit repair (信用修复)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from xinrong.common.access import RestrictedQuerySet
from xinrong.common.models import TimeStampedModel
from xinrong.credit.choices import RepairEventKind, RepairStatus
from xinrong.credit.models.disputes import EvidenceFile
from xinrong.enterprises.models import MarketEntity
from xinrong.workflows.timeline import TimelineEvent


class RepairApplication(TimeStampedModel):
    """An enterprise's application to repair an administrative-penalty record (信用修复)."""

    entity = models.ForeignKey(
        MarketEntity,
        verbose_name=_("市场主体"),
        on_delete=models.CASCADE,
        related_name="repair_applications",
    )
    fact = models.ForeignKey(
        "datahub.Fact",
        verbose_name=_("行政处罚信息"),
        on_delete=models.DO_NOTHING,
        related_name="repair_applications",
    )
    source = models.ForeignKey(
        "datahub.Source",
        verbose_name=_("数据来源"),
        on_delete=models.PROTECT,
        related_name="repair_applications",
    )
    severity = models.CharField(_("严重程度"), max_length=16)
    decided_on = models.DateField(_("处罚日期"))
    statement = models.TextField(_("整改情况说明"))
    status = models.CharField(
        _("状态"), max_length=16, choices=RepairStatus.choices, default=RepairStatus.SUBMITTED
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("申请时间"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    reason = models.TextField(_("审核意见"), blank=True, default="")

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("信用修复申请")
        verbose_name_plural = _("信用修复申请")
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["fact"],
                condition=Q(status="submitted"),
                name="credit_repairapplication_one_pending_per_fact",
            ),
            models.UniqueConstraint(
                fields=["fact"],
                condition=Q(status="approved"),
                name="credit_repairapplication_one_approved_per_fact",
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(reason=""),
                name="credit_repairapplication_rejected_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["source", "status"], name="credit_repair_source_idx"),
            models.Index(fields=["status", "entity"], name="credit_repair_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{_('信用修复')} #{self.pk}（{self.entity.name}）"


class RepairEvidence(EvidenceFile):
    """A file proving rectification (PDF, JPG, PNG or XLSX, at most 10 MB)."""

    application = models.ForeignKey(
        RepairApplication,
        verbose_name=_("修复申请"),
        on_delete=models.CASCADE,
        related_name="evidence",
    )

    class Meta:
        verbose_name = _("修复证明材料")
        verbose_name_plural = _("修复证明材料")
        ordering = ["application_id", "id"]


class RepairEvent(TimelineEvent):
    """One step of a repair application (append-only; the timeline), written by the kernel."""

    application = models.ForeignKey(
        RepairApplication,
        verbose_name=_("修复申请"),
        on_delete=models.CASCADE,
        related_name="events",
    )
    kind = models.CharField(_("事项"), max_length=32, choices=RepairEventKind.choices)
    from_status = models.CharField(
        _("原状态"), max_length=32, choices=RepairStatus.choices, blank=True, default=""
    )
    to_status = models.CharField(
        _("新状态"), max_length=32, choices=RepairStatus.choices, blank=True, default=""
    )

    class Meta:
        verbose_name = _("修复处理记录")
        verbose_name_plural = _("修复处理记录")
        ordering = ["application_id", "id"]

    def __str__(self) -> str:
        return f"#{self.application_id} {self.get_kind_display()}"
