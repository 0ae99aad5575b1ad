"""Reads of claims and recoveries: scoped lists, the approval inbox, loans to claim on,
statistics per institution, region (prefecture) and year, and the workbench cards."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet, Sum
from django.db.models.functions import ExtractYear
from django.utils.translation import gettext_lazy

from xinrong.accounts.permissions import require
from xinrong.common.errors import NotFoundError
from xinrong.reference import divisions
from xinrong.riskfund.choices import ClaimStatus, EntryKind, RecoveryStatus
from xinrong.riskfund.eligibility import Coverage, loan_coverage
from xinrong.riskfund.models import Claim, ClaimEvent, LedgerEntry, Recovery
from xinrong.riskfund.rules.claims import is_claim_filer, is_institution_member
from xinrong.riskfund.workflows.claims import CLAIM, OPEN, PROCESS_KEY, may_at
from xinrong.workflows import engine

S = ClaimStatus
R = RecoveryStatus
ZERO = Decimal("0.00")


def claims_visible(*, user: Any) -> QuerySet[Claim]:
    """The claims the user may see."""
    return Claim.objects.restrict(user).select_related(
        "fund", "institution", "entity", "loan", "rule_set"
    )


def claim_get(*, user: Any, pk: int) -> Claim:
    """One claim the user may see (404 otherwise, never telling whether it exists)."""
    claim = claims_visible(user=user).filter(pk=pk).first()
    if claim is None:
        raise NotFoundError("claim_not_found", "补偿申请不存在")
    require(user, "riskfund.claim_view", claim)
    return claim


def recovery_get(*, user: Any, pk: int) -> Recovery:
    row = (
        Recovery.objects.restrict(user)
        .select_related("claim__fund", "claim__entity", "claim__institution")
        .filter(pk=pk)
        .first()
    )
    if row is None:
        raise NotFoundError("recovery_not_found", "追偿记录不存在")
    return row


# the timeline's words for each event kind (the event tables carry no kind choices yet)
EVENT_LABELS = {
    "filed": gettext_lazy("提交申请"),
    "reviewed": gettext_lazy("审核同意"),
    "paid": gettext_lazy("批准并支付"),
    "rejected": gettext_lazy("审批不通过"),
    "withdrawn": gettext_lazy("撤回申请"),
    "reported": gettext_lazy("报告追偿"),
    "confirmed": gettext_lazy("确认追偿"),
    "returned": gettext_lazy("退回追偿"),
}


def claim_events(*, claim: Claim) -> QuerySet[ClaimEvent]:
    return (
        ClaimEvent.objects.filter(claim=claim).select_related("actor").order_by("created_at", "id")
    )


def claim_recoveries(*, claim: Claim) -> QuerySet[Recovery]:
    return (
        Recovery.objects.filter(claim=claim)
        .select_related("reported_by", "reviewed_by")
        .order_by("recovered_on", "id")
    )


def claim_entries(*, claim: Claim) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(claim=claim).order_by("posted_at", "id")


@dataclass(frozen=True)
class Waiting:
    claim: Claim
    step: str
    lane: str


def claims_waiting_for(*, user: Any) -> list[Waiting]:
    """The claims whose open step this user may complete now (the approval inbox)."""
    found = engine.tasks_for(user, key=PROCESS_KEY)
    ids = {int(instance.subject_id) for instance, _task in found}
    claims = {c.pk: c for c in claims_visible(user=user).filter(pk__in=ids, status__in=OPEN)}
    out: list[Waiting] = []
    for instance, task in found:
        claim = claims.get(int(instance.subject_id))
        if claim is None:
            continue
        if engine.task_may(instance, task, user, may_at(claim, task)):
            continue
        out.append(Waiting(claim, task.name, task.lane))
    out.sort(key=lambda w: (w.claim.submitted_at, w.claim.pk))
    return out


@dataclass(frozen=True)
class LoanChoice:
    loan: Any
    coverage: Coverage
    problems: list[str]
    guarantor_paid: Decimal
    claim: Claim | None  # its live claim, if any


def claimable_loans(*, user: Any, limit: int = 300) -> list[LoanChoice]:
    """The institution's defaulted or overdue platform loans with their coverage verdicts."""
    from xinrong.marketplace.choices import LoanStatus
    from xinrong.marketplace.models import Loan
    from xinrong.riskfund.selectors.loans import guarantor_paid_for
    from xinrong.riskfund.services.claims import loan_claimable_problems

    if not is_claim_filer(user):
        return []
    loans = (
        Loan.objects.filter(
            institution_id=user.organisation_id,
            status__in=(LoanStatus.DEFAULTED, LoanStatus.OVERDUE),
        )
        .select_related("entity", "application__product_version")
        .order_by("-status", "-overdue_days", "-id")[:limit]
    )
    live = {
        c.loan_id: c
        for c in Claim.objects.filter(institution_id=user.organisation_id).exclude(
            status__in=(S.REJECTED, S.WITHDRAWN)
        )
    }
    out = []
    for loan in loans:
        out.append(
            LoanChoice(
                loan,
                loan_coverage(loan),
                loan_claimable_problems(loan),
                guarantor_paid_for(loan),
                live.get(loan.pk),
            )
        )
    out.sort(key=lambda c: (bool(c.problems), -c.loan.overdue_days))
    return out


# ------------------------------------------------------------------------ statistics


