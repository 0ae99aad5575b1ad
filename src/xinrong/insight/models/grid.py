"""The 甘霖 grid programme: field officers' door-to-door visits and the merchant credit files
built from the visits where the merchant consented."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from xinrong.common.access import RestrictedQuerySet
from xinrong.common.models import TimeStampedModel

_USER = settings.AUTH_USER_MODEL


class VisitResult(models.TextChoices):
    """What came of one door-to-door visit."""

    INTENT = "intent", _("已建档意向")
    REFUSED = "refused", _("拒绝")
    NOT_MET = "not_met", _("未遇到")


class RefusalReason(models.TextChoices):
    """Why a visit did not lead to a credit file."""

    OWNER_ABSENT = "owner_absent", _("店主不在")
    WRONG_DETAILS = "wrong_details", _("信息有误")
    UNWILLING = "unwilling", _("不愿意")
    OTHER = "other", _("其他")


class GridVisit(TimeStampedModel):
    """One field officer's (网格员) visit to one merchant."""

    officer = models.ForeignKey(
        _USER, verbose_name=_("网格员"), on_delete=models.PROTECT, related_name="grid_visits"
    )
    organisation = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("所属单位"),
        on_delete=models.PROTECT,
        related_name="grid_visits",
    )
    visited_on = models.DateField(_("走访日期"), db_index=True)
    merchant_name = models.CharField(_("商户名称"), max_length=200)
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, blank=True, default="")
    division_code = models.CharField(_("社区/村"), max_length=12, db_index=True)
    address = models.CharField(_("详细地址"), max_length=255, blank=True, default="")
    result = models.CharField(_("走访结果"), max_length=12, choices=VisitResult.choices)
    consent = models.BooleanField(_("同意建立信用档案"), default=False)
    consent_at = models.DateTimeField(_("同意时间"), null=True, blank=True)
    refusal_reason = models.CharField(
        _("未建档原因"), max_length=16, choices=RefusalReason.choices, blank=True, default=""
    )
    refusal_note = models.CharField(_("原因说明"), max_length=200, blank=True, default="")

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("网格走访")
        verbose_name_plural = _("网格走访")
        ordering = ["-visited_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(consent=False) | Q(consent_at__isnull=False),
                name="insight_gridvisit_consent_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(result="intent") | Q(refusal_reason=""),
                name="insight_gridvisit_intent_no_reason",
            ),
        ]
        indexes = [models.Index(fields=["organisation", "visited_on"], name="insight_gv_org_day")]

    def __str__(self) -> str:
        return f"{self.merchant_name} · {self.visited_on}"


class MerchantFile(TimeStampedModel):
    """The merchant credit file built from a consenting visit: the visit and the entity."""

    visit = models.OneToOneField(
        GridVisit, verbose_name=_("走访记录"), on_delete=models.PROTECT, related_name="file"
    )
    entity = models.ForeignKey(
        "enterprises.MarketEntity",
        verbose_name=_("市场主体"),
        on_delete=models.PROTECT,
        related_name="grid_files",
    )
    built_at = models.DateTimeField(_("建档时间"))
    built_by = models.ForeignKey(
        _USER, verbose_name=_("建档人"), on_delete=models.PROTECT, related_name="+"
    )
    entity_created = models.BooleanField(_("新登记主体"), default=False)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("商户信用档案")
        verbose_name_plural = _("商户信用档案")
        ordering = ["-built_at", "-id"]

    def __str__(self) -> str:
        return f"{self.entity} · {self.visit}"
