"""Writes of claims (补偿申请) and recoveries (追偿): file, approve on the BPMN case, pay, recover.

Filing checks everything at once (the actor's institution made the loan; the loan is defaulted or
overdue long enough; the fund covers it under the rules in force on its disbursement day, with
every reason if not; the loss is within the outstanding; interest only if the rules cover it;
one live claim per loan; at least one evidence file) and starts a case of the active
``riskfund.claim_approval`` process. The figures follow ``arithmetic.claim_figures``: the
guarantor's 代偿 first, the government share of what remains.

**Lock order** (``services.ledger``): every decision locks the Fund row first, then the Claim row
(and the process case), then a Recovery row. The last agreement pays the claim inside the same
transaction: the kernel's guards refuse a tripped breaker, a passed yearly cap and an
insufficient balance, ``ledger.compensation_post`` refuses an overdraft and a second payment; on
any refusal nothing is written and the step stays open.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts.models import User
from xinrong.common.errors import ApplicationError, ConflictError, PermissionDeniedError
from xinrong.credit.evidence import evidence_check
from xinrong.notifications.services import notify_on_commit
from xinrong.riskfund import arithmetic
from xinrong.riskfund.choices import ClaimStatus, EntryKind, RecoveryStatus
from xinrong.riskfund.eligibility import loan_coverage
from xinrong.riskfund.models import Claim, ClaimEvidence, LedgerEntry, Recovery
from xinrong.riskfund.rules.claims import is_claim_filer
from xinrong.riskfund.selectors.loans import guarantor_paid_for
from xinrong.riskfund.services import ledger
from xinrong.riskfund.workflows.claims import (
    CLAIM,
    OPEN,
    PROCESS_KEY,
    RECOVERY,
    may_at,
    steps_of,
)
from xinrong.workflows import engine
from xinrong.workflows.engine import TaskView
from xinrong.workflows.kernel import event_record, transition_apply
from xinrong.workflows.models import ProcessInstance

S = ClaimStatus
R = RecoveryStatus
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
NOTE_MAX = 2000


def _errors_raise(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError({k: [ValidationError(m) for m in v] for k, v in errors.items()})


def amount_parse(value: Any, *, label: str, allow_zero: bool = False) -> tuple[Decimal | None, str]:
    """Return (yuan with two places, '') or (None, the error in Chinese naming ``label``)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if allow_zero:
            return ZERO, ""
        return None, _("请填写%(f)s") % {"f": label}
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None, _("%(f)s必须是数字（元）") % {"f": label}
    if not amount.is_finite():
        return None, _("%(f)s必须是数字（元）") % {"f": label}
    if amount < 0 or (amount == 0 and not allow_zero):
        return None, _("%(f)s必须大于0元") % {"f": label}
    if amount != amount.quantize(CENT):
        return None, _("%(f)s最多保留两位小数（分）") % {"f": label}
    if amount >= Decimal("1e14"):
        return None, _("%(f)s过大") % {"f": label}
    return amount, ""


def _number(prefix: str, now: dt.datetime) -> str:
    return f"{prefix}{timezone.localtime(now):%Y%m%d}{uuid.uuid4().hex[:8].upper()}"


def loan_claimable_problems(loan: Any) -> list[str]:
    """Why a loan cannot be claimed on now (nothing when it can): status, days overdue, rules."""
    from xinrong.marketplace.choices import LoanStatus

    problems: list[str] = []
    cov = loan_coverage(loan)
    if not cov.covered:
        problems.extend(cov.reasons)
    min_days = cov.rule_set.min_overdue_days if cov.rule_set is not None else 90
    if loan.status != LoanStatus.DEFAULTED and not (
        loan.status == LoanStatus.OVERDUE and loan.overdue_days >= min_days
    ):
        problems.append(
            _("贷款尚未违约，且逾期 %(d)s 天未达到申请补偿所需的 %(m)s 天")
            % {"d": loan.overdue_days, "m": min_days}
        )
    if Claim.objects.filter(loan=loan).exclude(status__in=(S.REJECTED, S.WITHDRAWN)).exists():
        problems.append(_("该笔贷款已有补偿申请，不能重复申请"))
    return problems


