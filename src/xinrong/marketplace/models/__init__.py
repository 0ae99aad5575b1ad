"""The marketplace's models, one module per subdomain; all are imported here for Django."""

from xinrong.marketplace.models.applications import ApplicationEvent, LoanApplication
from xinrong.marketplace.models.capital_market import (
    DirectFinancingCase,
    InvestorInterest,
    ReserveCandidate,
    ReserveEvent,
)
from xinrong.marketplace.models.demands import Demand, DemandEvent
from xinrong.marketplace.models.guarantees import GuaranteeRequest, GuaranteeRequestEvent
from xinrong.marketplace.models.loans import Loan, LoanInstalment, LoanSubsidy, Repayment
from xinrong.marketplace.models.products import Product, ProductEvent, ProductVersion
from xinrong.marketplace.models.reputation import PartyKind, Reputation

__all__ = [
    "ApplicationEvent",
    "Demand",
    "DemandEvent",
    "DirectFinancingCase",
    "GuaranteeRequest",
    "GuaranteeRequestEvent",
    "InvestorInterest",
    "Loan",
    "LoanApplication",
    "LoanInstalment",
    "LoanSubsidy",
    "PartyKind",
    "Product",
    "ProductEvent",
    "ProductVersion",
    "Repayment",
    "Reputation",
    "ReserveCandidate",
    "ReserveEvent",
]
