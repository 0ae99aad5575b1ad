"""Workflows of the risk-compensation fund (registered with the kernel at start-up)."""

from xinrong.riskfund.workflows import claims, guarantees  # noqa: F401
