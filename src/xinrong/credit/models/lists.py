"""Models of the white and black lists (信用红黑名单) — credit statuses of market entities.

Entries are never deleted: a black-list entry is *cleared* (``cleared_at``) when its source
clears, a white-list entry when the entity stops meeting the criteria; the history is the rows.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from xinrong.common.access import RestrictedQuerySet
from xinrong.common.models import TimeStampedModel
from xinrong.enterprises.models import MarketEntity
from xinrong.workflows.timeline import TimelineEvent


class BlacklistSource(models.TextChoices):
    """Why an entity is on the black list."""

    DISHONEST = "dishonest", _("失信被执行人")
    SERIOUS_VIOLATION = "serious_violation", _("严重违法违规（严重行政处罚）")
    FRAUD = "fraud", _("金融机构举报并经运营方确认的欺诈")


class FraudStatus(models.TextChoices):
    """The statuses of a fraud report."""

    REPORTED = "reported", _("待核实")
    CONFIRMED = "confirmed", _("已确认")
    DISMISSED = "dismissed", _("不予认定")


class BlacklistEntry(models.Model):
    """One listing of an entity on the black list, from one source record (一票否决)."""

    entity = models.ForeignKey(
        MarketEntity,
        verbose_name=_("市场主体"),
        on_delete=models.CASCADE,
        related_name="blacklist_entries",
    )
    source = models.CharField(_("列入来源"), max_length=24, choices=BlacklistSource.choices)
    source_ref = models.CharField(
        _("来源记录"),
        max_length=64,
        help_text=_("信用信息编号（fact:<id>）或欺诈举报编号（fraud:<id>）"),
    )
    reason = models.CharField(_("列入原因"), max_length=255)
    listed_at = models.DateTimeField(_("列入时间"))
    cleared_at = models.DateTimeField(_("移出时间"), null=True, blank=True)
    cleared_reason = models.CharField(_("移出原因"), max_length=255, blank=True, default="")

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("黑名单记录")
        verbose_name_plural = _("黑名单记录")
        ordering = ["-listed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "source_ref"],
                condition=Q(cleared_at__isnull=True),
                name="credit_blacklist_one_active_per_ref",
            )
        ]
        indexes = [models.Index(fields=["entity", "cleared_at"], name="credit_black_entity_idx")]

    def __str__(self) -> str:
        return f"{self.entity_id} · {self.get_source_display()} · {self.listed_at:%Y-%m-%d}"

    @property
    def active(self) -> bool:
        return self.cleared_at is None


class WhitelistCriteria(models.Model):
    """The operator's white-list criteria; every change is a new row (the latest is in force)."""

    min_grade = models.CharField(_("最低信用等级"), max_length=4, default="A")
    min_loans_repaid = models.PositiveSmallIntegerField(
        _("最少已结清平台贷款笔数"), default=0, help_text=_("0 表示不要求")
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("修改人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    changed_at = models.DateTimeField(_("修改时间"))

    class Meta:
        verbose_name = _("白名单条件")
        verbose_name_plural = _("白名单条件")
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.min_grade} · {self.min_loans_repaid}"


class WhitelistEntry(models.Model):
    """One period an entity met the white-list criteria (cleared when it stops meeting them)."""

    entity = models.ForeignKey(
        MarketEntity,
        verbose_name=_("市场主体"),
        on_delete=models.CASCADE,
        related_name="whitelist_entries",
    )
    grade = models.CharField(_("列入时信用等级"), max_length=4)
    listed_at = models.DateTimeField(_("列入时间"))
    cleared_at = models.DateTimeField(_("移出时间"), null=True, blank=True)
    cleared_reason = models.CharField(_("移出原因"), max_length=255, blank=True, default="")

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("白名单记录")
        verbose_name_plural = _("白名单记录")
        ordering = ["-listed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["entity"],
                condition=Q(cleared_at__isnull=True),
                name="credit_whitelist_one_active",
            )
        ]

    def __str__(self) -> str:
        return f"{self.entity_id} · {self.grade} · {self.listed_at:%Y-%m-%d}"


class RecommendConsent(models.Model):
    """An enterprise's answer to 同意推荐给金融机构 (default: no); every change is a new row."""

    entity = models.ForeignKey(
        MarketEntity,
        verbose_name=_("市场主体"),
        on_delete=models.CASCADE,
        related_name="recommend_consents",
    )
    consented = models.BooleanField(_("同意推荐给金融机构"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("记录时间"))

    class Meta:
        verbose_name = _("推荐同意记录")
        verbose_name_plural = _("推荐同意记录")
        ordering = ["-recorded_at", "-id"]
        indexes = [
            models.Index(fields=["entity", "-recorded_at"], name="credit_consent_entity_idx")
        ]

    def __str__(self) -> str:
        return f"{self.entity_id} · {self.consented} · {self.recorded_at:%Y-%m-%d}"


class FraudReport(TimeStampedModel):
    """A financial institution's report that an entity committed fraud; the operator decides."""

    entity = models.ForeignKey(
        MarketEntity,
        verbose_name=_("被举报主体"),
        on_delete=models.CASCADE,
        related_name="fraud_reports",
    )
    institution = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("举报机构"),
        on_delete=models.PROTECT,
        related_name="fraud_reports",
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("举报人"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    description = models.TextField(_("欺诈情况"))
    status = models.CharField(
        _("状态"), max_length=16, choices=FraudStatus.choices, default=FraudStatus.REPORTED
    )
    decided_at = models.DateTimeField(_("认定时间"), null=True, blank=True)
    decision_note = models.TextField(_("认定意见"), blank=True, default="")

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("欺诈举报")
        verbose_name_plural = _("欺诈举报")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.entity_id} · {self.get_status_display()}"


class FraudReportEvent(TimelineEvent):
    """One step of a fraud report's timeline (reported, confirmed, dismissed)."""

    report = models.ForeignKey(
        FraudReport, verbose_name=_("欺诈举报"), on_delete=models.CASCADE, related_name="events"
    )

    class Meta(TimelineEvent.Meta):
        verbose_name = _("欺诈举报记录")
        verbose_name_plural = _("欺诈举报记录")