def claim_preview(
    *, loan: Any, loss_principal: Any, loss_interest: Any = ""
) -> arithmetic.ClaimFigures | None:
    """The figures a claim on ``loan`` would carry (None when the loan is not covered)."""
    cov = loan_coverage(loan)
    if not cov.covered or cov.rule_set is None or cov.share is None:
        return None
    principal, p1 = amount_parse(loss_principal, label=_("本金损失"))
    interest, p2 = amount_parse(loss_interest, label=_("利息损失"), allow_zero=True)
    if p1 or p2 or principal is None or interest is None:
        return None
    return arithmetic.claim_figures(
        loss_principal=principal,
        loss_interest=interest,
        guarantor_paid=guarantor_paid_for(loan),
        share=cov.share,
        covers_interest=cov.rule_set.covers_interest,
    )


@transaction.atomic
def claim_file(
    *,
    actor: User,
    loan: Any,
    loss_principal: Any,
    loss_interest: Any = "",
    note: str = "",
    evidence: Sequence[File[Any]] = (),
    now: dt.datetime | None = None,
) -> Claim:
    """File a claim on a defaulted platform loan of the actor's institution.

    Every problem is reported at once (ValidationError naming each field); nothing is written
    on refusal.
    """
    from xinrong.marketplace.models import Loan

    now = now or timezone.now()
    if not is_claim_filer(actor) or actor.organisation_id != loan.institution_id:
        raise PermissionDeniedError(
            "forbidden", _("只有发放该笔贷款的金融机构的客户经理或机构管理员可以申请风险补偿")
        )
    loan = Loan.objects.select_for_update().select_related("entity", "application").get(pk=loan.pk)
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    for problem in loan_claimable_problems(loan):
        add("loan", problem)
    cov = loan_coverage(loan)
    principal, problem = amount_parse(loss_principal, label=_("本金损失"))
    if problem:
        add("loss_principal", problem)
    elif principal is not None and principal > loan.outstanding:
        add(
            "loss_principal",
            _("本金损失不能超过贷款余额 %(o)s 元") % {"o": f"{loan.outstanding:,.2f}"},
        )
    interest, problem = amount_parse(loss_interest, label=_("利息损失"), allow_zero=True)
    if problem:
        add("loss_interest", problem)
    elif interest and cov.rule_set is not None and not cov.rule_set.covers_interest and cov.covered:
        add("loss_interest", _("现行补偿规则不补偿利息损失，利息损失请填 0"))
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        add("note", _("申请说明最多 %(n)d 个字") % {"n": NOTE_MAX})
    checked: list[Any] = []
    if not evidence:
        add("evidence", _("请至少上传一份证明材料（如起诉书、判决书、催收记录）"))
    else:
        try:
            checked = evidence_check(list(evidence), field="evidence")
        except ApplicationError as exc:
            add("evidence", exc.message)
    figures = None
    if not errors and cov.rule_set is not None and cov.share is not None:
        assert principal is not None and interest is not None
        figures = arithmetic.claim_figures(
            loss_principal=principal,
            loss_interest=interest,
            guarantor_paid=guarantor_paid_for(loan),
            share=cov.share,
            covers_interest=cov.rule_set.covers_interest,
        )
        if figures.amount <= 0:
            add(
                "loss_principal",
                _("担保/保险机构已代偿 %(g)s 元，覆盖了全部损失，没有可申请补偿的余额")
                % {"g": f"{figures.guarantor_paid:,.2f}"},
            )
    _errors_raise(errors)
    assert figures is not None and cov.fund is not None and cov.rule_set is not None
    claim = Claim.objects.create(
        number=_number("FX", now),
        fund=cov.fund,
        rule_set=cov.rule_set,
        loan=loan,
        institution_id=loan.institution_id,
        entity=loan.entity,
        loss_principal=figures.loss_principal,
        loss_interest=figures.loss_interest,
        guarantor_paid=figures.guarantor_paid,
        base=figures.base,
        share=figures.share,
        amount=figures.amount,
        status=S.SUBMITTED,
        note=note,
        filed_by=actor,
        submitted_at=now,
    )
    stored: list[ClaimEvidence] = []
    try:
        for f in checked:
            row = ClaimEvidence(claim=claim, name=f.name[:100], uploaded_by=actor, uploaded_at=now)
            row.file.save(f.name, f.upload, save=False)
            stored.append(row)
        ClaimEvidence.objects.bulk_create(stored)
    except Exception:
        for row in stored:
            row.file.delete(save=False)
        raise
    event_record(
        CLAIM,
        claim,
        "filed",
        actor=actor,
        note=note[:300],
        data={"amount": f"{claim.amount:,.2f}", "base": f"{claim.base:,.2f}"},
        event_fields={"created_at": now},
        created=True,
    )
    instance = _process_start(claim)
    _notify_waiting(claim, instance)
    return claim


