"""The ratings panel on the loan application page (marketplace's slot, see common.slots):
the loan's ratings the user may see, and buttons to rate the other side when it is due."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string

from xinrong.accounts.permissions import can
from xinrong.common.slots import slot_register
from xinrong.evaluations.choices import RatingStage
from xinrong.evaluations.models import Rating
from xinrong.evaluations.selectors.ratings import stages_open

SLOT = "marketplace.application_detail"
KEY = "evaluations.ratings"


def ratings_panel(request: HttpRequest, app: Any) -> str:
    """Ratings of the application's loan ("" before disbursement or for outsiders)."""
    user = getattr(request, "user", None)
    loan = getattr(app, "loan", None) if app is not None else None
    if user is None or loan is None or not getattr(user, "is_authenticated", False):
        return ""
    may_rate = can(user, "evaluations.rate", loan)
    ratings = [
        r for r in Rating.objects.filter(loan=loan) if can(user, "evaluations.rating_view", r)
    ]
    if not may_rate and not ratings:
        return ""
    stages = [(s, RatingStage(s).label) for s in stages_open(user, loan)] if may_rate else []
    return render_to_string(
        "evaluations/_loan_panel.html",
        {"loan": loan, "ratings": ratings, "stages": stages},
        request=request,
    )


def register() -> None:
    slot_register(SLOT, KEY, ratings_panel)
