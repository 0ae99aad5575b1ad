"""Authorisations enterprises grant to institutions, and the log of every non-public read."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from xinrong.accounts.models import Organisation
from xinrong.common.access import RestrictedQuerySet
from xinrong.common.models import TimeStampedModel
from xinrong.credit.choices import (
    OPEN_DISPUTE_STATUSES,
    AlertStatus,
    Channel,
    CultivationStatus,
    DisputeEventKind,
    DisputeKind,
    DisputeStatus,
    ModelStatus,
    Purpose,
    RepairEventKind,
    RepairStatus,
    ReportAudience,
    Scope,
)
from xinrong.enterprises.models import MarketEntity


class Authorisation(TimeStampedModel):
    """An enterprise's consent for an institution to read its archive for a purpose until a date."""

    entity = models.ForeignKey(
        MarketEntity,
        verbose_name=_("授权主体"),
        on_delete=models.CASCADE,
        related_name="authorisations",
    )
    institution = models.ForeignKey(
        Organisation,
        verbose_name=_("被授权机构"),
        on_delete=models.CASCADE,
        related_name="authorisations_received",
    )
    scope = models.CharField(_("授权范围"), max_length=16, choices=Scope.choices)
    categories = models.JSONField(_("授权类别"), default=list, blank=True)
    purpose = models.CharField(_("查询用途"), max_length=32, choices=Purpose.choices)
    purpose_note = models.CharField(_("用途说明"), max_length=200, blank=True, default="")
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("授权人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    expires_at = models.DateTimeField(_("有效期至"))
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("撤销人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("信息查询授权")
        verbose_name_plural = _("信息查询授权")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["entity", "institution"], name="credit_auth_entity_inst_idx")
        ]

    def __str__(self) -> str:
        return f"{self.entity} → {self.institution}（{self.get_scope_display()}）"

    def is_live(self) -> bool:
        """Return True while neither revoked nor expired."""
        return self.revoked_at is None and self.expires_at > timezone.now()


