"""Models of 统计与洞察."""

from xinrong.insight.models.campaigns import CampaignRecord

__all__ = ["CampaignRecord"]
