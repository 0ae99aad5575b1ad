from xinrong.policies.models.catalogue import (
    Measure,
    MeasureEvent,
    MeasureVersion,
    PolicyDocument,
    PolicyDocumentEvent,
)
from xinrong.policies.models.fund_events import AutoListEvent, FundEvent
from xinrong.policies.models.funds import (
    AutoGrantEntry,
    AutoGrantList,
    FundApplication,
    FundMaterial,
    Grant,
    SubsidyBatch,
    SubsidyLine,
)
from xinrong.policies.models.matching import CalculatorQuery, PolicyMatch, PushMute
from xinrong.policies.models.pboc import PbocQuota, PbocQuotaUse
from xinrong.policies.models.subsidy import SubsidyBatchEvent

__all__ = [
    "AutoGrantEntry",
    "AutoGrantList",
    "AutoListEvent",
    "CalculatorQuery",
    "FundApplication",
    "FundEvent",
    "FundMaterial",
    "Grant",
    "Measure",
    "MeasureEvent",
    "MeasureVersion",
    "PbocQuota",
    "PbocQuotaUse",
    "PolicyDocument",
    "PolicyDocumentEvent",
    "PolicyMatch",
    "PushMute",
    "SubsidyBatch",
    "SubsidyBatchEvent",
    "SubsidyLine",
]
