"""Demo claims and recoveries, made through the services (never raw status inserts).

``seed_claims(ctx)`` picks defaulted (or long overdue) platform loans whose coverage verdict is
"covered" and that have no live claim, files claims as the lending institution's own users and
walks them through the approval process so that every state shows: submitted (at 受理审核),
at 财政审核, at 财政复核 (a claim of ≥ ¥1 m, if a loan is big enough), paid, rejected and
withdrawn; on paid claims, recoveries reported, confirmed and returned. A payment the fund
refuses (breaker, yearly cap, balance) leaves the claim at its step and is counted, not hidden.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Q
from django.utils import timezone

from xinrong.accounts.choices import Role
from xinrong.accounts.models import User
from xinrong.common.errors import ApplicationError

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
BIG = Decimal("1000000")  # the BPMN's 复核 threshold on the claim amount


def _evidence(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def _filer(institution_id: int, users: dict[str, Any]) -> User | None:
    """A loan officer (or admin) of the institution: the demo login first if it is theirs."""
    for key in ("loan_officer", "bank_admin"):
        u = users.get(key)
        if isinstance(u, User) and u.organisation_id == institution_id:
            return u
    return (
        User.objects.filter(
            organisation_id=institution_id,
            is_active=True,
            roles__role__in=(Role.LOAN_OFFICER, Role.INSTITUTION_ADMIN),
        )
        .order_by("pk")
        .first()
    )


def _approvers(fund: Any, users: dict[str, Any]) -> tuple[User | None, User | None, User | None]:
    """(office, finance, second finance) for the fund: the demo logins when they fit."""
    from xinrong.riskfund.rules.claims import manages_fund, office_covers

    office = next(
        (u for k in ("operator", "golmud") if (u := users.get(k)) and office_covers(u, fund)),
        None,
    ) or next(
        (
            u
            for u in User.objects.filter(
                organisation_id=fund.office_id, is_active=True, roles__role=Role.OPERATOR_ADMIN
            )
        ),
        None,
    )
    managers = [u for k in ("gov_fund", "gov_fund_lead") if (u := users.get(k))]
    managers += list(
        User.objects.filter(
            organisation_id=fund.manager_id, is_active=True, roles__role=Role.FUND_APPROVER
        )
        .exclude(pk__in=[m.pk for m in managers])
        .order_by("pk")
    )
    managers = [m for m in managers if manages_fund(m, fund)]
    finance = managers[0] if managers else None
    second = managers[1] if len(managers) > 1 else None
    return office, finance, second


def _candidates(ctx: dict[str, Any]) -> list[Any]:
    """Covered, claimable loans (no problem at all), with a filer; shuffled by the demo's rng."""
    from xinrong.marketplace.choices import LoanStatus
    from xinrong.marketplace.models import Loan
    from xinrong.riskfund.services.claims import loan_claimable_problems

    loans = list(
        Loan.objects.filter(
            Q(status=LoanStatus.DEFAULTED) | Q(status=LoanStatus.OVERDUE, overdue_days__gte=30)
        )
        .select_related("entity", "application__product_version")
        .order_by("pk")
    )
    keep = set(ctx.get("reserved_loans", ()))  # left for a person to claim on first login
    ok = [loan for loan in loans if loan.pk not in keep and not loan_claimable_problems(loan)]
    ctx["rng"].shuffle(ok)
    # loans a guarantor has partly compensated first: their claims show the loss order
    from xinrong.riskfund.selectors.loans import guarantor_paid_for

    ok.sort(key=lambda loan: guarantor_paid_for(loan) == 0)
    return ok


