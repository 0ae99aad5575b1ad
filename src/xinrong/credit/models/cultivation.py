"""Models of credit cultivation."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.models import Organisation
from xinrong.common.access import RestrictedQuerySet
from xinrong.common.models import TimeStampedModel
from xinrong.credit.choices import CultivationEventKind, CultivationStatus
from xinrong.enterprises.models import MarketEntity
from xinrong.workflows.timeline import TimelineEvent


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
        return f"{self.entity.name} · {self.get_status_display()}"


class CultivationEvent(TimelineEvent):
    """One step of a cultivation case: started, a follow-up, ended (the case's timeline).

    Written by the workflow kernel (``credit.workflows.CULTIVATION``); an empty actor is the
    platform (graduation after a rescoring).
    """

    case = models.ForeignKey(
        CultivationCase, verbose_name=_("培植"), on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(_("事项"), max_length=32, choices=CultivationEventKind.choices)
    from_status = models.CharField(
        _("原状态"), max_length=32, choices=CultivationStatus.choices, blank=True, default=""
    )
    to_status = models.CharField(
        _("新状态"), max_length=32, choices=CultivationStatus.choices, blank=True, default=""
    )

    class Meta:
        verbose_name = _("培植记录")
        verbose_name_plural = _("培植记录")
        ordering = ["case_id", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} · {self.get_kind_display()} · {self.created_at:%Y-%m-%d}"
