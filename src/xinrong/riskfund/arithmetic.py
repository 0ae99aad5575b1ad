"""The money arithmetic of compensation and recovery, to the cent (ROUND_HALF_UP).

Loss order (guarantee first): a defaulted loan's loss (principal, plus interest only if the rules
say so) goes first to the guarantor's or insurer's 代偿; the fund's share is computed on what
remains (the base). 先补后追: the fund pays ``share × base`` first; each recovery the lender
confirms returns the government's pro-rata share (``share × recovered``), never more in total
than the fund paid on the claim.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class ClaimFigures:
    loss_principal: Decimal
    loss_interest: Decimal  # counted only if the rules cover interest
    guarantor_paid: Decimal  # the guarantor's 代偿 taken first (never more than the loss)
    base: Decimal  # the loss that remains, shared between fund and lender
    share: Decimal
    amount: Decimal  # the fund's share of the base: what the claim asks


def claim_figures(
    *,
    loss_principal: Decimal,
    loss_interest: Decimal,
    guarantor_paid: Decimal,
    share: Decimal,
    covers_interest: bool,
) -> ClaimFigures:
    """The claim's figures: base = loss − 代偿 (not below 0), amount = share × base."""
    interest = loss_interest if covers_interest else ZERO
    loss = loss_principal + interest
    taken = min(guarantor_paid, loss)
    base = loss - taken
    return ClaimFigures(
        loss_principal=cents(loss_principal),
        loss_interest=cents(interest),
        guarantor_paid=cents(taken),
        base=cents(base),
        share=share,
        amount=cents(base * share),
    )


def recovery_return(
    *, recovered: Decimal, share: Decimal, paid: Decimal, returned_before: Decimal
) -> Decimal:
    """The government's share of a recovery: ``share × recovered``, capped so the total returned
    on a claim never exceeds what the fund paid on it."""
    due = cents(recovered * share)
    room = max(paid - returned_before, ZERO)
    return min(due, room)
