"""The central bank's column: re-lending and rediscount quotas per institution and their use."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from xinrong.common.access import RestrictedQuerySet
from xinrong.common.models import TimeStampedModel
from xinrong.policies.choices import PbocTool


class PbocQuota(TimeStampedModel):
    """A quota of one central-bank tool granted to an institution for a year."""

    institution = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("金融机构"),
        on_delete=models.PROTECT,
        related_name="pboc_quotas",
    )
    tool = models.CharField(_("政策工具"), max_length=24, choices=PbocTool.choices)
    year = models.PositiveIntegerField(_("年度"))
    quota = models.DecimalField(_("额度（元）"), max_digits=16, decimal_places=2)
    rate = models.DecimalField(
        _("利率（%）"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    note = models.CharField(_("说明"), max_length=300, blank=True, default="")

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("央行政策工具额度")
        verbose_name_plural = _("央行政策工具额度")
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "tool", "year"], name="pboc_quota_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.institution_id} {self.tool} {self.year}"


class PbocQuotaUse(models.Model):
    """A platform loan funded under a quota (a loan is funded under one quota at most)."""

    quota = models.ForeignKey(
        PbocQuota, verbose_name=_("额度"), on_delete=models.PROTECT, related_name="uses"
    )
    loan = models.OneToOneField(
        "marketplace.Loan", verbose_name=_("贷款"), on_delete=models.PROTECT, related_name="+"
    )
    amount = models.DecimalField(_("使用金额（元）"), max_digits=16, decimal_places=2)
    used_on = models.DateField(_("使用日期"))

    class Meta:
        verbose_name = _("额度使用")
        verbose_name_plural = _("额度使用")

    def __str__(self) -> str:
        return f"{self.quota_id}:{self.loan_id}"
