"""Writes of special funds (专项资金): apply online, approve on the BPMN process, commit, pay.

Applying checks everything at once (the measure is open for applications, the entity is
eligible per the matching pass, the amount fits the cap, every listed material is attached and
of an allowed type and size) and starts a case of the active ``policies.special_fund_approval``
process. Each approval step is a user task of that case completed by the person its lane names
(受理部门 → 财政); the application moves on the workflow kernel so its timeline and notices
follow. The last agreement commits the approved amount against the measure's budget through
``budget.grant_commit`` (never past the budget); finance then records the payment.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts.models import User
from xinrong.common.errors import ApplicationError, ConflictError, PermissionDeniedError
from xinrong.credit.evidence import evidence_check
from xinrong.credit.recipients import entity_users
from xinrong.notifications.services import notify_on_commit
from xinrong.policies.choices import (
    Delivery,
    FundApplicationStatus,
    GrantSource,
    MeasureStatus,
)
from xinrong.policies.models import FundApplication, FundMaterial, Grant, Measure, PolicyMatch
from xinrong.policies.models.catalogue import APPLY_KINDS
from xinrong.policies.rules.funds import is_entity_member
from xinrong.policies.services import budget
from xinrong.policies.workflows.funds import FUND, PROCESS_KEY, steps_of
from xinrong.workflows import engine
from xinrong.workflows.engine import TaskView
from xinrong.workflows.kernel import event_record, transition_apply
from xinrong.workflows.models import ProcessInstance

S = FundApplicationStatus
CENT = Decimal("0.01")
# the kinds of measure that pay money on application (贴息 is paid per loan in batches)
MONEY_KINDS = APPLY_KINDS
OPEN = (S.SUBMITTED, S.IN_REVIEW)
LIVE = (S.SUBMITTED, S.IN_REVIEW, S.APPROVED, S.DISBURSED)
PURPOSE_MAX = 2000


def material_names(measure: Measure) -> list[str]:
    """Return the names of the materials a measure asks for (strings or ``{"name": …}``)."""
    names: list[str] = []
    for item in measure.materials or []:
        name = item.get("name", "") if isinstance(item, dict) else str(item)
        name = str(name).strip()
        if name and name not in names:
            names.append(name)
    return names


def money_parse(value: Any, *, label: str) -> tuple[Decimal | None, str]:
    """Return (yuan with two places, '') or (None, the error in Chinese naming ``label``)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, _("请填写%(f)s") % {"f": label}
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None, _("%(f)s必须是数字（元）") % {"f": label}
    if not amount.is_finite():
        return None, _("%(f)s必须是数字（元）") % {"f": label}
    if amount <= 0:
        return None, _("%(f)s必须大于0元") % {"f": label}
    if amount != amount.quantize(CENT):
        return None, _("%(f)s最多保留两位小数（分）") % {"f": label}
    return amount, ""


def amount_limit(measure: Measure) -> Decimal | None:
    """The most one application may ask for: the fixed amount, else the per-enterprise cap."""
    limits = [v for v in (measure.amount, measure.cap) if v is not None]
    return min(limits) if limits else None


def measure_open_problems(measure: Measure, today: dt.date) -> list[str]:
    """Return why a measure takes no applications today (nothing when it does)."""
    problems: list[str] = []
    if measure.status != MeasureStatus.PUBLISHED:
        problems.append(_("该措施未发布或已撤回，不能申请"))
    if measure.delivery != Delivery.APPLY:
        problems.append(_("该措施为免申即享，无需申请，符合条件的企业由部门确认后直接兑现"))
    if measure.kind not in MONEY_KINDS:
        problems.append(
            _("“%(k)s”类措施不通过专项资金申请办理") % {"k": measure.get_kind_display()}
        )
    if measure.window_start is not None and today < measure.window_start:
        problems.append(
            _("申报期自 %(d)s 开始，尚未开始") % {"d": measure.window_start.isoformat()}
        )
    if measure.window_end is not None and today > measure.window_end:
        problems.append(_("申报期已于 %(d)s 截止") % {"d": measure.window_end.isoformat()})
    return problems


def _entity_of(actor: User) -> Any:
    org = actor.organisation
    entity = getattr(org, "market_entity", None) if org is not None else None
    if entity is None or not is_entity_member(actor, entity):
        raise PermissionDeniedError("forbidden", _("只有企业用户可以为本企业申请专项资金"))
    return entity


def _reference_no(now: dt.datetime) -> str:
    return f"ZX{timezone.localtime(now):%Y%m%d}{uuid.uuid4().hex[:8].upper()}"