# --- the approval process -------------------------------------------------------------------


def _process_start(claim: Claim) -> ProcessInstance:
    return engine.process_start(
        PROCESS_KEY, subject=claim, data={"amount": claim.amount, "approved": True}
    )


def claim_open_steps(*, claim: Claim) -> list[TaskView]:
    """The steps the claim waits for (none once decided)."""
    if claim.status not in OPEN:
        return []
    instance = engine.instance_for(claim)
    return engine.open_tasks(instance) if instance is not None else []


def claim_step_for(*, claim: Claim, user: Any) -> TaskView | None:
    """The open step this user may complete, if any."""
    if claim.status not in OPEN:
        return None
    return engine.step_for(engine.instance_for(claim), user, steps_of(claim))


def claim_step_refusal(*, claim: Claim, user: Any) -> str:
    """Why the user may not take the claim's open step ('' when they may, or none is open)."""
    instance = engine.instance_for(claim) if claim.status in OPEN else None
    return engine.step_refusal(instance, user, steps_of(claim))


def _notify_waiting(claim: Claim, instance: ProcessInstance) -> None:
    people = engine.waiting_people(instance, steps_of(claim))
    if not people:
        return
    tasks = engine.open_tasks(instance)
    notify_on_commit(
        recipients=people,
        kind="riskfund.claim_awaiting",
        title=_("风险补偿申请待您审核（%(step)s）：%(e)s")
        % {"step": "、".join(t.name for t in tasks), "e": claim.entity.name},
        body=_("%(n)s · 申请补偿 %(a)s 元") % {"n": claim.number, "a": f"{claim.amount:,.2f}"},
        link=CLAIM.link(claim) if CLAIM.link else "",
    )


@transaction.atomic
def claim_decide(*, claim: Claim, actor: User, approved: bool, note: str = "") -> Claim:
    """Agree or refuse at the step the actor holds; the last agreement pays the claim.

    Locks the fund first, then the claim (lock order); a payment the fund cannot make (breaker,
    yearly cap, balance) refuses the approval and nothing is written: the step stays open.
    """
    ledger.fund_lock(claim.fund_id)
    claim = (
        Claim.objects.select_for_update(of=("self",))
        .select_related("fund", "entity", "institution")
        .get(pk=claim.pk)
    )
    if claim.status not in OPEN:
        raise ConflictError(
            "invalid_transition",
            _("该申请已办结（%(s)s）") % {"s": claim.get_status_display()},
            {"field": "status"},
        )
    started = engine.instance_for(claim)
    instance = started if started is not None else _process_start(claim)
    tasks = engine.open_tasks(instance)

    def reason(t: Any) -> str:
        return engine.task_may(instance, t, actor, may_at(claim, t))

    task = next((t for t in tasks if not reason(t)), None)
    if task is None:
        reasons = [reason(t) for t in tasks]
        raise PermissionDeniedError(
            "forbidden",
            reasons[0] if reasons else _("该申请当前没有待办的审批环节"),
            {"steps": [t.name for t in tasks]},
        )
    note = (note or "").strip()
    errors: dict[str, list[str]] = {}
    if not approved and not note:
        errors["note"] = [_("请填写不同意的理由")]
    if len(note) > NOTE_MAX:
        errors.setdefault("note", []).append(_("审批意见最多 %(n)d 个字") % {"n": NOTE_MAX})
    _errors_raise(errors)
    instance = engine.task_complete(
        instance,
        task.id,
        user=actor,
        data={"approved": approved, "amount": claim.amount},
        may=may_at(claim, task),
    )
    if instance.is_completed:
        action = "approve" if instance.result.get("approved") else "reject"
    else:
        action = "review" if approved else "reject"
    now = timezone.now()

    def update(locked: Claim) -> None:
        if action != "review":
            locked.decided_at = now
        if action == "approve":
            locked.paid_at = now

    transition_apply(
        CLAIM,
        claim,
        action,
        actor=actor,
        note=note or (_("同意") if approved else ""),
        data={
            "step": task.element_id,
            "step_name": task.name,
            "lane": task.lane,
            "process_version": instance.version.number,
            "amount": f"{claim.amount:,.2f}",
        },
        update=update,
        event_fields={"created_at": now},
    )
    if action == "approve":
        fund = ledger.fund_lock(claim.fund_id)  # held already: a no-op that returns the row
        ledger.compensation_post(fund=fund, claim=claim, amount=claim.amount, actor=actor, now=now)
    elif action == "review":
        _notify_waiting(claim, instance)
    return claim


