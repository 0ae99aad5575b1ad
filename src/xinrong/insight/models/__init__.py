"""Models of 统计与洞察."""

from xinrong.insight.models.grid import GridVisit, MerchantFile, RefusalReason, VisitResult

__all__ = ["GridVisit", "MerchantFile", "RefusalReason", "VisitResult"]
