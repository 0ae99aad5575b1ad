"""Financing demands enterprises publish, and their timeline."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.models import Organisation
from xinrong.common.models import TimeStampedModel
from xinrong.enterprises.models import MarketEntity
from xinrong.marketplace.choices import DemandEventKind, DemandPurpose, DemandStatus, DemandUrgency
from xinrong.workflows.timeline import TimelineEvent


class Demand(TimeStampedModel):
    """A financing demand an enterprise publishes so that products and institutions find it."""

    entity = models.ForeignKey(
        MarketEntity, verbose_name=_("融资主体"), on_delete=models.PROTECT, related_name="demands"
    )
    amount = models.DecimalField(_("融资金额（元）"), max_digits=16, decimal_places=2)
    term_months = models.PositiveSmallIntegerField(_("期限（月）"))
    purpose_category = models.CharField(_("用途类别"), max_length=20, choices=DemandPurpose.choices)
    purpose = models.TextField(_("资金用途"), blank=True, default="")
    collateral_modes = models.JSONField(
        _("可接受的担保方式"), default=list, blank=True, help_text=_("为空表示不限")
    )
    max_rate = models.DecimalField(_("可接受最高年利率（%）"), max_digits=5, decimal_places=2)
    urgency = models.CharField(
        _("紧急程度"), max_length=12, choices=DemandUrgency.choices, default=DemandUrgency.NORMAL
    )
    status = models.CharField(
        _("状态"),
        max_length=12,
        choices=DemandStatus.choices,
        default=DemandStatus.OPEN,
        db_index=True,
    )
    division_code = models.CharField(
        _("所在地区"), max_length=12, blank=True, default="", db_index=True, editable=False
    )
    held_by = models.ForeignKey(
        Organisation,
        verbose_name=_("承接机构"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="held_demands",
    )
    held_until = models.DateTimeField(_("承接截止"), null=True, blank=True, db_index=True)
    escalated_at = models.DateTimeField(
        _("提请运营方时间"),
        null=True,
        blank=True,
        help_text=_("长期无人承接、已提请平台运营方跟进的时间"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发布人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("融资需求")
        verbose_name_plural = _("融资需求")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "division_code"], name="mkt_demand_status_div_idx"),
            # the demand hall's cache stamp reads Max(updated_at)
            models.Index(fields=["updated_at"], name="mkt_demand_updated_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0) & Q(amount__lte=100_000_000),
                name="marketplace_demand_amount_range",
            ),
            models.CheckConstraint(
                condition=Q(term_months__gte=1) & Q(term_months__lte=360),
                name="marketplace_demand_term_range",
            ),
            models.CheckConstraint(
                condition=Q(max_rate__gte=0) & Q(max_rate__lte=36),
                name="marketplace_demand_rate_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entity_id} · {self.amount} 元 · {self.term_months} 月"


class DemandEvent(TimelineEvent):
    """One step of a demand's timeline: published, taken, released, expired, escalated…"""

    demand = models.ForeignKey(
        Demand, verbose_name=_("融资需求"), on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(_("事件"), max_length=32, choices=DemandEventKind.choices)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("相关机构"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("承接、放弃或超时所涉及的机构"),
    )
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta(TimelineEvent.Meta):
        verbose_name = _("融资需求事件")
        verbose_name_plural = _("融资需求事件")
        ordering = ["demand_id", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.demand_id} · {self.get_kind_display()}"
