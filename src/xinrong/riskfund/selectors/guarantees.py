"""Reads of guarantors' 代偿: backed loans that went bad, the 代偿, the loss order in words."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts.permissions import can
from xinrong.common.errors import NotFoundError
from xinrong.common.templatetags.money import amount_text
from xinrong.marketplace.choices import GuaranteeRequestStatus
from xinrong.marketplace.models import GuaranteeRequest
from xinrong.marketplace.rules import guarantee_provider
from xinrong.riskfund import arithmetic
from xinrong.riskfund.choices import PayoutStatus
from xinrong.riskfund.eligibility import application_coverage
from xinrong.riskfund.models import GuarantorPayout, GuarantorPayoutEvent, GuarantorRecovery
from xinrong.riskfund.selectors.loans import guarantor_paid_for
from xinrong.riskfund.services.guarantees import SETTLE_STATUSES, payout_room
from xinrong.riskfund.workflows.guarantees import EVENT_LABELS

ZERO = Decimal("0.00")
VIEW = "riskfund.payouts_view"

# Tabs of the 代偿 page: still to settle, settled (live 代偿), every backed bad loan.
TAB_TODO, TAB_DONE, TAB_ALL = "todo", "done", "all"


def backed_bad_loans(*, user: Any, tab: str = TAB_TODO) -> QuerySet[GuaranteeRequest]:
    """Issued guarantees the user may see whose loan is overdue or defaulted, with whether a live
    代偿 exists (``has_payout``); oldest default first."""
    live = GuarantorPayout.objects.filter(guarantee=OuterRef("pk"), status=PayoutStatus.RECORDED)
    qs = (
        GuaranteeRequest.objects.restrict(user)
        .filter(
            status=GuaranteeRequestStatus.ISSUED,
            application__loan__status__in=SETTLE_STATUSES,
        )
        .select_related(
            "application__loan", "application__entity", "application__institution", "provider"
        )
        .annotate(has_payout=Exists(live))
        .prefetch_related(
            Prefetch(
                "payouts",
                queryset=GuarantorPayout.objects.filter(status=PayoutStatus.RECORDED),
                to_attr="live_payouts",
            )
        )
    )
    if tab == TAB_TODO:
        qs = qs.filter(has_payout=False)
    elif tab == TAB_DONE:
        qs = qs.filter(has_payout=True)
    return qs.order_by("application__loan__defaulted_on", "application__loan__id", "id")


def backed_get(*, user: Any, pk: int) -> GuaranteeRequest:
    """One visible issued guarantee on an overdue or defaulted loan, or 404."""
    found = backed_bad_loans(user=user, tab=TAB_ALL).filter(pk=pk).first()
    if found is None:
        raise NotFoundError(
            "not_found", _("没有可登记代偿的担保/保险（须已出函，且贷款已逾期或违约）")
        )
    return found


def payouts_visible(*, user: Any) -> QuerySet[GuarantorPayout]:
    """The 代偿 the user may see, newest first."""
    return (
        GuarantorPayout.objects.restrict(user)
        .select_related("loan__entity", "loan__institution", "provider", "guarantee__product")
        .annotate(recovered=Sum("recoveries__amount"))
        .order_by("-paid_on", "-id")
    )


def payout_get(*, user: Any, pk: int) -> GuarantorPayout:
    """One visible 代偿, or 404 (never reveal another's)."""
    found = payouts_visible(user=user).filter(pk=pk).first()
    if found is None:
        raise NotFoundError("not_found", _("代偿记录不存在"))
    return found


def payout_events(payout: GuarantorPayout) -> list[GuarantorPayoutEvent]:
    """The 代偿's timeline, oldest first, each event with its ``label`` in words."""
    events = list(payout.events.select_related("actor").order_by("created_at", "id"))
    for e in events:
        e.label = str(EVENT_LABELS.get(e.kind, e.kind))  # type: ignore[attr-defined]
    return events


def payout_recoveries(payout: GuarantorPayout) -> QuerySet[GuarantorRecovery]:
    return payout.recoveries.select_related("recorded_by").order_by("recovered_on", "id")


@dataclass(frozen=True)
class LossOrder:
    """A guaranteed loan's loss in the order it is borne, with the sentence that says it."""

    loss: Decimal  # the loan's outstanding principal
    guarantor_paid: Decimal  # Σ live 代偿 (taken first)
    base: Decimal  # what remains
    covered: bool  # the fund would share the base
    share_text: str  # "3:7"
    fund_share: Decimal  # the fund's share of the base if the lender claims
    lender_share: Decimal
    fund_name: str
    reasons: tuple[str, ...]

    @property
    def words(self) -> str:
        if self.covered:
            return _(
                "贷款损失 %(loss)s − 担保代偿 %(paid)s = 分担基数 %(base)s；"
                "若放款机构申请风险补偿，%(fund)s按 %(share)s 分担 %(f)s，放款机构承担 %(l)s"
            ) % {
                "loss": amount_text(self.loss),
                "paid": amount_text(self.guarantor_paid),
                "base": amount_text(self.base),
                "fund": self.fund_name,
                "share": self.share_text,
                "f": amount_text(self.fund_share),
                "l": amount_text(self.lender_share),
            }
        return _(
            "贷款损失 %(loss)s − 担保代偿 %(paid)s = 余额 %(base)s，本笔贷款不在风险补偿范围，"
            "余额由放款机构承担"
        ) % {
            "loss": amount_text(self.loss),
            "paid": amount_text(self.guarantor_paid),
            "base": amount_text(self.base),
        }


def loss_order(loan: Any) -> LossOrder:
    """The loss order of a loan: its outstanding, the guarantors' 代偿 first, the fund's share of
    what remains (judged by the rules in force on the loan's date; principal only — the claim
    adds interest where the rules cover it)."""
    cover = application_coverage(loan.application)
    paid = guarantor_paid_for(loan)
    share = cover.share if cover.covered and cover.share is not None else ZERO
    figures = arithmetic.claim_figures(
        loss_principal=loan.outstanding,
        loss_interest=ZERO,
        guarantor_paid=paid,
        share=share,
        covers_interest=False,
    )
    return LossOrder(
        loss=figures.loss_principal,
        guarantor_paid=figures.guarantor_paid,
        base=figures.base,
        covered=cover.covered,
        share_text=cover.share_text if cover.covered else "",
        fund_share=figures.amount,
        lender_share=figures.base - figures.amount,
        fund_name=cover.fund.name if cover.fund is not None else "",
        reasons=cover.reasons,
    )


def room_for(guarantee: GuaranteeRequest) -> Decimal:
    """The most the guarantor may record on this guarantee now."""
    return payout_room(guarantee, guarantee.application.loan)


def guarantor_card(user: Any, limit: int = 5) -> dict[str, Any] | None:
    """The guarantor's workbench: bad loans to settle, 代偿 this year, recovered (None if the user
    is not a guarantor or insurer)."""
    if not (guarantee_provider(user) and can(user, VIEW)):
        return None
    todo = backed_bad_loans(user=user, tab=TAB_TODO)
    year = timezone.localdate().year
    live = GuarantorPayout.objects.restrict(user).filter(status=PayoutStatus.RECORDED)
    this_year = live.filter(paid_on__year=year).aggregate(s=Sum("amount"))["s"] or ZERO
    recovered = (
        GuarantorRecovery.objects.filter(payout__in=live).aggregate(s=Sum("amount"))["s"] or ZERO
    )
    paid_total = live.aggregate(s=Sum("amount"))["s"] or ZERO
    return {
        "todo": todo.count(),
        "todo_amount": todo.aggregate(s=Sum("application__loan__outstanding"))["s"] or ZERO,
        "rows": list(todo[:limit]),
        "year": year,
        "paid_year": this_year,
        "paid_total": paid_total,
        "recovered": recovered,
    }
