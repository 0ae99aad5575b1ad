"""Panels the risk fund shows on lower apps' pages (see xinrong.common.slots).

The loan application page (marketplace) shows the lender whether the loan is, or would be,
covered by a risk-compensation fund, and every reason why not: before disbursement judged by the
rules in force today at the amount approved (or asked); after, by the rules in force on the
disbursement day. The enterprise does not see it (riskfund.coverage_view).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone

from xinrong.accounts.permissions import can
from xinrong.common.slots import slot_register
from xinrong.riskfund.breaker import breaker_for
from xinrong.riskfund.eligibility import application_coverage

SLOT = "marketplace.application_detail"
KEY = "riskfund.coverage"


def coverage_panel(request: HttpRequest, app: Any) -> str:
    """The coverage verdict on a loan application, for those who may see it ("" otherwise)."""
    user = getattr(request, "user", None)
    if user is None or not can(user, "riskfund.coverage_view", app):
        return ""
    loan = getattr(app, "loan", None)
    verdict = application_coverage(app)
    judged_on = loan.disbursed_on if loan is not None else timezone.localdate()
    breaker = None
    if verdict.fund is not None:
        breaker = breaker_for(verdict.fund, app.institution_id)
    return render_to_string(
        "riskfund/rules/_coverage.html",
        {
            "verdict": verdict,
            "judged_on": judged_on,
            "disbursed": loan is not None,
            "amount": loan.principal if loan is not None else (app.approved_amount or app.amount),
            "breaker": breaker,
            "can_read_rules": verdict.fund is not None
            and can(user, "riskfund.rules_view", verdict.fund),
        },
        request=request,
    )


def register() -> None:
    """Register the risk fund's coverage panel on the loan application page (apps.ready)."""
    slot_register(SLOT, KEY, coverage_panel)
