"""The 融资评价 card of the home pages: loans waiting for the user's rating, the own reputation,
appeals waiting for the operator."""

from __future__ import annotations

from typing import Any

from xinrong.accounts.permissions import can
from xinrong.evaluations.choices import AppealStatus, RatingDirection
from xinrong.evaluations.models import RatingAppeal
from xinrong.evaluations.selectors.ratings import pending_ratings, side_of
from xinrong.marketplace.models import Reputation

CARD_ROWS = 5


def ratings_card(user: Any) -> dict[str, Any]:
    """Context for ``evaluations/workbench/_card.html``: ``ratings_card`` None when the user
    neither rates nor decides appeals."""
    card: dict[str, Any] = {}
    side = side_of(user)
    if side is not None and can(user, "evaluations.pending_view"):
        pending = pending_ratings(user)
        card["pending"] = pending[:CARD_ROWS]
        card["pending_total"] = len(pending)
        if side == RatingDirection.OF_INSTITUTION:
            entity = getattr(user.organisation, "market_entity", None)
            card["reputation"] = (
                Reputation.objects.filter(entity=entity).first() if entity is not None else None
            )
        else:
            card["reputation"] = Reputation.objects.filter(
                institution_id=user.organisation_id
            ).first()
            card["is_institution"] = True
    if can(user, "evaluations.appeal_queue"):
        card["appeals_waiting"] = (
            RatingAppeal.objects.restrict(user).filter(status=AppealStatus.SUBMITTED).count()
        )
    return {"ratings_card": card or None}
