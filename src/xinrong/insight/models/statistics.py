"""The statistics dashboard's summary (统计汇总): set-wise aggregates of past complete months.

Cells per source and month and county division at three grains (``StatisticsGrain``): with the
industry section; with the institution and product; with the institution and industry section.
Each holds the additive figures of ``insight.selectors.statistics.Row``. Written only by
``insight.services.statistics.summary_refresh`` (delete + one ``INSERT … SELECT … GROUP BY`` per
source, in one transaction); read by the dashboard for the complete months before
``StatisticsSummaryState.through``, the rest of a period being computed live.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class StatisticsSource(models.TextChoices):
    REGISTRATIONS = "E", _("入驻企业")
    DEMANDS = "D", _("融资需求")
    APPLICATIONS = "A", _("贷款申请")
    LOANS = "L", _("放款")


class StatisticsGrain(models.TextChoices):
    """Which keys a cell keeps (a table groups by one dimension, so no cell needs all five)."""

    COUNTY_INDUSTRY = "N", _("月 × 区县 × 行业")  # every source; no institution filter
    LENDER_PRODUCT = "P", _("月 × 区县 × 机构 × 产品")  # applications and loans
    LENDER_INDUSTRY = "I", _("月 × 区县 × 机构 × 行业")  # applications and loans


class StatisticsCell(models.Model):
    """One source's figures for one month and county and the keys of its grain."""

    grain = models.CharField(_("粒度"), max_length=1, choices=StatisticsGrain.choices)
    source = models.CharField(_("来源"), max_length=1, choices=StatisticsSource.choices)
    month = models.DateField(_("月份"))  # first day of the Beijing month
    division_code = models.CharField(_("行政区划"), max_length=12, null=True, blank=True)  # noqa: DJ001  (as the source)
    industry = models.CharField(_("行业门类"), max_length=1, null=True, blank=True)  # noqa: DJ001
    institution_id = models.BigIntegerField(_("机构"), null=True, blank=True)
    product_id = models.BigIntegerField(_("产品"), null=True, blank=True)
    registrations = models.IntegerField(default=0)
    demands = models.IntegerField(default=0)
    demands_answered = models.IntegerField(default=0)
    answer_seconds = models.FloatField(default=0)
    applications = models.IntegerField(default=0)
    approvals = models.IntegerField(default=0)
    approvals_timed = models.IntegerField(default=0)
    approval_seconds = models.FloatField(default=0)
    loans = models.IntegerField(default=0)
    amount = models.DecimalField(max_digits=22, decimal_places=2, default=0)
    rate_weight = models.DecimalField(max_digits=28, decimal_places=4, default=0)
    first_loans = models.IntegerField(default=0)
    renewals = models.IntegerField(default=0)
    overdue = models.IntegerField(default=0)
    overdue_balance = models.DecimalField(max_digits=22, decimal_places=2, default=0)
    npl = models.IntegerField(default=0)
    npl_balance = models.DecimalField(max_digits=22, decimal_places=2, default=0)

    objects: models.Manager[StatisticsCell] = models.Manager()

    class Meta:
        verbose_name = _("统计汇总")
        verbose_name_plural = _("统计汇总")
        indexes = [
            models.Index(fields=["grain", "month", "division_code"], name="insight_statcell_idx"),
            models.Index(
                fields=["grain", "institution_id", "month"], name="insight_statcell_inst_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.grain}{self.source} {self.month:%Y-%m} {self.division_code or '-'}"


class StatisticsSummaryState(models.Model):
    """The one row saying which months the summary holds: every month before ``through``."""

    through = models.DateField(_("汇总截至(不含)"))
    refreshed_at = models.DateTimeField(_("刷新时间"))
    seconds = models.FloatField(_("用时(秒)"), default=0)
    cells = models.IntegerField(_("格数"), default=0)

    objects: models.Manager[StatisticsSummaryState] = models.Manager()

    class Meta:
        verbose_name = _("统计汇总状态")
        verbose_name_plural = _("统计汇总状态")

    def __str__(self) -> str:
        return f"{self.through:%Y-%m} @ {self.refreshed_at:%Y-%m-%d %H:%M}"
