from xinrong.riskfund.models.claims import (
    Claim,
    ClaimEvent,
    ClaimEvidence,
    Recovery,
    RecoveryEvent,
)
from xinrong.riskfund.models.funds import Fund, LedgerEntry, LedgerLine
from xinrong.riskfund.models.guarantees import (
    GuarantorPayout,
    GuarantorPayoutEvent,
    GuarantorRecovery,
)
from xinrong.riskfund.models.rules import BreakerEvent, InstitutionLimit, RuleSet
from xinrong.riskfund.models.simulation import Simulation

__all__ = [
    "BreakerEvent",
    "Claim",
    "ClaimEvent",
    "ClaimEvidence",
    "Fund",
    "GuarantorPayout",
    "GuarantorPayoutEvent",
    "GuarantorRecovery",
    "InstitutionLimit",
    "LedgerEntry",
    "LedgerLine",
    "Recovery",
    "RecoveryEvent",
    "RuleSet",
    "Simulation",
]
