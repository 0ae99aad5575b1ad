"""The loss order on the loan application page (slot ``marketplace.application_detail``, key
``riskfund.guarantee``): for an application with an issued guarantee or insurance, "担保机构先代偿，
余额再按 3:7 分担", and once the loan has gone bad and a 代偿 is recorded, the figures in words.

Shown to whoever sees the issued guarantee on that page (the enterprise, the lender, the provider,
the operator: ``GuaranteeRequest.objects.restrict``); nothing for an application without one.
The lead calls :func:`register` from ``RiskfundConfig.ready``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse

from xinrong.accounts.permissions import can
from xinrong.common.slots import slot_register
from xinrong.marketplace.choices import GuaranteeRequestStatus
from xinrong.marketplace.models import GuaranteeRequest
from xinrong.riskfund.choices import PayoutStatus
from xinrong.riskfund.eligibility import application_coverage
from xinrong.riskfund.models import GuarantorPayout

SLOT = "marketplace.application_detail"
KEY = "riskfund.guarantee"


def guarantee_panel(request: HttpRequest, app: Any) -> str:
    """The loss-order panel for ``app``, or "" if the user sees no issued guarantee on it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    guarantees = list(
        GuaranteeRequest.objects.restrict(user)
        .filter(application=app, status=GuaranteeRequestStatus.ISSUED)
        .select_related("provider")
        .order_by("id")
    )
    if not guarantees:
        return ""
    from xinrong.riskfund.selectors.guarantees import loss_order

    loan = getattr(app, "loan", None)
    order = None
    payouts_link = ""
    if (
        loan is not None
        and GuarantorPayout.objects.filter(loan=loan, status=PayoutStatus.RECORDED).exists()
    ):
        order = loss_order(loan)
        if can(user, "riskfund.payouts_view"):
            payouts_link = reverse("riskfund:payouts") + "?tab=done"
    return render_to_string(
        "riskfund/guarantees/_slot.html",
        {
            "guarantees": guarantees,
            "cover": application_coverage(app),
            "order": order,
            "payouts_link": payouts_link,
        },
        request=request,
    )


def register() -> None:
    """Register the panel (called once from ``RiskfundConfig.ready``)."""
    slot_register(SLOT, KEY, guarantee_panel)
