"""Writes of credit repair (信用修复): apply, then each approval step of the BPMN process.

Filing starts a case of the active ``credit.repair_approval`` process version with the data
it routes on (how many penalty records the enterprise has, its division code). Each review is
a user task of that case, completed by the person its lane names (xinrong.workflows.engine);
the application moves on the workflow kernel (xinrong.credit.workflows_repair), so its
timeline and notices follow the process. The last agreement approves the repair.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.files.base import File
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts.models import User
from xinrong.accounts.permissions import is_operator_admin
from xinrong.common.errors import ApplicationError, ConflictError, PermissionDeniedError
from xinrong.credit import rules
from xinrong.credit.choices import RepairEventKind, RepairStatus
from xinrong.credit.evidence import evidence_check
from xinrong.credit.models import RepairApplication, RepairEvidence
from xinrong.credit.publication import PUBLICATION_PERIODS, REPAIRABLE_CATEGORY, repair_earliest_on
from xinrong.credit.services.common import evidence_store, fact_for_update, text_clean
from xinrong.credit.tasks import rescore_entities_schedule
from xinrong.credit.workflows_repair import PROCESS_KEY, REPAIR, repair_may
from xinrong.datahub.models import Fact
from xinrong.notifications.services import notify_on_commit
from xinrong.workflows import engine
from xinrong.workflows.engine import TaskView
from xinrong.workflows.kernel import event_record, transition_apply
from xinrong.workflows.models import ProcessInstance


def _repair_link(application: RepairApplication) -> str:
    return reverse("credit:repair_detail", args=[application.pk])


def repair_eligibility(*, fact: Fact) -> dt.date:
    """Return the first day repair may be asked for this fact; raise if it never may.

    Only administrative-penalty facts with a known severity and decision date qualify.
    """
    if fact.category != REPAIRABLE_CATEGORY:
        raise ApplicationError(
            "not_repairable",
            _("只有行政处罚信息可以申请信用修复"),
            {"field": "fact_id"},
            status=422,
        )
    period = PUBLICATION_PERIODS.get(fact.grade)
    if period is None or fact.occurred_on is None:
        raise ApplicationError(
            "severity_unknown",
            _("该处罚信息缺少严重程度或处罚日期，无法确定公示期，请先就该信息提出异议"),
            {"field": "fact_id"},
            status=422,
        )
    return repair_earliest_on(severity=fact.grade, decided_on=fact.occurred_on)


@transaction.atomic
def repair_apply(
    *,
    actor: User,
    fact: Fact | int,
    statement: str,
    evidence: Sequence[File[Any]] = (),
    now: dt.datetime | None = None,
) -> RepairApplication:
    """Apply to repair a penalty record after its minimum publication period, with evidence."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    locked = fact_for_update(fact if isinstance(fact, int) else fact.pk)
    entity = locked.entity
    if not rules.is_entity_member(actor, entity):
        raise PermissionDeniedError("forbidden", _("只能为本企业的处罚信息申请信用修复"))
    earliest = repair_eligibility(fact=locked)
    assert locked.occurred_on is not None
    if today < earliest:
        period = PUBLICATION_PERIODS[locked.grade]
        raise ApplicationError(
            "too_early",
            _(
                "“%(s)s”行政处罚的最短公示期为 %(m)d 个月：自处罚日期 %(d)s 起至 %(end)s 届满，"
                "%(first)s 起方可申请信用修复"
            )
            % {
                "s": period.label,
                "m": period.min_months,
                "d": locked.occurred_on.isoformat(),
                "end": (earliest - dt.timedelta(days=1)).isoformat(),
                "first": earliest.isoformat(),
            },
            {"field": "fact_id", "earliest": earliest.isoformat()},
            status=422,
        )
    existing = (
        RepairApplication.objects.filter(
            fact=locked, status__in=(RepairStatus.SUBMITTED, RepairStatus.APPROVED)
        )
        .order_by("status")
        .first()
    )
    if existing is not None:
        message = (
            _("该处罚信息已经修复")
            if existing.status == RepairStatus.APPROVED
            else _("该处罚信息已有待审核的修复申请（编号 %(n)d）") % {"n": existing.pk}
        )
        raise ConflictError("repair_exists", message, {"field": "fact_id"})
    statement = text_clean(statement, field="statement", label=_("整改情况说明"), required=True)
    if not evidence:
        raise ApplicationError(
            "evidence_required",
            _("请上传整改证明材料（如罚款缴纳凭证、整改报告）"),
            {"field": "evidence"},
            status=422,
        )
    checked = evidence_check(list(evidence))
    application = RepairApplication(
        entity=entity,
        fact=locked,
        source=locked.source,
        severity=locked.grade,
        decided_on=locked.occurred_on,
        statement=statement,
        filed_by=actor,
        submitted_at=now,
    )
    application.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            application.save()
    except IntegrityError as exc:
        raise ConflictError(
            "repair_exists", _("该处罚信息已有待审核的修复申请"), {"field": "fact_id"}
        ) from exc
    evidence_store(RepairEvidence, {"application": application}, checked, actor)
    event_record(
        REPAIR,
        application,
        RepairEventKind.FILED,
        actor=actor,
        note=statement,
        event_fields={"created_at": now},
        created=True,
    )
    instance = _process_start(application)
    _notify_waiting(
        application,
        instance,
        kind="repair.filed",
        title=_("新的信用修复申请：%(e)s") % {"e": entity.name},
    )
    return application


# --- the approval process: each step is a user task of the BPMN process ------------------


def repair_records(*, application: RepairApplication) -> int:
    """Return how many penalty records the enterprise has (the process routes on it)."""
    return Fact.objects.filter(
        entity_id=application.entity_id, category=REPAIRABLE_CATEGORY
    ).count()