class QueryLog(models.Model):
    """One read of an enterprise's non-public information: who, when, what and why (append-only)."""

    entity = models.ForeignKey(
        MarketEntity,
        verbose_name=_("被查询主体"),
        on_delete=models.CASCADE,
        related_name="query_logs",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("查询人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("查询机构"), on_delete=models.PROTECT, related_name="+"
    )
    authorisation = models.ForeignKey(
        Authorisation, verbose_name=_("依据授权"), on_delete=models.PROTECT, related_name="reads"
    )
    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices)
    categories = models.JSONField(_("查询内容"), default=list)
    purpose = models.CharField(_("查询用途"), max_length=32, choices=Purpose.choices)
    accessed_at = models.DateTimeField(_("查询时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("查询记录")
        verbose_name_plural = _("查询记录")
        ordering = ["-accessed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.organisation} · {self.entity_id} · {self.accessed_at:%Y-%m-%d %H:%M}"


# ---------------------------------------------------------------- scoring

DIMENSION_CODES = ("basic", "operation", "tax", "compliance", "judicial", "related")


class ScoreModel(TimeStampedModel):
    """A version of the credit scorecard: bins, points, metrics; one version is active."""

    version = models.PositiveIntegerField(_("版本"), unique=True)
    name = models.CharField(_("名称"), max_length=100)
    status = models.CharField(
        _("状态"), max_length=16, choices=ModelStatus.choices, default=ModelStatus.DRAFT
    )
    card = models.JSONField(_("评分卡"), help_text=_("分箱、WOE、分值、系数与刻度"))
    metrics = models.JSONField(_("训练指标"), default=dict)
    training = models.JSONField(_("训练数据说明"), default=dict)
    score_distribution = models.JSONField(_("训练分数分布"), default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("训练人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    activated_at = models.DateTimeField(_("启用时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("评分模型")
        verbose_name_plural = _("评分模型")
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=models.Q(status="active"),
                name="credit_scoremodel_one_active",
            )
        ]

    def __str__(self) -> str:
        return f"v{self.version} {self.name}"


class ModelEvent(models.Model):
    """Audit record of a model's life: trained, activated, retired."""

    model = models.ForeignKey(
        ScoreModel, verbose_name=_("模型"), on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(_("事项"), max_length=16)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.TextField(_("说明"), blank=True, default="")
    at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("模型操作记录")
        verbose_name_plural = _("模型操作记录")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.model} {self.kind} {self.at:%Y-%m-%d %H:%M}"


class ScoringRun(models.Model):
    """One batch scoring: how many entities, how long, and stability against training."""

    model = models.ForeignKey(
        ScoreModel, verbose_name=_("模型"), on_delete=models.PROTECT, related_name="runs"
    )
    started_at = models.DateTimeField(_("开始时间"), default=timezone.now)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    entities = models.PositiveIntegerField(_("评分主体数"), default=0)
    full = models.BooleanField(_("全量评分"), default=False)
    psi_score = models.FloatField(_("分数PSI"), null=True, blank=True)
    psi_features = models.JSONField(_("特征PSI"), default=dict)

    class Meta:
        verbose_name = _("评分批次")
        verbose_name_plural = _("评分批次")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.model} · {self.started_at:%Y-%m-%d %H:%M} · {self.entities}"


class CreditProfile(models.Model):
    """A scoring snapshot of one entity (画像): score, grade, dimensions and reasons."""

    entity = models.ForeignKey(
        MarketEntity,
        verbose_name=_("市场主体"),
        on_delete=models.CASCADE,
        related_name="credit_profiles",
        db_index=False,  # the (entity, -computed_at) index leads with it
    )
    model = models.ForeignKey(
        ScoreModel, verbose_name=_("模型"), on_delete=models.PROTECT, related_name="+"
    )
    run = models.ForeignKey(
        ScoringRun,
        verbose_name=_("评分批次"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    score = models.PositiveSmallIntegerField(_("信用分"))
    grade = models.CharField(_("信用等级"), max_length=4)
    # dimension sub-scores, 0–100 (credit.features.DIMENSIONS), as columns for statistics
    dim_basic = models.FloatField(_("基本信息"), null=True, blank=True)
    dim_operation = models.FloatField(_("经营状况"), null=True, blank=True)
    dim_tax = models.FloatField(_("纳税"), null=True, blank=True)
    dim_compliance = models.FloatField(_("合规"), null=True, blank=True)
    dim_judicial = models.FloatField(_("司法"), null=True, blank=True)
    dim_related = models.FloatField(
        pgettext_lazy("credit dimension", "关联"), null=True, blank=True
    )
    reasons = models.CharField(
        _("主要扣分原因"), max_length=200, blank=True, default="", help_text=_("特征代码，逗号分隔")
    )
    is_latest = models.BooleanField(_("最新"), default=True)
    computed_at = models.DateTimeField(_("评分时间"), default=timezone.now)

    class Meta:
        verbose_name = _("信用画像")
        verbose_name_plural = _("信用画像")
        ordering = ["entity_id", "-computed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["entity"],
                condition=models.Q(is_latest=True),
                name="credit_creditprofile_one_latest",
            )
        ]
        indexes = [
            models.Index(fields=["entity", "-computed_at"], name="credit_profile_entity_idx"),
            models.Index(
                fields=["grade"],
                condition=models.Q(is_latest=True),
                name="credit_profile_latest_grade",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entity_id} · {self.score} {self.grade} · {self.computed_at:%Y-%m-%d}"

    def dimensions(self) -> dict[str, float | None]:
        """Sub-scores by dimension code."""
        return {code: getattr(self, f"dim_{code}") for code in DIMENSION_CODES}

    def reason_codes(self) -> list[str]:
        return [r for r in self.reasons.split(",") if r]


# ---------------------------------------------------------------- early warning


class Alert(TimeStampedModel):
    """An early-warning alert (风险预警) for one institution about one enterprise."""

    entity = models.ForeignKey(
        MarketEntity, verbose_name=_("市场主体"), on_delete=models.CASCADE, related_name="+"
    )
    institution = models.ForeignKey(
        Organisation, verbose_name=_("接收机构"), on_delete=models.CASCADE, related_name="+"
    )
    rule = models.CharField(_("预警规则"), max_length=40)
    severity = models.CharField(_("严重程度"), max_length=16)
    detail = models.JSONField(_("详情"), default=dict)
    fingerprint = models.CharField(_("指纹"), max_length=64)
    status = models.CharField(
        _("状态"), max_length=16, choices=AlertStatus.choices, default=AlertStatus.OPEN
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    handled_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    note = models.TextField(_("处理说明"), blank=True, default="")

    class Meta:
        verbose_name = _("风险预警")
        verbose_name_plural = _("风险预警")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "entity", "rule", "fingerprint"],
                name="credit_alert_unique",
            )
        ]
        indexes = [models.Index(fields=["institution", "status"], name="credit_alert_inbox_idx")]

    def __str__(self) -> str:
        return f"{self.rule} · {self.entity_id} → {self.institution_id}"


class WarningRuleSetting(models.Model):
    """The operator's setting of one early-warning rule: on or off, severity, threshold.

    A rule without a row runs with its defaults (``credit.warnings.RULES``).
    """

    rule = models.CharField(_("预警规则"), max_length=40, unique=True)
    enabled = models.BooleanField(_("启用"), default=True)
    severity = models.CharField(_("严重程度"), max_length=16)
    threshold = models.PositiveIntegerField(_("阈值"), null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("修改人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("修改时间"), default=timezone.now)

    class Meta:
        verbose_name = _("预警规则设置")
        verbose_name_plural = _("预警规则设置")
        ordering = ["rule"]

    def __str__(self) -> str:
        return f"{self.rule}: {'on' if self.enabled else 'off'} · {self.severity}"


class WarningRuleChange(models.Model):
    """One change of a warning rule's setting, kept for audit (who, when, before, after)."""

    rule = models.CharField(_("预警规则"), max_length=40)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("修改人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    before = models.JSONField(_("修改前"), default=dict)
    after = models.JSONField(_("修改后"), default=dict)
    note = models.TextField(_("说明"), blank=True, default="")
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("预警规则修改记录")
        verbose_name_plural = _("预警规则修改记录")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.rule} @ {self.created_at:%Y-%m-%d %H:%M}"


class LoanWatch(TimeStampedModel):
    """An institution's outstanding loan to an enterprise: while it lasts, the institution
    receives the enterprise's early-warning alerts (贷后预警) even without a live authorisation.

    The lender (marketplace) starts one at disbursement and ends it at settlement through
    credit's services; credit knows only the reference, not the loan.
    """

    entity = models.ForeignKey(
        MarketEntity, verbose_name=_("借款主体"), on_delete=models.CASCADE, related_name="+"
    )
    institution = models.ForeignKey(
        Organisation, verbose_name=_("放款机构"), on_delete=models.CASCADE, related_name="+"
    )
    reference = models.CharField(_("贷款编号"), max_length=64)
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("贷后关注")
        verbose_name_plural = _("贷后关注")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "reference"], name="credit_loanwatch_unique_reference"
            )
        ]
        indexes = [models.Index(fields=["entity", "ended_at"], name="credit_loanwatch_live_idx")]

    def __str__(self) -> str:
        return f"{self.reference} · {self.entity_id} → {self.institution_id}"


# ---------------------------------------------------------------- credit cultivation


class CultivationCase(TimeStampedModel):
    """An enterprise below the bankable grade taken into credit cultivation (信用培植)."""

    entity = models.ForeignKey(
        MarketEntity, verbose_name=_("市场主体"), on_delete=models.CASCADE, related_name="+"
    )
    authority = models.ForeignKey(
        Organisation, verbose_name=_("培植部门"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("状态"),
        max_length=16,
        choices=CultivationStatus.choices,
        default=CultivationStatus.ACTIVE,
    )
    plan = models.TextField(_("培植计划"))
    score_at_start = models.PositiveSmallIntegerField(_("入选时信用分"))
    grade_at_start = models.CharField(_("入选时等级"), max_length=4)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("经办人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("信用培植")
        verbose_name_plural = _("信用培植")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["entity"],
                condition=models.Q(status="active"),
                name="credit_cultivation_one_active",
            )
        ]

    def __str__(self) -> str:
        return f"{self.entity_id} · {self.get_status_display()}"


class CultivationNote(models.Model):
    """A follow-up note on a cultivation case."""

    case = models.ForeignKey(
        CultivationCase, verbose_name=_("培植"), on_delete=models.CASCADE, related_name="notes"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("记录人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    text = models.TextField(_("跟进记录"))
    at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("培植跟进")
        verbose_name_plural = _("培植跟进")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} · {self.at:%Y-%m-%d}"


# ---------------------------------------------------------------- credit reports


def _report_path(instance: Any, filename: str) -> str:
    """Store a report as reports/<yyyy>/<mm>/<number>.pdf (the number is unique)."""
    at = timezone.localtime(instance.generated_at)
    return f"reports/{at:%Y}/{at:%m}/{instance.number}.pdf"


class CreditReport(models.Model):
    """A credit report (信用报告) handed out as PDF: who got it, what it said, its SM3 digest.

    The PDF itself lives in Django's default storage (``STORAGES["default"]``) under
    ``reports/``, not in a BinaryField: reports are immutable blobs of 50–500 KB and a province
    produces hundreds of thousands a year, so keeping them out of the tables keeps the database,
    its backups and its replication lean, and lets operators put them on object storage by
    settings alone. Integrity does not depend on the storage: the SM3 digest of the exact bytes
    is stored here, checked again on every download, and is what public verification compares.
    The row is append-only; nothing about a report changes after it was generated.
    """

    number = models.CharField(_("报告编号"), max_length=24, unique=True)
    entity = models.ForeignKey(
        MarketEntity,
        verbose_name=_("报告主体"),
        on_delete=models.PROTECT,  # a report that was handed out must stay verifiable
        related_name="credit_reports",
        db_index=False,  # the (entity, requested_by, generated_at) index leads with it
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("生成人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("生成机构"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    audience = models.CharField(_("报告类型"), max_length=16, choices=ReportAudience.choices)
    authorisation = models.ForeignKey(
        Authorisation,
        verbose_name=_("依据授权"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reports",
    )
    purpose = models.CharField(
        _("用途"), max_length=32, choices=Purpose.choices, blank=True, default=""
    )
    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices)
    generated_at = models.DateTimeField(_("生成时间"), default=timezone.now)
    sm3 = models.CharField(_("SM3摘要"), max_length=64, help_text=_("PDF 文件全部字节的 SM3 摘要"))
    pages = models.PositiveSmallIntegerField(_("页数"))
    size = models.PositiveIntegerField(_("文件大小（字节）"))
    model_version = models.PositiveIntegerField(_("评分模型版本"), null=True, blank=True)
    score = models.PositiveSmallIntegerField(_("报告所载信用分"), null=True, blank=True)
    grade = models.CharField(_("报告所载信用等级"), max_length=4, blank=True, default="")
    file = models.FileField(_("报告文件"), upload_to=_report_path, max_length=200)

    class Meta:
        verbose_name = _("信用报告")
        verbose_name_plural = _("信用报告")
        ordering = ["-generated_at", "-id"]
        indexes = [
            models.Index(
                fields=["entity", "requested_by", "generated_at"],
                name="credit_report_daily_idx",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(audience="own", authorisation__isnull=True)
                | models.Q(audience="institution", authorisation__isnull=False),
                name="credit_creditreport_audience_authorisation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} · {self.entity_id} · {self.generated_at:%Y-%m-%d %H:%M}"


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
        return f"{self.get_kind_display()} #{self.pk} · {self.entity_id}"

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


class DisputeEvent(models.Model):
    """One step of a dispute: who, when, from which status to which, and a note (append-only)."""

    dispute = models.ForeignKey(
        Dispute, verbose_name=_("异议"), on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(_("事项"), max_length=24, choices=DisputeEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("为空表示系统自动处理"),
    )
    from_status = models.CharField(
        _("原状态"), max_length=16, choices=DisputeStatus.choices, blank=True, default=""
    )
    to_status = models.CharField(_("新状态"), max_length=16, choices=DisputeStatus.choices)
    note = models.TextField(_("说明"), blank=True, default="")
    data = models.JSONField(_("详情"), default=dict, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("异议处理记录")
        verbose_name_plural = _("异议处理记录")
        ordering = ["dispute_id", "id"]  # insertion order is the order of events

    def __str__(self) -> str:
        return f"#{self.dispute_id} {self.get_kind_display()}"


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
        return f"{_('信用修复')} #{self.pk} · {self.entity_id}"


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


class RepairEvent(models.Model):
    """One step of a repair application (append-only; the timeline)."""

    application = models.ForeignKey(
        RepairApplication,
        verbose_name=_("修复申请"),
        on_delete=models.CASCADE,
        related_name="events",
    )
    kind = models.CharField(_("事项"), max_length=16, choices=RepairEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    from_status = models.CharField(
        _("原状态"), max_length=16, choices=RepairStatus.choices, blank=True, default=""
    )
    to_status = models.CharField(_("新状态"), max_length=16, choices=RepairStatus.choices)
    note = models.TextField(_("说明"), blank=True, default="")
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("修复处理记录")
        verbose_name_plural = _("修复处理记录")
        ordering = ["application_id", "id"]

    def __str__(self) -> str:
        return f"#{self.application_id} {self.get_kind_display()}"
