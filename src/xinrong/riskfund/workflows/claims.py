"""Workflows of the risk fund: claims (补偿申请) and recoveries (追偿).

A claim stays 审批中 while its case moves through the active version of the
``riskfund.claim_approval`` BPMN process (平台运营方受理 → 财政审核 → 财政复核 for big claims);
each completed step is a kernel action:

- ``review``: a step agreed and the case moves on;
- ``approve``: the last step agreed; under the fund's lock (taken first by the service) the
  guards check the institution's circuit breaker and its yearly cap, then the fund pays the
  government share (``ledger.compensation_post`` refuses an overdraft and a second payment);
- ``reject``: a step refused (a reason is required);
- ``withdraw``: the institution withdrew before a decision.

A recovery is reported by the institution, then confirmed by the fund's office (the government's
pro-rata share goes back to the fund) or returned (退回, with a reason).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xinrong.accounts.choices import Role
from xinrong.accounts.models import User
from xinrong.common.errors import ConflictError
from xinrong.marketplace.transitions import OFFICER_ROLES, staff_of
from xinrong.riskfund import arithmetic
from xinrong.riskfund.choices import ClaimStatus, EntryKind, RecoveryStatus
from xinrong.riskfund.models import (
    Claim,
    ClaimEvent,
    InstitutionLimit,
    LedgerEntry,
    Recovery,
    RecoveryEvent,
)
from xinrong.riskfund.rules.claims import (
    is_claim_filer,
    manages_fund,
    office_covers,
    own_institution,
)
from xinrong.workflows import engine
from xinrong.workflows.kernel import Action, Notice, Workflow, register

PROCESS_KEY = "riskfund.claim_approval"
S = ClaimStatus
R = RecoveryStatus
OPEN = (S.SUBMITTED, S.IN_REVIEW)
OFFICE_LANE = "Lane_office"
FINANCE_LANE = "Lane_finance"
REVIEW_LANE = "Lane_review"
FINANCE_TASK = "finance_review"
# the events a completed approval step writes
STEP_EVENTS = ("reviewed", "paid", "rejected")


def claim_may(user: Any, claim: Claim, task: Any = None) -> bool:
    """The object check under the lane mapping: the fund's office takes the first step, the
    fund's manager (财政) the finance step, and a second person of it the 复核 step."""
    lane = getattr(task, "lane_id", "") if task is not None else ""
    fund = claim.fund
    if lane == OFFICE_LANE:
        return office_covers(user, fund)
    if lane == FINANCE_LANE:
        return manages_fund(user, fund)
    if lane == REVIEW_LANE:
        if not manages_fund(user, fund):
            return False
        instance = engine.instance_for(claim)
        done = instance.actors if instance is not None else []
        return not any(a.get("task") == FINANCE_TASK and a.get("user") == user.pk for a in done)
    return office_covers(user, fund) or manages_fund(user, fund)


def holds_step(user: Any, claim: Claim, instance: Any = None) -> bool:
    """The user may complete one of the claim's open approval steps."""
    return engine.holds_step(user, instance or engine.instance_for(claim), steps_of(claim))


def steps_of(claim: Claim) -> Callable[[Any], Callable[[Any], bool]]:
    """The object check of each open step of the claim's case."""
    return lambda task: may_at(claim, task)


def may_at(claim: Claim, task: Any) -> Callable[[Any], bool]:
    """The object check of one open step of the claim's case."""
    return lambda user: claim_may(user, claim, task)


def takes_part(user: Any, claim: Claim | None) -> bool:
    """The user completes a step of this claim's approval case (or has just completed one whose
    status change is not applied yet)."""
    if claim is None:
        from xinrong.accounts.permissions import is_operator_admin
        from xinrong.riskfund.rules.claims import is_fund_approver

        return bool(is_operator_admin(user) or is_fund_approver(user))
    return engine.takes_part(
        user,
        engine.instance_for(claim),
        steps_applied=ClaimEvent.objects.filter(claim=claim, kind__in=STEP_EVENTS).count(),
        may_at=steps_of(claim),
    )


