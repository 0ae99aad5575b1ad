"""Models of scoring: model versions, their events, runs and profile snapshots."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from xinrong.common.models import TimeStampedModel
from xinrong.credit.choices import ModelEventKind, ModelStatus
from xinrong.enterprises.models import MarketEntity
from xinrong.workflows.timeline import TimelineEvent

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


class ModelEvent(TimelineEvent):
    """Audit record of a model's life: trained, activated, retired (with the status moves)."""

    model = models.ForeignKey(
        ScoreModel, verbose_name=_("模型"), on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(_("事项"), max_length=32, choices=ModelEventKind.choices)
    from_status = models.CharField(
        _("原状态"), max_length=32, choices=ModelStatus.choices, blank=True, default=""
    )
    to_status = models.CharField(
        _("新状态"), max_length=32, choices=ModelStatus.choices, blank=True, default=""
    )

    class Meta:
        verbose_name = _("模型操作记录")
        verbose_name_plural = _("模型操作记录")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.model} {self.kind} {self.created_at:%Y-%m-%d %H:%M}"


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
    # every negative fact that costs points is named, so there may be more than three codes:
    # the twelve negative features' codes, comma-joined, take 217 characters
    reasons = models.CharField(
        _("主要扣分原因"), max_length=500, blank=True, default="", help_text=_("特征代码，逗号分隔")
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


class PendingRescore(models.Model):
    """An entity waiting for the next coalesced rescoring (``credit.tasks.rescore_drain``).

    ``batch`` is set when an ingestion batch asked for it: the drain then runs every warning
    rule on that batch's facts, as a rescoring per batch did; otherwise only the score drop.
    ``claim`` names the drain working on the row; a new request clears it, so the drain leaves
    a row asked for again while it ran, and the next drain picks it up.
    """

    entity = models.ForeignKey(
        MarketEntity, verbose_name=_("市场主体"), on_delete=models.CASCADE, related_name="+"
    )
    batch_id = models.BigIntegerField(_("归集批次"), default=0)  # 0: no batch
    requested_at = models.DateTimeField(_("请求时间"), default=timezone.now)
    claim = models.CharField(_("处理中"), max_length=32, blank=True, default="")
    claimed_at = models.DateTimeField(_("开始处理时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("待重新评分")
        verbose_name_plural = _("待重新评分")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "batch_id"], name="credit_pendingrescore_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.entity_id} · {self.batch_id or '-'}"
