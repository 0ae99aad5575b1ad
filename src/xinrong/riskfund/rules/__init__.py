"""Who may see and do what in the risk-compensation fund (declared per subdomain)."""

from xinrong.riskfund.rules import (  # noqa: F401
    claims,
    eligibility,
    funds,
    guarantees,
    simulation,
)
