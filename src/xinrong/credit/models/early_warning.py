"""Models of early warning: alerts, rule settings and changes, loan watches."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.models import Organisation
from xinrong.common.models import TimeStampedModel
from xinrong.credit.choices import AlertStatus
from xinrong.enterprises.models import MarketEntity


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
                fields=["institution", "entity", "rule", "fingerprint"], name="credit_alert_unique"
            )
        ]
        indexes = [models.Index(fields=["institution", "status"], name="credit_alert_inbox_idx")]

    def __str__(self) -> str:
        return f"{self.rule} · {self.entity_id} → {self.institution_id}"


class WarningRuleSetting(models.Model):
    """The operator's setting of one early-warning rule: on or off, severity, threshold.

    A rule without a row runs with its defaults (``credit.early_warning.RULES``).
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
