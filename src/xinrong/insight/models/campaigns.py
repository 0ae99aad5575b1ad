"""信用创评 (credit rating campaigns): credit households, villages, townships per division, year.

One row per division (county, township or village code) and year, imported from an Excel sheet
(``insight.services.campaigns.import_campaigns``); a later import of the same division and year
replaces the figures. The heat map sums rows by division-code prefix.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from xinrong.common.access import RestrictedQuerySet
from xinrong.common.models import TimeStampedModel


class CampaignRecord(TimeStampedModel):
    """The campaign's result in one division in one year."""

    division_code = models.CharField(_("行政区划代码"), max_length=12, db_index=True)
    year = models.PositiveSmallIntegerField(_("年度"))
    credit_households = models.PositiveIntegerField(_("信用户（户）"), default=0)
    credit_villages = models.PositiveIntegerField(_("信用村（个）"), default=0)
    credit_townships = models.PositiveIntegerField(_("信用乡镇（个）"), default=0)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("导入人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("信用创评记录")
        verbose_name_plural = _("信用创评记录")
        ordering = ["-year", "division_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["division_code", "year"], name="insight_campaign_division_year"
            )
        ]

    def __str__(self) -> str:
        return f"{self.division_code} · {self.year}"
