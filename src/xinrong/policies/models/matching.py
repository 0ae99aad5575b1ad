"""Which entities a measure fits, the pushes, and what an enterprise muted."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from xinrong.common.access import RestrictedQuerySet
from xinrong.policies.choices import MeasureKind


class PolicyMatch(models.Model):
    """One (measure, entity) pair the last matching pass found eligible or nearly so.

    ``missing`` lists the unmet conditions (empty when eligible) as
    ``[{"field": ..., "text": "纳税信用等级需达到B级"}]``; near misses keep at most
    ``policies.matching.NEAR_MISS`` unmet conditions. ``pushed_at`` is set once, when the
    enterprise was first told (one push per measure, never again).
    """

    measure = models.ForeignKey(
        "policies.Measure",
        verbose_name=_("支持措施"),
        on_delete=models.CASCADE,
        related_name="matches",
    )
    entity = models.ForeignKey(
        "enterprises.MarketEntity",
        verbose_name=_("市场主体"),
        on_delete=models.CASCADE,
        related_name="policy_matches",
    )
    measure_version = models.PositiveIntegerField(_("措施版本"))
    eligible = models.BooleanField(_("符合条件"), default=False)
    missing = models.JSONField(_("未满足的条件"), default=list, blank=True)
    estimated_amount = models.DecimalField(
        _("预计可获金额（元）"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    first_matched_at = models.DateTimeField(_("首次符合时间"), null=True, blank=True)
    matched_at = models.DateTimeField(_("匹配时间"))
    pushed_at = models.DateTimeField(_("推送时间"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("政策匹配")
        verbose_name_plural = _("政策匹配")
        constraints = [
            models.UniqueConstraint(fields=["measure", "entity"], name="policy_match_unique")
        ]
        indexes = [
            models.Index(fields=["entity", "eligible"], name="policy_match_entity_idx"),
            models.Index(fields=["measure", "eligible"], name="policy_match_measure_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.measure_id}:{self.entity_id}"


class PushMute(models.Model):
    """An enterprise does not want pushes of one measure kind."""

    entity = models.ForeignKey(
        "enterprises.MarketEntity",
        verbose_name=_("市场主体"),
        on_delete=models.CASCADE,
        related_name="policy_mutes",
    )
    kind = models.CharField(_("措施类型"), max_length=24, choices=MeasureKind.choices)
    created_at = models.DateTimeField(_("设置时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("政策推送屏蔽")
        verbose_name_plural = _("政策推送屏蔽")
        constraints = [
            models.UniqueConstraint(fields=["entity", "kind"], name="policy_mute_unique")
        ]

    def __str__(self) -> str:
        return f"{self.entity_id}:{self.kind}"


class CalculatorQuery(models.Model):
    """One use of the policy calculator (counted for the evidence page; answers, no identity)."""

    entity = models.ForeignKey(
        "enterprises.MarketEntity",
        verbose_name=_("市场主体"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    answers = models.JSONField(_("所答问题"), default=dict, blank=True)
    eligible = models.PositiveIntegerField(_("符合措施数"), default=0)
    near = models.PositiveIntegerField(_("接近符合措施数"), default=0)
    asked_at = models.DateTimeField(_("查询时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("政策计算器查询")
        verbose_name_plural = _("政策计算器查询")

    def __str__(self) -> str:
        return f"{self.asked_at:%Y-%m-%d} {self.eligible}"
