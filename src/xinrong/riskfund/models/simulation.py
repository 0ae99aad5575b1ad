"""Saved runs of the sufficiency simulator (资金充足性测算): parameters in, figures out."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinrong.common.access import RestrictedQuerySet
from xinrong.riskfund.models.funds import Fund

_USER = settings.AUTH_USER_MODEL


class Simulation(models.Model):
    """One run of the Monte Carlo simulator: its scenarios side by side and their results."""

    fund = models.ForeignKey(
        Fund, verbose_name=_("基金"), on_delete=models.CASCADE, related_name="simulations"
    )
    name = models.CharField(_("测算名称"), max_length=100)
    paths = models.PositiveIntegerField(_("模拟路径数"))
    seed = models.BigIntegerField(_("随机种子"))
    horizon_years = models.PositiveSmallIntegerField(_("测算年数"), default=1)
    scenarios = models.JSONField(_("情景参数"), default=list)
    results = models.JSONField(_("测算结果"), default=list)
    portfolio = models.JSONField(_("资产组合概况"), default=dict)
    duration_ms = models.PositiveIntegerField(_("耗时（毫秒）"), default=0)
    created_by = models.ForeignKey(
        _USER,
        verbose_name=_("测算人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("测算时间"), default=timezone.now, db_index=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("资金充足性测算")
        verbose_name_plural = _("资金充足性测算")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name