def _process_start(application: RepairApplication) -> ProcessInstance:
    return engine.process_start(
        PROCESS_KEY,
        subject=application,
        data={
            "records": repair_records(application=application),
            "division_code": application.entity.division_code or "",
        },
    )


@transaction.atomic
def repair_process(*, application: RepairApplication) -> ProcessInstance:
    """Return the application's approval case (started now for one filed before processes)."""
    instance = engine.instance_for(application)
    if instance is None:
        locked = RepairApplication.objects.select_for_update().get(pk=application.pk)
        instance = engine.instance_for(locked) or _process_start(locked)
    return instance


def repair_open_steps(*, application: RepairApplication) -> list[TaskView]:
    """Return the steps the application waits for (none once decided)."""
    if application.status != RepairStatus.SUBMITTED:
        return []
    instance = engine.instance_for(application)
    return engine.open_tasks(instance) if instance is not None else []


def repair_step_for(*, application: RepairApplication, user: User) -> TaskView | None:
    """Return the open step this user may complete, if any."""
    instance = engine.instance_for(application)
    if instance is None or application.status != RepairStatus.SUBMITTED:
        return None
    for task in engine.open_tasks(instance):
        if not engine.task_may(instance, task, user, lambda u: repair_may(u, application)):
            return task
    return None


def _waiting_people(application: RepairApplication, instance: ProcessInstance) -> list[User]:
    """Return who the case now waits for: the holding department before the operators."""
    people: dict[int, User] = {}
    may = lambda user: repair_may(user, application)  # noqa: E731
    for task in engine.open_tasks(instance):
        for user in engine.task_candidates(task):
            if not engine.task_may(instance, task, user, may):  # fits, and not a second go
                people.setdefault(user.pk, user)
    found = list(people.values())
    department = [u for u in found if rules.is_source_handler(u, application.source)]
    if department:  # the operators stand in only where the department has nobody
        found = [u for u in found if not is_operator_admin(u) or u in department]
    return found


def _notify_waiting(
    application: RepairApplication, instance: ProcessInstance, *, kind: str, title: str = ""
) -> None:
    """Tell the people the case now waits for (the department when a repair awaits it)."""
    entity = application.entity
    steps = "、".join(t.name for t in engine.open_tasks(instance))
    people = _waiting_people(application, instance)
    if not people:
        return
    notify_on_commit(
        recipients=people,
        kind=kind,
        title=title
        or _("信用修复申请待您审核（%(step)s）：%(e)s") % {"step": steps, "e": entity.name},
        body=_("决定书文号 %(no)s · 处罚日期 %(d)s\n%(s)s")
        % {
            "no": application.fact.reference_no,
            "d": application.decided_on.isoformat(),
            "s": application.statement[:200],
        },
        link=_repair_link(application),
        organisation_id=application.source.organisation_id,
    )


def _repair_step(
    *, application: RepairApplication, actor: User, approved: bool, reason: str
) -> RepairApplication:
    application = (
        RepairApplication.objects.select_for_update(of=("self",))
        .select_related("entity", "source", "fact")
        .get(pk=application.pk)
    )
    if application.status != RepairStatus.SUBMITTED:
        raise ConflictError(
            "invalid_transition",
            _("该申请已审核（%(s)s）") % {"s": application.get_status_display()},
            {"field": "status"},
        )
    instance = repair_process(application=application)
    tasks = engine.open_tasks(instance)
    may = lambda user: repair_may(user, application)  # noqa: E731
    task = next((t for t in tasks if not engine.task_may(instance, t, actor, may)), None)
    if task is None:
        reasons = [engine.task_may(instance, t, actor, may) for t in tasks]
        raise PermissionDeniedError(
            "forbidden",
            reasons[0] if reasons else _("该申请当前没有待办的审核环节"),
            {"steps": [t.name for t in tasks]},
        )
    instance = engine.task_complete(
        instance, task.id, user=actor, data={"approved": approved}, may=may
    )
    if instance.is_completed:
        action = "approve" if instance.result.get("approved") else "reject"
    else:
        action = "review"
    now = timezone.now()

    def decided(locked: RepairApplication) -> None:
        if action != "review":
            locked.decided_by = actor
            locked.decided_at = now
            locked.reason = reason

    effects: tuple[Any, ...] = ()
    if action == "approve":  # the repaired fact stops counting: the stored score must follow
        entity_id = application.entity_id
        effects = (lambda _obj: rescore_entities_schedule([entity_id]),)
    transition_apply(
        REPAIR,
        application,
        action,
        actor=actor,
        note=reason,
        data={
            "step": task.element_id,
            "step_name": task.name,
            "lane": task.lane,
            "process_version": instance.version.number,
        },
        update=decided,
        event_fields={"created_at": now},
        effects=effects,
    )
    if action == "review":
        _notify_waiting(application, instance, kind="repair.awaiting")
    return application


@transaction.atomic
def repair_approve(
    *, application: RepairApplication, actor: User, reason: str = ""
) -> RepairApplication:
    """Agree at the step the actor holds; the last agreement approves the repair.

    An approved repair stops the record being shown publicly and counting in scores.
    """
    reason = text_clean(reason, field="reason", label=_("审核意见"), required=False)
    return _repair_step(
        application=application,
        actor=actor,
        approved=True,
        reason=reason or _("整改到位，准予信用修复"),
    )


@transaction.atomic
def repair_reject(*, application: RepairApplication, actor: User, reason: str) -> RepairApplication:
    """Refuse repair at the step the actor holds, giving the reason; the process ends.

    The enterprise may apply again later.
    """
    reason = text_clean(reason, field="reason", label=_("不予修复的理由"), required=True)
    return _repair_step(application=application, actor=actor, approved=False, reason=reason)
