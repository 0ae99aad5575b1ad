"""Models of credit cultivation."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.models import Organisation
from xinrong.common.access import RestrictedQuerySet
from xinrong.common.models import TimeStampedModel
from xinrong.credit.choices import CultivationStatus
from xinrong.enterprises.models import MarketEntity


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
