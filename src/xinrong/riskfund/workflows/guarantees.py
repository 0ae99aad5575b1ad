"""Workflows of the risk fund: guarantors' 代偿 (recorded, reversed) and their recoveries.

A 代偿 is born 已代偿 (``services.guarantees.payout_record`` writes its first event, ``recorded``);
the guarantor may then

- ``reverse`` a wrong one (冲销, with the reason) while no claim of the lender relies on it and
  before any recovery was recorded on it: it becomes 已冲销 and the loss order no longer counts it;
- ``recover``: record money it got back from the borrower afterwards (its own; the status stays).

The guards run under the payout's lock (the service has locked the guarantee and the loan first:
lock order guarantee → loan → payout).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xinrong.common.errors import ConflictError
from xinrong.riskfund.choices import ClaimStatus, PayoutStatus
from xinrong.riskfund.models import Claim, GuarantorPayout, GuarantorPayoutEvent
from xinrong.riskfund.rules.guarantees import own_backing, payout_handler
from xinrong.workflows.kernel import Action, Workflow, register

P = PayoutStatus
# A claim whose base already took the 代偿 into account (or is about to be paid on it).
CLAIM_LIVE = (ClaimStatus.SUBMITTED, ClaimStatus.IN_REVIEW, ClaimStatus.PAID)

# The events of a 代偿's timeline, in words.
RECORDED, REVERSED, RECOVERED = "recorded", "reversed", "recovered"
EVENT_LABELS = {
    RECORDED: gettext_lazy("登记代偿"),
    REVERSED: gettext_lazy("冲销代偿"),
    RECOVERED: gettext_lazy("登记追偿"),
}
WHO = gettext_lazy("登记代偿的担保、保险机构的业务人员")


def live_claim(loan_id: int) -> Claim | None:
    """The loan's claim whose base depends on the 代偿 (being examined or paid), if any."""
    return Claim.objects.filter(loan_id=loan_id, status__in=CLAIM_LIVE).order_by("-id").first()


def _no_claim_relies(payout: GuarantorPayout, ctx: Mapping[str, Any]) -> None:
    """Guard: a claim being examined or paid computed its base after this 代偿."""
    claim = live_claim(payout.loan_id)
    if claim is not None:
        raise ConflictError(
            "claim_live",
            _("放款机构的风险补偿申请 %(n)s（%(s)s）的补偿基数已扣除本笔代偿，不能冲销")
            % {"n": claim.number, "s": claim.get_status_display()},
            {"field": "payout"},
        )


def _not_recovered(payout: GuarantorPayout, ctx: Mapping[str, Any]) -> None:
    """Guard: a 代偿 the guarantor has already recovered money on stays."""
    if payout.recoveries.exists():
        raise ConflictError(
            "payout_recovered", _("本笔代偿已登记追偿，不能冲销"), {"field": "payout"}
        )


def _link(payout: GuarantorPayout) -> str:
    return reverse("riskfund:payout_detail", args=[payout.pk])


PAYOUT = register(
    Workflow(
        name="riskfund.payout",
        label=gettext_lazy("担保代偿"),
        model=GuarantorPayout,
        event_model=GuarantorPayoutEvent,
        event_fk="payout",
        statuses=PayoutStatus,
        link=_link,
        refused_code="payout_not_live",
        actions=(
            Action(
                "reverse",
                (P.RECORDED,),
                P.REVERSED,
                payout_handler & own_backing,
                gettext_lazy("冲销代偿"),
                event=REVERSED,
                needs_note=True,
                guards=(_no_claim_relies, _not_recovered),
                who=WHO,
            ),
            Action(
                "recover",
                (P.RECORDED,),
                None,
                payout_handler & own_backing,
                gettext_lazy("登记追偿"),
                event=RECOVERED,
                who=gettext_lazy("代偿的担保、保险机构的业务人员"),
            ),
        ),
    )
)