@transaction.atomic
def claim_withdraw(*, claim: Claim, actor: User, note: str = "") -> Claim:
    """The institution withdraws a claim not yet decided (its case is left unfinished)."""
    transition_apply(CLAIM, claim, "withdraw", actor=actor, note=(note or "").strip())
    return claim


# --- recoveries ---------------------------------------------------------------------------


def claim_paid_amount(claim: Claim) -> Decimal:
    """What the fund paid on the claim (net of a reversed payment)."""
    total = (
        LedgerEntry.objects.filter(
            claim=claim, kind=EntryKind.COMPENSATION, reversed_by__isnull=True
        ).aggregate(s=Sum("amount"))["s"]
        or ZERO
    )
    return Decimal(total).quantize(CENT)


def claim_returned_amount(claim: Claim) -> Decimal:
    """What confirmed recoveries gave back to the fund on the claim."""
    total = (
        Recovery.objects.filter(claim=claim, status=R.CONFIRMED).aggregate(s=Sum("gov_return"))["s"]
        or ZERO
    )
    return Decimal(total).quantize(CENT)


@transaction.atomic
def recovery_report(
    *,
    actor: User,
    claim: Claim,
    amount: Any,
    recovered_on: Any,
    note: str = "",
    now: dt.datetime | None = None,
) -> Recovery:
    """The institution reports money recovered on a paid claim (all errors at once)."""
    from xinrong.accounts.permissions import require

    now = now or timezone.now()
    require(
        actor,
        "riskfund.recovery_report",
        claim,
        message=_("只有获得补偿的金融机构的客户经理或机构管理员可以报告追偿"),
    )
    claim = Claim.objects.select_for_update().get(pk=claim.pk)
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if claim.status != S.PAID:
        add(
            "claim",
            _("只有已补偿的申请可以报告追偿（当前：%(s)s）") % {"s": claim.get_status_display()},
        )
    value, problem = amount_parse(amount, label=_("追回金额"))
    if problem:
        add("amount", problem)
    elif value is not None:
        loss = claim.loss_principal + claim.loss_interest
        before = (
            Recovery.objects.filter(claim=claim)
            .exclude(status=R.RETURNED)
            .aggregate(s=Sum("amount"))["s"]
            or ZERO
        )
        if before + value > loss:
            add(
                "amount",
                _("累计追回金额不能超过损失 %(l)s 元（已报告 %(b)s 元）")
                % {"l": f"{loss:,.2f}", "b": f"{before:,.2f}"},
            )
    day: dt.date | None = None
    if isinstance(recovered_on, dt.date):
        day = recovered_on
    elif recovered_on:
        try:
            day = dt.date.fromisoformat(str(recovered_on).strip())
        except ValueError:
            add("recovered_on", _("追回日期格式不对，请用 年-月-日"))
    else:
        add("recovered_on", _("请填写追回日期"))
    if day is not None:
        if day > timezone.localdate(now):
            add("recovered_on", _("追回日期不能晚于今天"))
        elif claim.paid_at is not None and day < timezone.localdate(claim.paid_at):
            add(
                "recovered_on",
                _("追回日期不能早于补偿支付日 %(d)s")
                % {"d": timezone.localdate(claim.paid_at).isoformat()},
            )
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        add("note", _("追偿说明最多 %(n)d 个字") % {"n": NOTE_MAX})
    _errors_raise(errors)
    assert value is not None and day is not None
    recovery = Recovery.objects.create(
        claim=claim,
        number=_number("ZC", now),
        amount=value,
        recovered_on=day,
        note=note,
        reported_by=actor,
    )
    event_record(
        RECOVERY,
        recovery,
        "reported",
        actor=actor,
        note=note[:300],
        data={"amount": f"{value:,.2f}"},
        event_fields={"created_at": now},
        created=True,
    )
    from xinrong.riskfund.workflows.claims import office_users

    notify_on_commit(
        recipients=office_users(claim),
        kind="riskfund.recovery_reported",
        title=_("追偿待确认：%(c)s 追回 %(a)s 元") % {"c": claim.number, "a": f"{value:,.2f}"},
        body=claim.entity.name,
        link=CLAIM.link(claim) if CLAIM.link else "",
    )
    return recovery