@transaction.atomic
def fund_apply(
    *,
    actor: User,
    measure: Measure,
    requested: Any,
    purpose: str,
    materials: Mapping[str, File[Any]],
    now: dt.datetime | None = None,
) -> FundApplication:
    """Apply for a special fund under ``measure`` for the actor's enterprise.

    ``materials`` maps each material name the measure lists to its uploaded file. Every problem
    is reported at once (ValidationError naming each field); nothing is written on refusal.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    entity = _entity_of(actor)
    measure = Measure.objects.select_related("document").get(pk=measure.pk)
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    for problem in measure_open_problems(measure, today):
        add("measure", problem)
    if not PolicyMatch.objects.filter(measure=measure, entity=entity, eligible=True).exists():
        add("measure", _("贵企业目前不符合该措施的申报条件（以最近一次政策匹配结果为准）"))
    if FundApplication.objects.filter(measure=measure, entity=entity, status__in=LIVE).exists():
        add("measure", _("贵企业已申请过该措施，不能重复申请"))
    amount, problem = money_parse(requested, label=_("申请金额"))
    if problem:
        add("requested", problem)
    limit = amount_limit(measure)
    if amount is not None and limit is not None and amount > limit:
        add(
            "requested",
            _("申请金额不能超过该措施的单户上限 %(c)s 元") % {"c": f"{limit:,.2f}"},
        )
    purpose = (purpose or "").strip()
    if not purpose:
        add("purpose", _("请填写资金用途"))
    elif len(purpose) > PURPOSE_MAX:
        add("purpose", _("资金用途最多 %(n)d 个字") % {"n": PURPOSE_MAX})
    checked: list[tuple[str, Any]] = []
    for index, name in enumerate(material_names(measure)):
        upload = materials.get(name)
        field = f"material_{index}"
        if upload is None:
            add(field, _("请上传申报材料：%(m)s") % {"m": name})
            continue
        try:
            checked.append((name, evidence_check([upload], field=field)[0]))
        except ApplicationError as exc:
            add(field, f"{name}：{exc.message}")
    if errors:
        raise ValidationError({k: [ValidationError(m) for m in v] for k, v in errors.items()})
    assert amount is not None
    application = FundApplication.objects.create(
        reference_no=_reference_no(now),
        measure=measure,
        measure_version=measure.version,
        entity=entity,
        applicant=actor,
        requested=amount,
        purpose=purpose,
        status=S.SUBMITTED,
        submitted_at=now,
    )
    stored: list[FundMaterial] = []
    try:
        for name, f in checked:
            row = FundMaterial(application=application, name=name)
            row.file.save(f.name, f.upload, save=False)
            stored.append(row)
        FundMaterial.objects.bulk_create(stored)
    except Exception:
        for row in stored:
            row.file.delete(save=False)
        raise
    event_record(
        FUND,
        application,
        "filed",
        actor=actor,
        note=purpose[:300],
        data={"requested": str(amount)},
        event_fields={"created_at": now},
        created=True,
    )
    instance = _process_start(application)
    _notify_waiting(application, instance)
    return application


# --- the approval process ------------------------------------------------------------------


def _process_start(application: FundApplication) -> ProcessInstance:
    return engine.process_start(
        PROCESS_KEY,
        subject=application,
        data={"requested": application.requested, "amount": application.requested},
    )


def fund_open_steps(*, application: FundApplication) -> list[TaskView]:
    """Return the steps the application waits for (none once decided)."""
    if application.status not in OPEN:
        return []
    instance = engine.instance_for(application)
    return engine.open_tasks(instance) if instance is not None else []


def fund_step_for(*, application: FundApplication, user: Any) -> TaskView | None:
    """Return the open step this user may complete, if any."""
    if application.status not in OPEN:
        return None
    return engine.step_for(engine.instance_for(application), user, steps_of(application))


def _notify_waiting(application: FundApplication, instance: ProcessInstance) -> None:
    """Tell the people the case now waits for."""
    people = engine.waiting_people(instance, steps_of(application))
    if not people:
        return
    tasks = engine.open_tasks(instance)
    notify_on_commit(
        recipients=people,
        kind="policies.fund_awaiting",
        title=_("专项资金申请待您审核（%(step)s）：%(e)s")
        % {"step": "、".join(t.name for t in tasks), "e": application.entity.name},
        body=_("%(m)s · 申请金额 %(a)s 元")
        % {"m": application.measure.title, "a": f"{application.requested:,.2f}"},
        link=FUND.link(application) if FUND.link else "",
    )


@transaction.atomic
def fund_decide(
    *,
    application: FundApplication,
    actor: User,
    approved: bool,
    amount: Any = None,
    note: str = "",
) -> FundApplication:
    """Agree (with the approved amount) or refuse at the step the actor holds.

    The department proposes the approved amount; finance confirms or lowers it. When the last
    step agrees, the amount is committed against the measure's budget; a budget that cannot
    take it refuses the approval and nothing is written.
    """
    application = (
        FundApplication.objects.select_for_update(of=("self",))
        .select_related("entity", "measure__document")
        .get(pk=application.pk)
    )
    if application.status not in OPEN:
        raise ConflictError(
            "invalid_transition",
            _("该申请已办结（%(s)s）") % {"s": application.get_status_display()},
            {"field": "status"},
        )
    started = engine.instance_for(application)
    instance = started if started is not None else _process_start(application)
    tasks = engine.open_tasks(instance)

    may_for = steps_of(application)

    def reason(t: Any) -> str:
        return engine.task_may(instance, t, actor, may_for(t))

    task = next((t for t in tasks if not reason(t)), None)
    if task is None:
        reasons = [reason(t) for t in tasks]
        raise PermissionDeniedError(
            "forbidden",
            reasons[0] if reasons else _("该申请当前没有待办的审批环节"),
            {"steps": [t.name for t in tasks]},
        )
    note = (note or "").strip()
    value: Decimal | None = None
    errors: dict[str, list[str]] = {}
    if approved:
        default = application.approved if application.approved is not None else None
        raw = amount if amount not in (None, "") else default
        value, problem = money_parse(raw, label=_("核定金额"))
        if problem:
            errors["amount"] = [problem]
        elif value is not None:
            if value > application.requested:
                errors["amount"] = [
                    _("核定金额不能超过申请金额 %(r)s 元") % {"r": f"{application.requested:,.2f}"}
                ]
            limit = amount_limit(application.measure)
            if limit is not None and value > limit:
                errors.setdefault("amount", []).append(
                    _("核定金额不能超过该措施的单户上限 %(c)s 元") % {"c": f"{limit:,.2f}"}
                )
    elif not note:
        errors["note"] = [_("请填写不同意的理由")]
    if len(note) > 2000:
        errors.setdefault("note", []).append(_("审批意见最多 2000 个字"))
    if errors:
        raise ValidationError({k: [ValidationError(m) for m in v] for k, v in errors.items()})
    data: dict[str, Any] = {"approved": approved}
    if value is not None:
        data["amount"] = value
    instance = engine.task_complete(instance, task.id, user=actor, data=data, may=may_for(task))
    if instance.is_completed:
        action = "approve" if instance.result.get("approved") else "reject"
    else:
        action = "review" if approved else "reject"
    now = timezone.now()

    def update(locked: FundApplication) -> None:
        if value is not None:
            locked.approved = value
        if action != "review":
            locked.decided_at = now
            locked.decision_note = note
        if action == "reject":
            locked.approved = None

    transition_apply(
        FUND,
        application,
        action,
        actor=actor,
        note=note or (_("同意") if approved else ""),
        data={
            "step": task.element_id,
            "step_name": task.name,
            "lane": task.lane,
            "process_version": instance.version.number,
            **({"approved": f"{value:,.2f}"} if value is not None else {}),
        },
        update=update,
        event_fields={"created_at": now},
    )
    if action == "approve":
        assert value is not None
        budget.grant_commit(
            measure=application.measure,
            entity=application.entity,
            amount=value,
            source=GrantSource.APPLICATION,
            actor=actor,
            application=application,
        )
    elif action == "review":
        _notify_waiting(application, instance)
    return application


@transaction.atomic
def fund_disburse(*, application: FundApplication, actor: User, voucher_no: str) -> FundApplication:
    """Record that finance paid an approved application (its grant is disbursed)."""
    FUND.check(actor, application, "disburse")
    grant = Grant.objects.filter(application=application).first()
    if grant is None:
        raise ConflictError(
            "grant_missing", _("该申请没有已核定的资金，不能登记拨付"), {"field": "status"}
        )
    grant = budget.grant_disburse(grant=grant, voucher_no=voucher_no, actor=actor)
    transition_apply(
        FUND,
        application,
        "disburse",
        actor=actor,
        data={"amount": f"{grant.amount:,.2f}", "voucher_no": grant.voucher_no},
        update=lambda locked: setattr(locked, "disbursed_at", grant.disbursed_at),
    )
    return application


@transaction.atomic
def fund_withdraw(*, application: FundApplication, actor: User, note: str = "") -> FundApplication:
    """The enterprise withdraws an application not yet decided (its case is left unfinished)."""
    transition_apply(FUND, application, "withdraw", actor=actor, note=(note or "").strip())
    return application


@transaction.atomic
def grant_pay(*, grant: Grant, actor: User, voucher_no: str) -> Grant:
    """Finance records the payment of any committed grant (an application's, a 免申即享 one,
    a 贴息 line's); an application moves to 已拨付, an enterprise granted without applying is told.
    """
    from xinrong.policies.rules.funds import is_finance

    if not is_finance(actor):
        raise PermissionDeniedError("forbidden", _("只有财政部门的资金审批人可以登记拨付"))
    if grant.application_id is not None:
        application = FundApplication.objects.get(pk=grant.application_id)
        fund_disburse(application=application, actor=actor, voucher_no=voucher_no)
        return Grant.objects.get(pk=grant.pk)
    paid = budget.grant_disburse(grant=grant, voucher_no=voucher_no, actor=actor)
    measure = Measure.objects.get(pk=paid.measure_id)
    notify_on_commit(
        recipients=entity_users(entity=paid.entity),
        kind="policies.grant_disbursed",
        title=_("政策资金已拨付：%(m)s %(a)s 元")
        % {"m": measure.title, "a": f"{paid.amount:,.2f}"},
        body=_("拨付凭证号 %(v)s") % {"v": paid.voucher_no},
        link="/policies/funds/mine/",
    )
    return paid
