"""Demo: guarantors' and insurers' 代偿 on defaulted guaranteed loans, one reversed and corrected,
one guarantor recovery — through the marketplace's and the risk fund's services.

The demo's guarantee requests sit on applications still in progress; the demo's defaulted loans
carry none. So for a few defaulted platform loans the guarantor (``guarantor``) and the insurer
(``insurer``) get an issued guarantee: the request row is written as filed (the filing service
refuses an application already disbursed), then approved and issued through
``marketplace.services.guarantees``; its dates are set before the disbursement. Call this before
the claims are seeded, so the claims' bases take the 代偿 first. Idempotent: does nothing when a
代偿 exists.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction

from xinrong.common.errors import SERVICE_ERRORS
from xinrong.marketplace.choices import (
    GuaranteeRequestEventKind,
    LoanStatus,
    ProductStatus,
)
from xinrong.marketplace.models import GuaranteeRequest, GuaranteeRequestEvent, Loan, Product
from xinrong.marketplace.services import guarantees as guarantee_services
from xinrong.marketplace.workflows import GUARANTEE_REQUEST
from xinrong.riskfund.models import GuarantorPayout
from xinrong.riskfund.services import guarantees as services
from xinrong.workflows.kernel import event_record

CENT = Decimal("0.01")
PER_PROVIDER = 4  # defaulted loans given an issued guarantee per provider
PROVIDERS = ("guarantor", "insurer")


def _issue(loan: Loan, product: Product, staff: Any, rng: Any) -> GuaranteeRequest:
    """An issued guarantee on ``loan``'s application, dated before the disbursement."""
    share = Decimal(rng.choice(("0.5", "0.6", "0.8", "1.0")))
    req = GuaranteeRequest.objects.create(
        application=loan.application,
        product=product,
        provider_id=product.institution_id,
        amount=(loan.principal * share).quantize(CENT),
        note="申请为本笔贷款提供担保/保险（演示数据）",
    )
    event_record(
        GUARANTEE_REQUEST,
        req,
        GuaranteeRequestEventKind.FILED,
        actor=None,
        note=req.note,
        data={"amount": str(req.amount)},
        created=True,
    )
    version = getattr(product, "current_version", None)
    rate = version.rate_min if version is not None else Decimal("1.000")
    guarantee_services.guarantee_approve(request=req, actor=staff, fee_rate=rate, fee_amount="")
    req = guarantee_services.guarantee_issue(
        request=req, actor=staff, letter_no=f"BH{product.institution_id:03d}{req.pk:06d}"
    )
    # the letter came before the money: move the dates back to before the disbursement
    filed = dt.datetime.combine(
        loan.disbursed_on - dt.timedelta(days=10), dt.time(10), tzinfo=dt.UTC
    )
    GuaranteeRequest.objects.filter(pk=req.pk).update(
        created_at=filed,
        updated_at=filed + dt.timedelta(days=3),
        decided_at=filed + dt.timedelta(days=2),
        issued_at=filed + dt.timedelta(days=3),
    )
    for i, e in enumerate(GuaranteeRequestEvent.objects.filter(request=req).order_by("id")):
        GuaranteeRequestEvent.objects.filter(pk=e.pk).update(
            created_at=filed + dt.timedelta(days=i + (1 if i else 0))
        )
    return req


def seed_guarantees(ctx: dict[str, Any]) -> dict[str, int]:
    """Issued guarantees on some defaulted loans, 代偿 on most, one reversed and re-recorded,
    one guarantor recovery; return the counts."""
    counts = {"guarantees_issued": 0, "payouts": 0, "payouts_reversed": 0, "grecoveries": 0}
    if GuarantorPayout.objects.exists():
        return counts
    users, rng, today = ctx["users"], ctx["rng"], ctx["today"]
    taken = set(GuaranteeRequest.objects.values_list("application_id", flat=True))
    bad = list(
        Loan.objects.filter(status=LoanStatus.DEFAULTED)
        .exclude(application_id__in=taken)
        .exclude(risk_claims__status__in=services.CLAIM_LIVE)
        .select_related("application")
        .order_by("defaulted_on", "id")
    )
    rng.shuffle(bad)
    # loans the fund covers go first (popped from the end), so some claims later show the loss
    # order: the guarantor's part of the loss first, the fund's share on what remains
    from xinrong.riskfund.eligibility import loan_coverage

    keep = set(ctx.get("reserved_loans", ()))  # left for the demo bank's officer to claim
    bad = [loan for loan in bad if loan.pk not in keep]
    covered = {loan.pk for loan in bad if loan_coverage(loan).covered}
    bad.sort(key=lambda loan: loan.pk in covered)
    issued: list[tuple[GuaranteeRequest, Any]] = []
    with transaction.atomic():
        for username in PROVIDERS:
            staff = users.get(username)
            if staff is None or staff.organisation_id is None:
                continue
            product = (
                Product.objects.filter(
                    institution_id=staff.organisation_id, status=ProductStatus.PUBLISHED
                )
                .select_related("current_version")
                .order_by("code")
                .first()
            )
            if product is None:
                continue
            for _n in range(PER_PROVIDER):
                if not bad:
                    break
                issued.append((_issue(bad.pop(), product, staff, rng), staff))
    counts["guarantees_issued"] = len(issued)
    recorded: list[tuple[GuarantorPayout, Any]] = []
    for i, (req, staff) in enumerate(issued):
        if i % 4 == 3:
            continue  # some stay to settle (the guarantor's "待代偿")
        loan = req.application.loan
        room = services.payout_room(req, loan)
        amount = room if i % 2 == 0 else (room * Decimal("0.8")).quantize(CENT)
        if loan.pk in covered:  # a partial 代偿: the lender still claims the rest
            amount = (room * Decimal("0.5")).quantize(CENT)
        paid_on = min((loan.defaulted_on or today) + dt.timedelta(days=15 + i), today)
        try:
            payout = services.payout_record(
                actor=staff,
                guarantee=req,
                amount=amount,
                paid_on=paid_on,
                note="代偿款已划付放款机构（演示数据）",
            )
        except SERVICE_ERRORS:
            continue
        recorded.append((payout, staff))
    counts["payouts"] = len(recorded)
    if recorded:  # the last one was keyed in wrong: reverse it and record the right amount
        payout, staff = recorded[-1]
        try:
            services.payout_reverse(
                actor=staff, payout=payout, note="金额登记错误，按代偿凭证重新登记（演示数据）"
            )
            counts["payouts_reversed"] = 1
            services.payout_record(
                actor=staff,
                guarantee=payout.guarantee,
                amount=(payout.amount - Decimal("1000.00")).quantize(CENT),
                paid_on=payout.paid_on,
                note="按代偿凭证重新登记（演示数据）",
            )
        except SERVICE_ERRORS:
            pass
    if recorded:  # the first one: the guarantor got part of it back from the borrower
        payout, staff = recorded[0]
        day = min(payout.paid_on + dt.timedelta(days=20), today)
        try:
            services.guarantor_recovery_record(
                actor=staff,
                payout=payout,
                amount=(payout.amount * Decimal("0.15")).quantize(CENT),
                recovered_on=day,
                note="处置反担保抵押物追回（演示数据）",
            )
            counts["grecoveries"] = 1
        except SERVICE_ERRORS:
            pass
    return counts