@dataclass
class StatRow:
    key: str
    label: str
    claims: int = 0
    paid_claims: int = 0
    asked: Decimal = ZERO
    compensated: Decimal = ZERO
    recovered: Decimal = ZERO  # confirmed recoveries (the institution's money back)
    returned: Decimal = ZERO  # what those gave back to the fund

    @property
    def recovery_rate(self) -> Decimal | None:
        """Returned to the fund over compensated, in percent (None when nothing was paid)."""
        if not self.compensated:
            return None
        return (self.returned * 100 / self.compensated).quantize(Decimal("0.01"))


@dataclass
class Statistics:
    by_institution: list[StatRow] = field(default_factory=list)
    by_region: list[StatRow] = field(default_factory=list)
    by_year: list[StatRow] = field(default_factory=list)
    total: StatRow = field(default_factory=lambda: StatRow("all", "合计"))


def _prefecture(code: str) -> tuple[str, str]:
    pref = (code or "")[:4].ljust(6, "0")
    found = divisions.get(pref)
    return pref, (found.name if found is not None else pref)


def claim_statistics(*, user: Any, fund_id: int | None = None) -> Statistics:
    """Claims, compensated, recovered, returned and the recovery rate per institution, per
    prefecture of the borrower and per year filed; a few grouped queries over the visible claims."""
    qs = claims_visible(user=user)
    if fund_id:
        qs = qs.filter(fund_id=fund_id)
    ids = qs.values("pk")
    claim_rows = list(
        qs.values(
            "pk", "institution_id", "institution__name", "entity__division_code", "status", "amount"
        ).annotate(year=ExtractYear("submitted_at"))
    )
    paid = dict(
        LedgerEntry.objects.filter(
            claim_id__in=ids, kind=EntryKind.COMPENSATION, reversed_by__isnull=True
        )
        .values("claim_id")
        .annotate(s=Sum("amount"))
        .values_list("claim_id", "s")
    )
    rec = {
        r["claim_id"]: (r["a"] or ZERO, r["g"] or ZERO)
        for r in Recovery.objects.filter(claim_id__in=ids, status=R.CONFIRMED)
        .values("claim_id")
        .annotate(a=Sum("amount"), g=Sum("gov_return"))
    }
    inst: dict[str, StatRow] = {}
    region: dict[str, StatRow] = {}
    year: dict[str, StatRow] = {}
    stats = Statistics()
    for r in claim_rows:
        pref, pref_name = _prefecture(r["entity__division_code"])
        keys = (
            (inst, str(r["institution_id"]), r["institution__name"]),
            (region, pref, pref_name),
            (year, str(r["year"]), f"{r['year']}年"),
        )
        rows = [d.setdefault(k, StatRow(k, label)) for d, k, label in keys] + [stats.total]
        p = paid.get(r["pk"]) or ZERO
        a, g = rec.get(r["pk"], (ZERO, ZERO))
        for row in rows:
            row.claims += 1
            row.asked += r["amount"]
            if r["status"] == S.PAID:
                row.paid_claims += 1
            row.compensated += p
            row.recovered += a
            row.returned += g
    stats.by_institution = sorted(inst.values(), key=lambda x: (-x.compensated, x.label))
    stats.by_region = sorted(region.values(), key=lambda x: x.key)
    stats.by_year = sorted(year.values(), key=lambda x: x.key, reverse=True)
    return stats


# ------------------------------------------------------------------------ workbench


@dataclass
class ClaimsCard:
    kind: str  # "institution" or "approver"
    by_status: list[tuple[str, str, int]] = field(default_factory=list)
    to_recover: list[Claim] = field(default_factory=list)  # paid, no recovery reported yet
    waiting: list[Waiting] = field(default_factory=list)
    waiting_count: int = 0
    waiting_amount: Decimal = ZERO
    recoveries_to_confirm: int = 0
    may_file: bool = False  # the user files claims (reviewers only read)


def claims_card(user: Any) -> ClaimsCard | None:
    """The workbench card: an institution's claims by status and paid claims to report
    recoveries on; an approver's steps waiting (with the amount) and recoveries to confirm."""
    from xinrong.accounts.permissions import can

    if is_institution_member(user):
        qs = claims_visible(user=user)
        counts: dict[str, int] = defaultdict(int)
        for status in qs.values_list("status", flat=True):
            counts[status] += 1
        paid = list(qs.filter(status=S.PAID, recoveries__isnull=True).order_by("-paid_at")[:5])
        return ClaimsCard(
            "institution",
            by_status=[(s, str(label), counts.get(s, 0)) for s, label in S.choices],
            to_recover=paid,
            may_file=can(user, "riskfund.claim_file"),
        )
    if can(user, "riskfund.claim_queue"):
        waiting = claims_waiting_for(user=user)
        to_confirm = Recovery.objects.restrict(user).filter(status=R.REPORTED)
        from xinrong.riskfund.workflows.claims import RECOVERY

        confirmable = sum(1 for r in to_confirm[:200] if RECOVERY.may(user, r, "confirm"))
        return ClaimsCard(
            "approver",
            waiting=waiting[:5],
            waiting_count=len(waiting),
            waiting_amount=sum((w.claim.amount for w in waiting), ZERO),
            recoveries_to_confirm=confirmable,
        )
    return None


__all__ = ["CLAIM", "claim_get", "claim_statistics", "claims_card", "claims_visible"]
