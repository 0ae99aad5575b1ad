"""The 上市挂牌后备库 (capital-market reserve): entries, their timeline, investor interest, and
direct-financing cases."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.models import Organisation
from xinrong.common.models import TimeStampedModel
from xinrong.enterprises.models import MarketEntity
from xinrong.marketplace.choices import (
    FinancingCaseType,
    InterestStatus,
    ReserveEventKind,
    ReserveStatus,
)
from xinrong.workflows.timeline import TimelineEvent


class ReserveCandidate(TimeStampedModel):
    """An enterprise in the capital-market reserve database (上市挂牌后备库)."""

    entity = models.OneToOneField(
        MarketEntity,
        verbose_name=_("市场主体"),
        on_delete=models.PROTECT,
        related_name="reserve_entry",
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("入库人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    criteria = models.JSONField(
        _("入库条件快照"),
        default=dict,
        blank=True,
        help_text=_("入库时使用的筛选条件和该企业当时的指标（含非公开信息，仅运营方可见）"),
    )
    status = models.CharField(
        _("状态"),
        max_length=12,
        choices=ReserveStatus.choices,
        default=ReserveStatus.ACTIVE,
        db_index=True,
    )
    note = models.TextField(_("运营方备注"), blank=True, default="")
    intro = models.TextField(
        _("企业展示信息"),
        blank=True,
        default="",
        help_text=_("企业自愿向投资机构展示的介绍（融资计划、主营业务等）"),
    )

    class Meta:
        verbose_name = _("后备库企业")
        verbose_name_plural = _("后备库企业")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.entity_id} · {self.get_status_display()}"


class ReserveEvent(TimelineEvent):
    """One step of a reserve entry's timeline (who, when, what): the audit trail."""

    candidate = models.ForeignKey(
        ReserveCandidate,
        verbose_name=_("后备库企业"),
        on_delete=models.CASCADE,
        related_name="events",
    )
    kind = models.CharField(_("事件"), max_length=32, choices=ReserveEventKind.choices)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("操作机构"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta(TimelineEvent.Meta):
        verbose_name = _("后备库事件")
        verbose_name_plural = _("后备库事件")
        ordering = ["candidate_id", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.candidate_id} · {self.get_kind_display()}"


class InvestorInterest(TimeStampedModel):
    """An investor's expression of interest in a reserve enterprise, answered by the enterprise."""

    investor = models.ForeignKey(
        Organisation,
        verbose_name=_("投资机构"),
        on_delete=models.PROTECT,
        related_name="reserve_interests",
    )
    candidate = models.ForeignKey(
        ReserveCandidate,
        verbose_name=_("后备库企业"),
        on_delete=models.CASCADE,
        related_name="interests",
    )
    note = models.TextField(_("意向说明"), blank=True, default="")
    status = models.CharField(
        _("状态"),
        max_length=12,
        choices=InterestStatus.choices,
        default=InterestStatus.PENDING,
        db_index=True,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提交人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("回复人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    responded_at = models.DateTimeField(_("回复时间"), null=True, blank=True)
    response_note = models.TextField(_("回复说明"), blank=True, default="")

    class Meta:
        verbose_name = _("投资意向")
        verbose_name_plural = _("投资意向")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["investor", "candidate"],
                condition=Q(status="pending"),
                name="marketplace_investorinterest_one_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.investor_id} → {self.candidate_id} · {self.get_status_display()}"


class DirectFinancingCase(TimeStampedModel):
    """A direct-financing case (股权、债券、上市挂牌) recorded by the operator as an example."""

    entity = models.ForeignKey(
        MarketEntity,
        verbose_name=_("融资企业"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="financing_cases",
    )
    title = models.CharField(_("案例标题"), max_length=120)
    case_type = models.CharField(_("融资方式"), max_length=20, choices=FinancingCaseType.choices)
    amount = models.DecimalField(_("融资金额（元）"), max_digits=16, decimal_places=2)
    occurred_on = models.DateField(_("融资日期"), db_index=True)
    investor = models.ForeignKey(
        Organisation,
        verbose_name=_("平台投资机构"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="financing_cases",
    )
    counterparty = models.CharField(_("投资方/承销机构"), max_length=200, blank=True, default="")
    description = models.TextField(_("案例介绍"), blank=True, default="")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("直接融资案例")
        verbose_name_plural = _("直接融资案例")
        ordering = ["-occurred_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="marketplace_directfinancingcase_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.title
