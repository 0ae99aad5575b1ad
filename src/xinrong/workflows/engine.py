"""Run cases on BPMN processes: start one, list its open tasks, let the right person complete one.

Domains call these functions and know nothing of SpiffWorkflow::

    instance = process_start("credit.repair_approval", subject=repair,
                             data={"records": 3, "division_code": "630102"})
    for task in open_tasks(instance): ...          # TaskView(id, name, lane, roles, ...)
    task_complete(instance, task.id, user=reviewer, data={"approved": True},
                  may=lambda user: department_holds_record(user, repair))
    if instance.is_completed and instance.result["approved"]: ...

A case keeps the serialized SpiffWorkflow state (which carries its own copy of the process), so
it finishes on the version it started with even after a newer version is activated. Who may
complete a task is decided by its lane's mapping on that version (roles, named people, optionally
the kind of organisation), then by the domain's object check ``may``; the same person may not
complete two steps of one lane in one case (a second review needs a second reviewer).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from xinrong.audit.services import audit_record
from xinrong.common.errors import (
    ApplicationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
)
from xinrong.workflows import bpmn
from xinrong.workflows.choices import InstanceStatus, VersionStatus
from xinrong.workflows.models import ProcessDefinition, ProcessInstance, ProcessVersion


def _serializer() -> BpmnWorkflowSerializer:
    registry = BpmnWorkflowSerializer.configure()
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda v: Decimal(v["value"]))
    return BpmnWorkflowSerializer(registry)


_SERIALIZER = _serializer()


@dataclass(frozen=True)
class TaskView:
    """An open user task of a case, and who may complete it."""

    id: str
    name: str
    lane: str
    roles: tuple[str, ...]
    element_id: str = ""
    lane_id: str = ""
    users: tuple[int, ...] = ()
    org_kind: str = ""


def _dump(workflow: BpmnWorkflow) -> str:
    """Serialize the case as SpiffWorkflow's JSON text.

    Kept as one JSON string, not as an object: PostgreSQL's jsonb reorders object keys, and
    SpiffWorkflow rebuilds its task tree (and each task's data) in the order the tasks were
    written, so an object would lose the process variables on PostgreSQL.
    """
    return str(_SERIALIZER.serialize_json(workflow))


def _load(instance: ProcessInstance) -> BpmnWorkflow:
    state = instance.state
    workflow = _SERIALIZER.deserialize_json(state if isinstance(state, str) else json.dumps(state))
    workflow.script_engine = bpmn.script_engine()
    return workflow


def _plain(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if not k.startswith("_") and k != "data_objects"}


def _subject_ref(subject: models.Model | tuple[str, Any]) -> tuple[str, str]:
    if isinstance(subject, tuple):
        label, pk = subject
        return str(label), str(pk)
    return subject._meta.label_lower, str(subject.pk)


def _engine_steps(workflow: BpmnWorkflow) -> None:
    try:
        workflow.do_engine_steps()
    except SpiffWorkflowException as exc:
        raise ApplicationError(
            "process_error",
            _("审批流程无法继续：%(error)s；请联系运营管理员检查流程的分支条件") % {"error": exc},
            status=409,
        ) from exc


def _finish(instance: ProcessInstance, workflow: BpmnWorkflow, data: Mapping[str, Any]) -> None:
    instance.state = _dump(workflow)
    model = bpmn.read(instance.version.bpmn_xml)
    instance.waiting = [
        _as_dict(_lane_view(instance.version, task, model))
        for task in workflow.get_tasks(state=TaskState.READY, manual=True)
    ]
    if workflow.is_completed():
        instance.status = InstanceStatus.COMPLETED
        ends = [
            t.task_spec.bpmn_id
            for t in workflow.get_tasks(state=TaskState.COMPLETED)
            if getattr(t.task_spec, "bpmn_id", None) and type(t.task_spec).__name__ == "EndEvent"
        ]
        instance.end_event = ends[-1] if ends else ""
        instance.data = _plain(workflow.data)
    else:
        instance.data = _plain(data)


def active_version(key: str) -> ProcessVersion:
    """Return the active version of a process (NotFoundError in Chinese when there is none)."""
    if not ProcessDefinition.objects.filter(key=key).exists():
        # a flushed database (tests, a reset demo) lost the shipped processes: put them back
        from xinrong.workflows.services import ensure_default_processes

        ensure_default_processes()
    version = (
        ProcessVersion.objects.select_related("definition")
        .filter(definition__key=key, status=VersionStatus.ACTIVE)
        .first()
    )
    if version is None:
        raise NotFoundError(
            "process_not_active",
            _("审批流程「%(key)s」没有启用中的版本；请运营管理员启用一个版本") % {"key": key},
        )
    return version


@transaction.atomic
def process_start(
    key: str, *, subject: models.Model | tuple[str, Any], data: Mapping[str, Any]
) -> ProcessInstance:
    """Start a case of the process's active version for a business object, with its data."""
    version = active_version(key)
    spec = bpmn.spec_parse(version.bpmn_xml)
    workflow = BpmnWorkflow(spec, script_engine=bpmn.script_engine())
    start_data = dict(data)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(start_data)
    _engine_steps(workflow)
    subject_model, subject_id = _subject_ref(subject)
    instance = ProcessInstance(
        version=version, subject_model=subject_model, subject_id=subject_id, actors=[]
    )
    _finish(instance, workflow, start_data)
    instance.save()
    return instance


def instance_for(subject: models.Model | tuple[str, Any]) -> ProcessInstance | None:
    """Return the latest case of a business object, if any."""
    subject_model, subject_id = _subject_ref(subject)
    return (
        ProcessInstance.objects.select_related("version__definition")
        .filter(subject_model=subject_model, subject_id=subject_id)
        .order_by("-created_at", "-id")
        .first()
    )


def _lane_view(version: ProcessVersion, task: Any, model: bpmn.ProcessModel) -> TaskView:
    element_id = task.task_spec.bpmn_id
    lane_id = model.lane_of.get(element_id, "")
    entry = version.lane_map.get(lane_id) or {}
    lane = model.lanes.get(lane_id)
    return TaskView(
        id=str(task.id),
        name=task.task_spec.bpmn_name or element_id,
        lane=(lane.name or lane.id) if lane else "",
        roles=tuple(entry.get("roles", [])),
        element_id=element_id,
        lane_id=lane_id,
        users=tuple(int(u) for u in entry.get("users", [])),
        org_kind=str(entry.get("org_kind", "") or ""),
    )


def _as_dict(task: TaskView) -> dict[str, Any]:
    return {
        "id": task.id,
        "name": task.name,
        "lane": task.lane,
        "roles": list(task.roles),
        "task": task.element_id,
        "lane_id": task.lane_id,
        "users": list(task.users),
        "org_kind": task.org_kind,
    }


def _from_dict(row: Mapping[str, Any]) -> TaskView:
    return TaskView(
        id=str(row["id"]),
        name=str(row["name"]),
        lane=str(row["lane"]),
        roles=tuple(row.get("roles", [])),
        element_id=str(row.get("task", "")),
        lane_id=str(row.get("lane_id", "")),
        users=tuple(int(u) for u in row.get("users", [])),
        org_kind=str(row.get("org_kind", "")),
    )


def open_tasks(instance: ProcessInstance) -> list[TaskView]:
    """Return the case's user tasks that wait for a person (kept on the row at each step)."""
    if instance.is_completed:
        return []
    return [_from_dict(row) for row in instance.waiting]


def user_matches(user: Any, task: TaskView) -> bool:
    """Return True if the user fits the task's lane: a named person, or a role (and org kind)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.pk in task.users:
        return True
    roles: frozenset[str] = getattr(user, "role_codes", frozenset())
    if not (set(task.roles) & set(roles)):
        return False
    if task.org_kind:
        org = getattr(user, "organisation", None)
        return org is not None and org.kind == task.org_kind
    return True


def tasks_for(
    user: Any,
    *,
    key: str | None = None,
    subject_model: str | None = None,
    instances: Iterable[ProcessInstance] | None = None,
) -> list[tuple[ProcessInstance, TaskView]]:
    """Return the open tasks the user's lane mapping fits (the domain still checks the object)."""
    if instances is None:
        qs = ProcessInstance.objects.select_related("version__definition").filter(
            status=InstanceStatus.RUNNING
        )
        if key:
            qs = qs.filter(version__definition__key=key)
        if subject_model:
            qs = qs.filter(subject_model=subject_model)
        instances = qs
    found: list[tuple[ProcessInstance, TaskView]] = []
    for instance in instances:
        for task in open_tasks(instance):
            if user_matches(user, task):
                found.append((instance, task))
    return found


def task_may(
    instance: ProcessInstance,
    task: TaskView,
    user: Any,
    may: Callable[[Any], bool] | None = None,
) -> str:
    """Return why the user may not complete the task ('' when they may)."""
    if not user_matches(user, task):
        return _("「%(task)s」这一步由%(lane)s办理，您不是办理人") % {
            "task": task.name,
            "lane": task.lane,
        }
    for step in instance.actors:
        if step.get("lane") == task.lane_id and step.get("user") == user.pk:
            return _("您已办理过本案件「%(lane)s」中的一步，「%(task)s」须由另一位人员办理") % {
                "lane": task.lane,
                "task": task.name,
            }
    if may is not None and not may(user):
        return _("您无权办理本案件的「%(task)s」") % {"task": task.name}
    return ""


@transaction.atomic
def task_complete(
    instance: ProcessInstance,
    task_id: str,
    *,
    user: Any,
    data: Mapping[str, Any],
    may: Callable[[Any], bool] | None = None,
) -> ProcessInstance:
    """Complete an open task of the case as ``user`` with ``data``; move the process on."""
    locked = (
        ProcessInstance.objects.select_for_update()
        .select_related("version__definition")
        .get(pk=instance.pk)
    )
    if locked.is_completed:
        raise ConflictError("process_completed", _("该审批流程已结束，不能再办理"))
    workflow = _load(locked)
    try:
        uuid = UUID(str(task_id))
    except ValueError as exc:
        raise NotFoundError("task_not_found", _("审批任务不存在")) from exc
    task = next(
        (t for t in workflow.get_tasks(state=TaskState.READY, manual=True) if t.id == uuid),
        None,
    )
    if task is None:
        raise ConflictError("task_not_open", _("该审批任务已办理或不存在；请刷新页面"))
    view = _lane_view(locked.version, task, bpmn.read(locked.version.bpmn_xml))
    reason = task_may(locked, view, user, may)
    if reason:
        raise PermissionDeniedError("task_forbidden", reason, {"task": view.element_id})
    task.data.update(dict(data))
    try:
        task.run()
    except SpiffWorkflowException as exc:
        raise ApplicationError(
            "process_error", _("审批任务无法完成：%(error)s") % {"error": exc}, status=409
        ) from exc
    _engine_steps(workflow)
    locked.actors = [
        *locked.actors,
        {
            "task": view.element_id,
            "name": view.name,
            "lane": view.lane_id,
            "user": user.pk,
            "at": timezone.now().isoformat(),
        },
    ]
    _finish(locked, workflow, task.data)
    locked.save()
    audit_record(
        category="approval",
        action="bpmn.task_complete",
        actor=user,
        target_type="workflows.processinstance",
        target_id=locked.pk,
        target_label=f"{locked.version.definition.name} · {view.name}",
        details={"task": view.element_id, "lane": view.lane_id},
    )
    instance.refresh_from_db()
    return locked


def definition_get(key: str) -> ProcessDefinition:
    """Return a process definition by key (NotFoundError in Chinese)."""
    try:
        return ProcessDefinition.objects.get(key=key)
    except ProcessDefinition.DoesNotExist as exc:
        raise NotFoundError(
            "process_not_found", _("审批流程「%(key)s」不存在") % {"key": key}
        ) from exc


def task_candidates(task: TaskView) -> list[Any]:
    """Return the active users a task's lane names (roles within the org kind, or by name)."""
    from django.db.models import Q

    from xinrong.accounts.models import User

    by_role = Q(roles__role__in=task.roles) if task.roles else Q(pk__in=[])
    if task.org_kind:
        by_role &= Q(organisation__kind=task.org_kind)
    return list(
        User.objects.filter(by_role | Q(pk__in=task.users), is_active=True)
        .select_related("organisation")
        .distinct()
        .order_by("pk")
    )


MayAt = Callable[[TaskView], Callable[[Any], bool] | None]


def holds_step(user: Any, instance: ProcessInstance | None, may_at: MayAt) -> bool:
    """The user may complete one of the case's open steps (``may_at(task)`` is the domain's
    object check of that step)."""
    if instance is None:
        return False
    return any(not task_may(instance, t, user, may_at(t)) for t in open_tasks(instance))


def takes_part(
    user: Any, instance: ProcessInstance | None, *, steps_applied: int, may_at: MayAt
) -> bool:
    """The user completes one of the case's open steps, or has just completed one whose status
    change the domain has not applied yet (fewer decision events written than steps completed):
    the right a workflow action asks for, which ends once the step's event is written."""
    if instance is None:
        return False
    last = instance.actors[-1].get("user") if instance.actors else None
    if last == user.pk and steps_applied < len(instance.actors):
        return True
    return holds_step(user, instance, may_at)


def step_for(instance: ProcessInstance | None, user: Any, may_at: MayAt) -> TaskView | None:
    """The first of the case's open steps the user may complete, if any."""
    if instance is None:
        return None
    return next(
        (t for t in open_tasks(instance) if not task_may(instance, t, user, may_at(t))), None
    )


def step_refusal(instance: ProcessInstance | None, user: Any, may_at: MayAt) -> str:
    """Why the user may take none of the case's open steps ('' when they may, or none is open)."""
    if instance is None:
        return ""
    reasons = [task_may(instance, t, user, may_at(t)) for t in open_tasks(instance)]
    return "" if any(r == "" for r in reasons) else (reasons[0] if reasons else "")


def waiting_people(instance: ProcessInstance, may_at: MayAt) -> list[Any]:
    """The people who may take one of the case's open steps now (each once), to tell them."""
    people: dict[int, Any] = {}
    for task in open_tasks(instance):
        for user in task_candidates(task):
            if not task_may(instance, task, user, may_at(task)):
                people.setdefault(user.pk, user)
    return list(people.values())


def subjects_waiting_for(user: Any, *, key: str) -> list[str]:
    """Return the ids of the business objects whose open task the user's lane mapping fits."""
    return sorted(
        {instance.subject_id for instance, _task in tasks_for(user, key=key)},
        key=lambda s: (len(s), s),
    )


def subjects_handled_by(user: Any, *, key: str) -> list[str]:
    """Return the ids of the business objects whose case the user completed a step of."""
    rows = ProcessInstance.objects.filter(version__definition__key=key).values_list(
        "subject_id", "actors"
    )
    return sorted(
        {subject for subject, actors in rows if any(a.get("user") == user.pk for a in actors)},
        key=lambda s: (len(s), s),
    )