def seed_claims(ctx: dict[str, Any]) -> dict[str, int]:
    """Claims in every state and recoveries in every state (see the module docstring)."""
    from xinrong.riskfund.eligibility import loan_coverage
    from xinrong.riskfund.services import claims as services

    users: dict[str, Any] = ctx.get("users", {})
    counts = {
        "claims": 0,
        "claims_submitted": 0,
        "claims_at_finance": 0,
        "claims_at_review": 0,
        "claims_paid": 0,
        "claims_rejected": 0,
        "claims_withdrawn": 0,
        "payments_refused": 0,
        "recoveries_reported": 0,
        "recoveries_confirmed": 0,
        "recoveries_returned": 0,
        "candidates": 0,
    }
    from xinrong.riskfund.models import Claim

    if Claim.objects.exists():  # seeded once: a second run adds nothing
        return counts
    loans = _candidates(ctx)
    counts["candidates"] = len(loans)
    # the plan: what to make of the next candidate loan, in order
    plan = ["paid"] * 6 + ["review", "finance", "finance", "submitted", "submitted"]
    plan += ["rejected", "withdrawn"]
    big = [loan for loan in loans if (loan_coverage(loan).share or 0) * loan.outstanding >= BIG]
    paid: list[Any] = []
    used: set[int] = set()
    for goal in plan:
        pool = big if goal == "review" else loans
        loan = next((x for x in pool if x.pk not in used), None)
        if loan is None:
            continue
        used.add(loan.pk)
        filer = _filer(loan.institution_id, users)
        if filer is None:
            continue
        cov = loan_coverage(loan)
        office, finance, _second = _approvers(cov.fund, users)
        try:
            claim = services.claim_file(
                actor=filer,
                loan=loan,
                loss_principal=loan.outstanding,
                note="借款企业经营困难停止还款，已催收并提起诉讼。",
                evidence=[_evidence("起诉书.pdf"), _evidence("催收记录.pdf")],
            )
        except (ApplicationError, ValidationError):  # a loan the services refuse: skip it
            continue
        counts["claims"] += 1
        if goal == "submitted":
            counts["claims_submitted"] += 1
            continue
        if goal == "withdrawn":
            services.claim_withdraw(claim=claim, actor=filer, note="已与借款企业达成还款协议")
            counts["claims_withdrawn"] += 1
            continue
        if office is None:
            counts["claims_submitted"] += 1
            continue
        if goal == "rejected":
            services.claim_decide(
                claim=claim, actor=office, approved=False, note="催收材料不完整，未见诉讼受理通知"
            )
            counts["claims_rejected"] += 1
            continue
        services.claim_decide(claim=claim, actor=office, approved=True, note="材料齐全")
        if goal == "finance" or finance is None:
            counts["claims_at_finance"] += 1
            continue
        try:
            services.claim_decide(claim=claim, actor=finance, approved=True, note="同意补偿")
        except ApplicationError:
            counts["payments_refused"] += 1
            counts["claims_at_finance"] += 1
            continue
        claim.refresh_from_db()
        if claim.status == "paid":
            counts["claims_paid"] += 1
            paid.append((claim, filer, office))
        else:
            counts["claims_at_review"] += 1  # waits for the second finance person
    # recoveries on paid claims: confirmed, confirmed, returned, reported
    outcomes = ["confirmed", "confirmed", "returned", "reported", "confirmed"]
    for (claim, filer, office), outcome in zip(paid, outcomes, strict=False):
        share = (claim.loss_principal * Decimal("0.2")).quantize(Decimal("0.01"))
        day = timezone.localdate()  # on or after the payment day, never in the future
        recovery = services.recovery_report(
            actor=filer,
            claim=claim,
            amount=share,
            recovered_on=day,
            note="法院强制执行款到账",
        )
        if outcome == "reported":
            counts["recoveries_reported"] += 1
        if outcome == "confirmed":
            services.recovery_confirm(actor=office, recovery=recovery, note="核对执行款凭证无误")
            counts["recoveries_confirmed"] += 1
        elif outcome == "returned":
            services.recovery_return(
                actor=office, recovery=recovery, note="请补充法院执行款到账凭证后重新报告"
            )
            counts["recoveries_returned"] += 1
    return counts
