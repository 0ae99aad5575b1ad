"""Models of credit, one module per subdomain; every model is imported here so Django finds it."""

from xinrong.credit.models.archive import Authorisation, QueryLog
from xinrong.credit.models.cultivation import CultivationCase, CultivationEvent
from xinrong.credit.models.disputes import Dispute, DisputeEvent, DisputeEvidence, EvidenceFile
from xinrong.credit.models.early_warning import (
    Alert,
    LoanWatch,
    WarningRuleChange,
    WarningRuleSetting,
)
from xinrong.credit.models.lists import (
    BlacklistEntry,
    BlacklistSource,
    FraudReport,
    FraudReportEvent,
    FraudStatus,
    RecommendConsent,
    WhitelistCriteria,
    WhitelistEntry,
)
from xinrong.credit.models.repair import RepairApplication, RepairEvent, RepairEvidence
from xinrong.credit.models.reports import CreditReport
from xinrong.credit.models.scoring import (
    DIMENSION_CODES,
    CreditProfile,
    ModelEvent,
    PendingRescore,
    ScoreModel,
    ScoringRun,
)

__all__ = [
    "DIMENSION_CODES",
    "Alert",
    "Authorisation",
    "BlacklistEntry",
    "BlacklistSource",
    "CreditProfile",
    "CreditReport",
    "CultivationCase",
    "CultivationEvent",
    "Dispute",
    "DisputeEvent",
    "DisputeEvidence",
    "EvidenceFile",
    "FraudReport",
    "FraudReportEvent",
    "FraudStatus",
    "LoanWatch",
    "ModelEvent",
    "PendingRescore",
    "QueryLog",
    "RecommendConsent",
    "RepairApplication",
    "RepairEvent",
    "RepairEvidence",
    "ScoreModel",
    "ScoringRun",
    "WarningRuleChange",
    "WarningRuleSetting",
    "WhitelistCriteria",
    "WhitelistEntry",
]