def _may_withdraw(user: Any, claim: Claim | None) -> bool:
    return bool(is_claim_filer(user)) and (claim is None or own_institution(user, claim))


def _may_review_recovery(user: Any, recovery: Recovery | None) -> bool:
    from xinrong.accounts.permissions import is_operator_admin

    if recovery is None:
        return bool(is_operator_admin(user))
    return office_covers(user, recovery.claim.fund)


def institution_users(claim: Claim) -> list[User]:
    """The institution's active loan officers and admins."""
    return staff_of(claim.institution_id, OFFICER_ROLES)


def office_users(claim: Claim) -> list[User]:
    """The operator admins of the fund's office."""
    return staff_of(claim.fund.office_id, (Role.OPERATOR_ADMIN,))


def _recovery_institution(recovery: Recovery) -> list[User]:
    return institution_users(recovery.claim)


def _claim_link(claim: Claim) -> str:
    return reverse("riskfund:claim_detail", args=[claim.pk])


def _recovery_link(recovery: Recovery) -> str:
    return reverse("riskfund:claim_detail", args=[recovery.claim_id])


# ------------------------------------------------------------------ guards of the payment


def year_cap_for(claim: Claim, day: dt.date) -> Decimal | None:
    """The institution's yearly compensation cap under the rules in force on ``day``: its own
    InstitutionLimit, else the rules' ``institution_year_cap`` (None: no cap)."""
    from xinrong.riskfund.eligibility import rules_in_force

    rules = rules_in_force(claim.fund, day)
    if rules is None:
        return None
    own = InstitutionLimit.objects.filter(rule_set=rules, institution_id=claim.institution_id)
    limit = own.values_list("year_cap", flat=True).first()
    return limit if limit is not None else rules.institution_year_cap


def paid_this_year(fund_id: int, institution_id: int, year: int) -> Decimal:
    """Σ compensations the fund paid to the institution in the calendar year (net of reversals)."""
    paid = (
        LedgerEntry.objects.filter(
            fund_id=fund_id,
            kind=EntryKind.COMPENSATION,
            claim__institution_id=institution_id,
            value_date__year=year,
            reversed_by__isnull=True,
        ).aggregate(s=Sum("amount"))["s"]
        or 0
    )
    return Decimal(paid).quantize(arithmetic.CENT)


def _breaker_guard(claim: Claim, ctx: Mapping[str, Any]) -> None:
    from xinrong.riskfund.breaker import breaker_for

    b = breaker_for(claim.fund, claim.institution_id)
    if b.tripped:
        raise ConflictError(
            "breaker_tripped",
            _(
                "%(inst)s平台贷款不良率 %(ratio)s%% 高于熔断线 %(limit)s%%，基金暂停对其补偿；"
                "不良率回落后方可批准"
            )
            % {"inst": claim.institution.name, "ratio": b.ratio, "limit": b.threshold},
            {"field": "institution", "ratio": str(b.ratio), "threshold": str(b.threshold)},
        )


def _cap_guard(claim: Claim, ctx: Mapping[str, Any]) -> None:
    today = timezone.localdate()
    cap = year_cap_for(claim, today)
    if cap is None:
        return
    paid = paid_this_year(claim.fund_id, claim.institution_id, today.year)
    if paid + claim.amount > cap:
        raise ConflictError(
            "year_cap_exceeded",
            _(
                "%(inst)s今年已获补偿 %(paid)s 元，加上本笔 %(amount)s 元将超过每年补偿上限 "
                "%(cap)s 元"
            )
            % {
                "inst": claim.institution.name,
                "paid": f"{paid:,.2f}",
                "amount": f"{claim.amount:,.2f}",
                "cap": f"{cap:,.2f}",
            },
            {"field": "amount", "cap": str(cap), "paid": str(paid)},
        )


def _balance_guard(claim: Claim, ctx: Mapping[str, Any]) -> None:
    from xinrong.riskfund.services.ledger import fund_balance

    balance = fund_balance(claim.fund_id)
    if claim.amount > balance:
        raise ConflictError(
            "fund_insufficient",
            _("%(fund)s余额 %(balance)s 元，不足以支付 %(amount)s 元")
            % {
                "fund": claim.fund.name,
                "balance": f"{balance:,.2f}",
                "amount": f"{claim.amount:,.2f}",
            },
            {"field": "amount", "balance": str(balance), "amount": str(claim.amount)},
        )