def _recovery_locked(recovery: Recovery) -> tuple[Any, Claim]:
    """Lock the fund, then the claim (the kernel then locks the recovery)."""
    row = Recovery.objects.select_related("claim").get(pk=recovery.pk)
    fund = ledger.fund_lock(row.claim.fund_id)
    claim = (
        Claim.objects.select_for_update(of=("self",)).select_related("fund").get(pk=row.claim_id)
    )
    return fund, claim


@transaction.atomic
def recovery_confirm(*, actor: User, recovery: Recovery, note: str = "") -> Recovery:
    """The fund's office confirms a recovery: the government's pro-rata share goes back to the
    fund (capped at what the fund paid, less what earlier recoveries returned)."""
    RECOVERY.check(actor, recovery, "confirm")
    fund, claim = _recovery_locked(recovery)
    now = timezone.now()
    result: dict[str, Decimal] = {}

    def update(locked: Recovery) -> None:
        back = arithmetic.recovery_return(
            recovered=locked.amount,
            share=claim.share,
            paid=claim_paid_amount(claim),
            returned_before=claim_returned_amount(claim),
        )
        locked.gov_return = back
        locked.reviewed_by = actor
        locked.reviewed_at = now
        result["back"] = back

    # the amount the notice names is computed under the lock, so compute it once before too
    preview = arithmetic.recovery_return(
        recovered=Recovery.objects.get(pk=recovery.pk).amount,
        share=claim.share,
        paid=claim_paid_amount(claim),
        returned_before=claim_returned_amount(claim),
    )
    done = transition_apply(
        RECOVERY,
        recovery,
        "confirm",
        actor=actor,
        note=(note or "").strip(),
        data={"gov_return": f"{preview:,.2f}", "amount": f"{recovery.amount:,.2f}"},
        update=update,
        event_fields={"created_at": now},
    )
    if result["back"] > 0:
        ledger.recovery_post(
            fund=fund, recovery=done.obj, amount=result["back"], actor=actor, now=now
        )
    return recovery


@transaction.atomic
def recovery_return(*, actor: User, recovery: Recovery, note: str) -> Recovery:
    """The fund's office returns (退回) a recovery report, with the reason."""
    RECOVERY.check(actor, recovery, "return")
    _recovery_locked(recovery)
    now = timezone.now()

    def reviewed(locked: Recovery) -> None:
        locked.reviewed_by = actor
        locked.reviewed_at = now

    transition_apply(
        RECOVERY,
        recovery,
        "return",
        actor=actor,
        note=(note or "").strip(),
        update=reviewed,
        event_fields={"created_at": now},
    )
    return recovery
