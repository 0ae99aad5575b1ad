"""Eligibility as versioned data (补偿规则): each loan is judged by the rules in force when it
was made; a change is a new version effective from a date, never an edit of one in use."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinrong.common.access import RestrictedQuerySet
from xinrong.riskfund.choices import BreakerState
from xinrong.riskfund.models.funds import Fund

_USER = settings.AUTH_USER_MODEL


def _default_entity_types() -> list[str]:
    return ["enterprise"]


def _default_sizes() -> list[str]:
    return ["small", "micro"]


def _default_loan_kinds() -> list[str]:
    return ["credit", "first"]


class RuleSet(models.Model):
    """One version of a fund's compensation rules, in force from ``effective_from``."""

    fund = models.ForeignKey(
        Fund, verbose_name=_("基金"), on_delete=models.PROTECT, related_name="rule_sets"
    )
    version = models.PositiveIntegerField(_("版本"))
    effective_from = models.DateField(_("生效日期"))
    loan_cap = models.DecimalField(
        _("单笔贷款金额上限（元）"), max_digits=16, decimal_places=2, default=Decimal("5000000")
    )
    entity_types = models.JSONField(
        _("覆盖的主体类型"),
        default=_default_entity_types,
        help_text=_("企业、个体工商户中的一种或两种"),
    )
    sizes = models.JSONField(
        _("覆盖的企业规模"),
        default=_default_sizes,
        help_text=_("只对企业适用；个体工商户按主体类型判断"),
    )
    loan_kinds = models.JSONField(
        _("覆盖的贷款种类"), default=_default_loan_kinds, help_text=_("贷款符合其中任一种即可纳入")
    )
    gov_share = models.DecimalField(
        _("政府分担比例"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.300"),
        help_text=_("0.3 即政府:银行 = 3:7"),
    )
    covers_interest = models.BooleanField(_("补偿利息损失"), default=False)
    min_overdue_days = models.PositiveIntegerField(_("逾期多少天可申请补偿"), default=90)
    institution_year_cap = models.DecimalField(
        _("每家机构每年补偿上限（元）"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    breaker_threshold = models.DecimalField(
        _("熔断不良率（%）"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("机构平台贷款不良率高于此值时暂停对其补偿；空为不设熔断"),
    )
    note = models.TextField(_("调整说明"), blank=True, default="")
    created_by = models.ForeignKey(
        _USER,
        verbose_name=_("设定人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("设定时间"), default=timezone.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("补偿规则")
        verbose_name_plural = _("补偿规则")
        ordering = ["fund_id", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["fund", "version"], name="riskfund_rules_version"),
            models.UniqueConstraint(
                fields=["fund", "effective_from"], name="riskfund_rules_one_per_day"
            ),
            models.CheckConstraint(
                condition=Q(gov_share__gt=0) & Q(gov_share__lte=1),
                name="riskfund_rules_share_range",
            ),
            models.CheckConstraint(condition=Q(loan_cap__gt=0), name="riskfund_rules_cap_pos"),
        ]

    def __str__(self) -> str:
        return f"{self.fund} v{self.version}"


class InstitutionLimit(models.Model):
    """A per-institution yearly compensation limit under one rule set (overrides the default)."""

    rule_set = models.ForeignKey(
        RuleSet, verbose_name=_("补偿规则"), on_delete=models.CASCADE, related_name="limits"
    )
    institution = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("金融机构"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    year_cap = models.DecimalField(_("每年补偿上限（元）"), max_digits=16, decimal_places=2)

    class Meta:
        verbose_name = _("机构补偿限额")
        verbose_name_plural = _("机构补偿限额")
        constraints = [
            models.UniqueConstraint(
                fields=["rule_set", "institution"], name="riskfund_limit_one_per_institution"
            ),
            models.CheckConstraint(condition=Q(year_cap__gte=0), name="riskfund_limit_nonneg"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_set} · {self.institution_id}"


class BreakerEvent(models.Model):
    """The circuit breaker of one institution under one fund tripped or reset (熔断/恢复)."""

    fund = models.ForeignKey(
        Fund, verbose_name=_("基金"), on_delete=models.CASCADE, related_name="breaker_events"
    )
    institution = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("金融机构"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    state = models.CharField(_("状态"), max_length=12, choices=BreakerState.choices)
    ratio = models.DecimalField(_("不良率（%）"), max_digits=6, decimal_places=2)
    threshold = models.DecimalField(_("熔断线（%）"), max_digits=5, decimal_places=2)
    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("熔断记录")
        verbose_name_plural = _("熔断记录")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["fund", "institution", "-at"], name="riskfund_breaker_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.institution_id} {self.state}"
