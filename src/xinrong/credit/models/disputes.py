"""Models of disputes (异议) and the evidence-file base that repair shares."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinrong.common.access import RestrictedQuerySet
from xinrong.common.models import TimeStampedModel
from xinrong.credit.choices import (
    OPEN_DISPUTE_STATUSES,
    DisputeEventKind,
    DisputeKind,
    DisputeStatus,
)
from xinrong.enterprises.models import MarketEntity
from xinrong.workflows.timeline import TimelineEvent

# ============================================================================================
# Disputes (异议) and credit repair (信用修复). Kept together at the end of the module.
# Their links to datahub.Fact are enforced by the database (deferred foreign keys) but are
# DO_NOTHING for Django, so the pipeline's bulk deletes of unfinished batches stay single
# statements (docs/decisions/0004); a disputed or repaired fact cannot be deleted.
# ============================================================================================


def evidence_upload_to(instance: EvidenceFile, filename: str) -> str:
    """Store evidence under a random name: the uploader's file name is kept only as data."""
    ext = Path(filename).suffix.lower()[:8]
    folder = "disputes" if isinstance(instance, DisputeEvidence) else "repairs"
    return f"evidence/{folder}/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{ext}"


class EvidenceFile(TimeStampedModel):
    """Abstract base of a file an enterprise submits as evidence."""

    file = models.FileField(_("文件"), upload_to=evidence_upload_to, max_length=200)
    original_name = models.CharField(_("原文件名"), max_length=255)
    content_type = models.CharField(_("文件类型"), max_length=100)
    size = models.PositiveIntegerField(_("大小（字节）"))
    sha256 = models.CharField(_("SHA-256 摘要"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.original_name


class Dispute(TimeStampedModel):
    """An enterprise's objection to, correction of or addition to one fact of its archive."""

    entity = models.ForeignKey(
        MarketEntity, verbose_name=_("市场主体"), on_delete=models.CASCADE, related_name="disputes"
    )
    fact = models.ForeignKey(
        "datahub.Fact",
        verbose_name=_("异议信息"),
        on_delete=models.DO_NOTHING,
        related_name="disputes",
    )
    source = models.ForeignKey(
        "datahub.Source",
        verbose_name=_("数据来源"),
        on_delete=models.PROTECT,
        related_name="disputes",
        help_text=_("信息的报送来源，由其所属部门答复"),
    )
    category = models.CharField(_("信息类别"), max_length=32)
    kind = models.CharField(_("异议类型"), max_length=16, choices=DisputeKind.choices)
    claim = models.TextField(_("异议说明"))
    proposed_values = models.JSONField(
        _("申请更正/补充的值"), default=dict, blank=True, help_text=_("字段代码 → 值")
    )
    original_values = models.JSONField(_("提交时的原值"), default=dict)
    status = models.CharField(
        _("状态"), max_length=16, choices=DisputeStatus.choices, default=DisputeStatus.SUBMITTED
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提交人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("提交时间"))
    due_on = models.DateField(
        _("答复期限"), help_text=_("《征信业管理条例》第二十五条：收到异议之日起20日内答复")
    )
    escalated_at = models.DateTimeField(_("逾期督办时间"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    resolution = models.TextField(_("处理意见"), blank=True, default="")
    resolved_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("异议")
        verbose_name_plural = _("异议")
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["fact"],
                condition=Q(status__in=["submitted", "in_review"]),
                name="credit_dispute_one_open_per_fact",
            ),
            models.CheckConstraint(
                condition=~Q(status="upheld") | ~Q(resolution=""),
                name="credit_dispute_upheld_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["submitted", "in_review"]) | Q(resolved_at__isnull=False),
                name="credit_dispute_closed_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_on"], name="credit_dispute_status_due_idx"),
            models.Index(fields=["source", "status"], name="credit_dispute_source_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}（{self.entity.name}）"

    @property
    def is_open(self) -> bool:
        """Return True until the dispute is corrected, upheld or withdrawn."""
        return self.status in OPEN_DISPUTE_STATUSES

    def is_overdue(self, today: dt.date | None = None) -> bool:
        """Return True if still open after its answer deadline."""
        return self.is_open and (today or timezone.localdate()) > self.due_on

    @property
    def is_escalated(self) -> bool:
        """Return True once it was flagged overdue to the operator."""
        return self.escalated_at is not None


class DisputeEvidence(EvidenceFile):
    """A file supporting a dispute (PDF, JPG, PNG or XLSX, at most 10 MB)."""

    dispute = models.ForeignKey(
        Dispute, verbose_name=_("异议"), on_delete=models.CASCADE, related_name="evidence"
    )

    class Meta:
        verbose_name = _("异议证据")
        verbose_name_plural = _("异议证据")
        ordering = ["dispute_id", "id"]


class DisputeEvent(TimelineEvent):
    """One step of a dispute: who, when, from which status to which, and a note (append-only).

    Written by the workflow kernel (``credit.workflows.DISPUTE``); an empty actor is the platform.
    """

    dispute = models.ForeignKey(
        Dispute, verbose_name=_("异议"), on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(_("事项"), max_length=32, choices=DisputeEventKind.choices)
    from_status = models.CharField(
        _("原状态"), max_length=32, choices=DisputeStatus.choices, blank=True, default=""
    )
    to_status = models.CharField(
        _("新状态"), max_length=32, choices=DisputeStatus.choices, blank=True, default=""
    )

    class Meta:
        verbose_name = _("异议处理记录")
        verbose_name_plural = _("异议处理记录")
        ordering = ["dispute_id", "id"]  # insertion order is the order of events

    def __str__(self) -> str:
        return f"#{self.dispute_id} {self.get_kind_display()}"