CLAIM = register(
    Workflow(
        name="riskfund.claim",
        label=gettext_lazy("风险补偿申请"),
        model=Claim,
        event_model=ClaimEvent,
        event_fk="claim",
        statuses=ClaimStatus,
        link=_claim_link,
        actions=(
            Action(
                "review",
                OPEN,
                S.IN_REVIEW,
                takes_part,
                gettext_lazy("审核同意"),
                event="reviewed",
                who=gettext_lazy("本环节的审批人"),
                notices=(
                    Notice(
                        institution_users,
                        gettext_lazy("风险补偿申请 {obj} 已通过「{step_name}」，进入下一环节"),
                        "{note}",
                        kind="riskfund.claim_reviewed",
                    ),
                ),
            ),
            Action(
                "approve",
                OPEN,
                S.PAID,
                takes_part,
                gettext_lazy("批准并支付"),
                event="paid",
                guards=(_breaker_guard, _cap_guard, _balance_guard),
                who=gettext_lazy("最后一个环节的审批人"),
                notices=(
                    Notice(
                        institution_users,
                        gettext_lazy("风险补偿已支付：{obj} 补偿 {amount} 元"),
                        "{note}",
                        kind="riskfund.claim_paid",
                    ),
                    Notice(
                        office_users,
                        gettext_lazy("风险补偿已支付：{obj}"),
                        "{note}",
                        kind="riskfund.claim_paid",
                    ),
                ),
            ),
            Action(
                "reject",
                OPEN,
                S.REJECTED,
                takes_part,
                gettext_lazy("审批不通过"),
                event="rejected",
                needs_note=True,
                who=gettext_lazy("本环节的审批人"),
                notices=(
                    Notice(
                        institution_users,
                        gettext_lazy("风险补偿申请 {obj} 未通过（{step_name}）"),
                        "{note}",
                        kind="riskfund.claim_rejected",
                    ),
                ),
            ),
            Action(
                "withdraw",
                OPEN,
                S.WITHDRAWN,
                _may_withdraw,
                gettext_lazy("撤回申请"),
                event="withdrawn",
                who=gettext_lazy("申请机构的客户经理或机构管理员"),
                notices=(
                    Notice(
                        office_users,
                        gettext_lazy("金融机构撤回了风险补偿申请：{obj}"),
                        "{note}",
                        kind="riskfund.claim_withdrawn",
                    ),
                ),
            ),
        ),
    )
)


RECOVERY = register(
    Workflow(
        name="riskfund.recovery",
        label=gettext_lazy("追偿"),
        model=Recovery,
        event_model=RecoveryEvent,
        event_fk="recovery",
        statuses=RecoveryStatus,
        link=_recovery_link,
        actions=(
            Action(
                "confirm",
                (R.REPORTED,),
                R.CONFIRMED,
                _may_review_recovery,
                gettext_lazy("确认追偿"),
                event="confirmed",
                who=gettext_lazy("基金受理机构（平台运营方）的运营管理员"),
                notices=(
                    Notice(
                        _recovery_institution,
                        gettext_lazy("追偿 {obj} 已确认，返还基金 {gov_return} 元"),
                        "{note}",
                        kind="riskfund.recovery_confirmed",
                    ),
                ),
            ),
            Action(
                "return",
                (R.REPORTED,),
                R.RETURNED,
                _may_review_recovery,
                gettext_lazy("退回"),
                event="returned",
                needs_note=True,
                who=gettext_lazy("基金受理机构（平台运营方）的运营管理员"),
                notices=(
                    Notice(
                        _recovery_institution,
                        gettext_lazy("追偿 {obj} 被退回，请核实后重新报告"),
                        "{note}",
                        kind="riskfund.recovery_returned",
                    ),
                ),
            ),
        ),
    )
)
