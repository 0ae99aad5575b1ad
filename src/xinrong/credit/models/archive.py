"""Models of the archive's access: authorisations (consent) and the query log."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.models import Organisation
from xinrong.common.models import TimeStampedModel
from xinrong.credit.choices import Channel, Purpose, Scope
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
