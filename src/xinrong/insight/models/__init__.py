"""Models of insight: 信用创评 records (heat maps), the 甘霖 programme's visits and files,
the statistics summary."""

from xinrong.insight.models.campaigns import CampaignRecord
from xinrong.insight.models.grid import GridVisit, MerchantFile, RefusalReason, VisitResult
from xinrong.insight.models.statistics import (
    StatisticsCell,
    StatisticsGrain,
    StatisticsSource,
    StatisticsSummaryState,
)

__all__ = [
    "CampaignRecord",
    "GridVisit",
    "MerchantFile",
    "RefusalReason",
    "StatisticsCell",
    "StatisticsGrain",
    "StatisticsSource",
    "StatisticsSummaryState",
    "VisitResult",
]
