"""Models of insight: 信用创评 records (heat maps), the 甘霖 programme's visits and files."""

from xinrong.insight.models.campaigns import CampaignRecord
from xinrong.insight.models.grid import GridVisit, MerchantFile, RefusalReason, VisitResult

__all__ = ["CampaignRecord", "GridVisit", "MerchantFile", "RefusalReason", "VisitResult"]
