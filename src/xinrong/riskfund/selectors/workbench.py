"""The risk fund's workbench cards, gathered for the home pages (each None when not the user's
business): the funds, the claims (an institution's own, or the steps an approver holds), the
institution's circuit-breaker standing and a guarantor's defaulted loans to settle."""

from __future__ import annotations

from typing import Any

from xinrong.riskfund.selectors.claims import claims_card
from xinrong.riskfund.selectors.funds import fund_card
from xinrong.riskfund.selectors.guarantees import guarantor_card
from xinrong.riskfund.selectors.rules import breaker_card


def riskfund_cards(user: Any) -> dict[str, Any]:
    """Context for ``riskfund/workbench/_cards.html``."""
    cards: dict[str, Any] = {
        "riskfund_funds": fund_card(user=user),
        "claims_card": claims_card(user),
        "breaker": breaker_card(user),
        "guarantor_card": guarantor_card(user),
    }
    cards["riskfund_any"] = any(v is not None for v in cards.values())
    return cards
