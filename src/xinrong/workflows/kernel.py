"""The workflow kernel: statuses, actions, who may take them, guards and events — declared as data.

Every stateful object of the platform (a loan application, a demand, a dispute, a repair…) moves
only through :func:`transition_apply`, which

1. locks the row (``SELECT … FOR UPDATE``) inside one transaction,
2. asks the permission layer whether the actor may take the action on that object,
3. refuses an action that does not leave the current status, or whose guards refuse,
4. applies the domain's field changes, moves the status and writes the timeline event,
5. queues the action's notices and side effects for after the commit.

A workflow is declared once, as data, in its app's ``workflows.py`` (Saleor's ``order/events.py``
and the old loan-application table were the models)::

    APPLICATION = register(Workflow(
        name="marketplace.application", label=_("贷款申请"),
        model=LoanApplication, event_model=ApplicationEvent, event_fk="application",
        statuses=ApplicationStatus,
        actions=(
            Action("accept", (S.SUBMITTED,), S.ACCEPTED, is_lender_officer, _("受理"),
                   notices=(Notice(enterprise_users, _("您的贷款申请已受理")),)),
            ...
        ),
    ))

Registering a workflow declares one named permission per action (``<workflow>.<action>``) in
the permission layer, so buttons, the API and the security page ask the same rule the kernel does.
Approvals that people configure (lanes, reviewers, thresholds) are BPMN processes
(:mod:`xinrong.workflows.models`); their steps still move the object through this kernel.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import rules
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xinrong.accounts.permissions import PERMISSIONS, can, declare, predicate
from xinrong.audit.services import audit_record
from xinrong.common.errors import ApplicationError, ConflictError, PermissionDeniedError
from xinrong.notifications.services import notify_on_commit
from xinrong.workflows.timeline import TimelineEvent

Label = str | Promise
Guard = Callable[[Any, Mapping[str, Any]], None]
Effect = Callable[[Any], None]


class TransitionRefused(ConflictError):
    """The action does not leave the object's current status (409)."""


@dataclass(frozen=True)
class Notice:
    """Who is told, after the commit, that an action happened; and what.

    ``title`` and ``body`` may name ``{obj}`` (the object), ``{label}`` (the action),
    ``{status}`` (the new status), ``{note}`` (the actor's note), ``{actor_org}`` (the actor's
    organisation) and any plain value of the transition's ``data``; a name the context lacks
    reads as nothing. The actor is never told of their own action.
    """

    recipients: Callable[[Any], Iterable[Any]]
    title: Label
    body: Label = ""
    link: Callable[[Any], str] | None = None
    kind: str = ""


@dataclass(frozen=True)
class Action:
    """One thing a person (or the platform) may do to an object in one of ``sources``.

    ``target`` is the status after it (``None``: the status stays — a note, a reminder).
    ``allowed(user, obj)`` comes from the permission layer. ``guards`` raise
    :class:`ApplicationError` to refuse (deadlines, amounts, missing documents). ``system``
    actions may also be taken by the platform itself (``actor=None``): the overdue sweep.
    """

    name: str
    sources: tuple[str, ...]
    target: str | None
    allowed: Callable[[Any, Any], bool]
    label: Label
    event: str = ""
    guards: tuple[Guard, ...] = ()
    system: bool = False
    notices: tuple[Notice, ...] = ()
    needs_note: bool = False
    who: Label = ""  # whom the action is for, in words: a refusal says "只有<who>可以<label>"

    @property
    def event_kind(self) -> str:
        """Return the code of the event this action writes."""
        return self.event or self.name


@dataclass(frozen=True)
class Deadline:
    """A date the people on a case wait for; they are reminded once, ``days_before`` it.

    ``due`` names a date or datetime field of the model, or a path to one across relations
    (``loan__instalments__due_on``, with ``where`` keeping the rows that still count, e.g. unpaid
    instalments); the reminder runs while the object is in one of ``statuses``. Each due date of
    an object is reminded once: a loan's next instalment is a new reminder. ``notice.title`` may
    also name ``{due}`` (the date, Beijing time) and ``{days}`` (days left). The reminder is written
    to the timeline as ``remind.<name>`` with the due date, which is also how the sweep knows it
    was sent.
    """

    name: str
    label: Label
    statuses: tuple[str, ...]
    due: str
    days_before: int
    notice: Notice
    where: models.Q | None = None

    @property
    def event_kind(self) -> str:
        """Return the event code written when the reminder is sent."""
        return f"remind.{self.name}"


@dataclass(frozen=True)
class Workflow:
    """A stateful model's statuses and actions, its event table and its notices."""

    name: str
    model: type[models.Model]
    event_model: type[TimelineEvent]
    event_fk: str
    statuses: type[models.TextChoices]
    actions: tuple[Action, ...]
    status_field: str = "status"
    label: Label = ""
    link: Callable[[Any], str] | None = None
    refused_code: str = "invalid_transition"
    deadlines: tuple[Deadline, ...] = ()
    _by_name: dict[str, Action] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        for a in self.actions:
            if a.name in self._by_name:
                raise ImproperlyConfigured(f"{self.name}: action {a.name} declared twice")
            self._by_name[a.name] = a

    def action(self, name: str) -> Action:
        """Return the action called ``name`` (ApplicationError 400 for an unknown one)."""
        try:
            return self._by_name[name]
        except KeyError:
            raise ApplicationError(
                "unknown_action",
                _("「%(workflow)s」没有名为 %(action)s 的操作")
                % {"workflow": self.label or self.name, "action": name},
                {"field": "action"},
            ) from None

    def permission(self, action: Action | str) -> str:
        """Return the name of the permission this action is declared as."""
        return f"{self.name}.{action if isinstance(action, str) else action.name}"

    def status_label(self, value: str) -> str:
        """Return the Chinese label of a status value (the value itself if unknown)."""
        try:
            return str(self.statuses(value).label)
        except ValueError:
            return value

    def status_of(self, obj: Any) -> str:
        """Return the object's current status value."""
        return str(getattr(obj, self.status_field))

    def actions_from(self, status: str) -> list[Action]:
        """Return the actions that leave ``status`` (for the API's hints and the docs)."""
        return [a for a in self.actions if status in a.sources]

    def may(self, user: Any, obj: Any, action: Action | str) -> bool:
        """Return True if ``user`` may take ``action`` on ``obj`` in its current status."""
        a = self._by_name[action] if isinstance(action, str) else action
        if self.status_of(obj) not in a.sources:
            return False
        if user is None:
            return a.system
        return can(user, self.permission(a), obj)

    def check(self, actor: Any, obj: Any, action: Action | str) -> Action:
        """Refuse as :func:`transition_apply` does: 403 for a person the layer refuses (or no
        person for an action people take), 409 for a status the action does not leave.

        Services that validate amounts or dates before moving call it first, so that a wrong
        person or status is reported before a bad input; ``transition_apply`` asks again under
        the lock. Returns the action.
        """
        a = self.action(action) if isinstance(action, str) else action
        if actor is None:
            if not a.system:
                raise PermissionDeniedError(
                    "forbidden", _("「%(action)s」须由人工办理") % {"action": a.label}
                )
        elif not can(actor, self.permission(a), obj):
            raise PermissionDeniedError(
                "forbidden",
                _("只有%(who)s可以%(action)s") % {"who": a.who, "action": a.label}
                if a.who
                else _("您无权%(action)s") % {"action": a.label},
                {"permission": self.permission(a), "action": a.name},
            )
        current = self.status_of(obj)
        if current not in a.sources:
            raise TransitionRefused(
                self.refused_code,
                _("当前状态为「%(status)s」，不能%(action)s")
                % {"status": self.status_label(current), "action": a.label},
                {"status": current, "action": a.name},
            )
        return a

    def available(self, user: Any, obj: Any) -> list[Action]:
        """Return the actions ``user`` may take on ``obj`` now (the buttons to draw)."""
        return [a for a in self.actions_from(self.status_of(obj)) if self.may(user, obj, a)]


@dataclass(frozen=True)
class TransitionResult:
    """What :func:`transition_apply` did: the locked, moved object and the event it wrote."""

    obj: Any
    event: TimelineEvent


WORKFLOWS: dict[str, Workflow] = {}


def register(workflow: Workflow) -> Workflow:
    """Check a workflow's table, declare one permission per action and keep it by name."""
    if workflow.name in WORKFLOWS:
        raise ImproperlyConfigured(f"workflow {workflow.name} registered twice")
    values = set(workflow.statuses.values)
    for a in workflow.actions:
        unknown = [s for s in (*a.sources, a.target) if s is not None and s not in values]
        if unknown:
            raise ImproperlyConfigured(f"{workflow.name}.{a.name}: unknown statuses {unknown}")
        if not a.sources:
            raise ImproperlyConfigured(f"{workflow.name}.{a.name}: no source status")
    for d in workflow.deadlines:
        unknown = [s for s in d.statuses if s not in values]
        if unknown:
            raise ImproperlyConfigured(f"{workflow.name} deadline {d.name}: unknown {unknown}")
        _due_field(workflow.model, d.due)  # FieldDoesNotExist for a wrong name
    fk = workflow.event_model._meta.get_field(workflow.event_fk)
    if getattr(fk, "related_model", None) is not workflow.model:
        raise ImproperlyConfigured(
            f"{workflow.name}: {workflow.event_model.__name__}.{workflow.event_fk} "
            f"does not point at {workflow.model.__name__}"
        )
    for a in workflow.actions:
        declare(
            workflow.permission(a),
            predicate(a.allowed),
            label=gettext_lazy("%(action)s（%(workflow)s）")
            % {"action": a.label, "workflow": workflow.label or workflow.name},
            objects=gettext_lazy("处于以下状态之一的对象：%(statuses)s")
            % {"statuses": "、".join(str(workflow.statuses(s).label) for s in a.sources)},
        )
    WORKFLOWS[workflow.name] = workflow
    workflow.event_model.status_choices = workflow.statuses  # its timeline reads labels
    return workflow


def unregister(name: str) -> None:
    """Forget a workflow and its permissions (tests that declare throwaway workflows)."""
    workflow = WORKFLOWS.pop(name)
    for a in workflow.actions:
        PERMISSIONS.pop(workflow.permission(a), None)
        rules.remove_perm(workflow.permission(a))


def _copy_fields(src: models.Model, dst: models.Model) -> None:
    for f in src._meta.concrete_fields:
        setattr(dst, f.attname, getattr(src, f.attname))


class _Context(dict[str, Any]):
    """Placeholders of a notice; one the context lacks reads as nothing, never an error."""

    def __missing__(self, key: str) -> str:
        return ""


def render(template: Label, ctx: Mapping[str, Any]) -> str:
    """Fill a notice's ``{placeholders}`` from ``ctx`` (missing ones are left empty)."""
    return str(template).format_map(_Context(ctx))


def _send_notices(
    workflow: Workflow,
    action: Action,
    obj: Any,
    actor: Any,
    note: str,
    status: str,
    data: Mapping[str, Any],
) -> None:
    org = getattr(actor, "organisation", None)
    ctx = {
        **{k: v for k, v in data.items() if isinstance(v, str | int | Decimal | dt.date)},
        "obj": str(obj),
        "label": str(action.label),
        "status": workflow.status_label(status),
        "note": note,
        "actor_org": org.name if org is not None else "",
    }
    actor_id = getattr(actor, "pk", None)
    for n in action.notices:
        recipients = [
            r for r in n.recipients(obj) if (r if isinstance(r, int) else r.pk) != actor_id
        ]
        link_of = n.link or workflow.link
        notify_on_commit(
            recipients=recipients,
            kind=n.kind or f"{workflow.name}.{action.name}",
            title=render(n.title, ctx),
            body=render(n.body, ctx),
            link=link_of(obj) if link_of else "",
            organisation_id=getattr(obj, "organisation_id", None),
        )


def _bound(effect: Effect, obj: Any) -> Callable[[], None]:
    def run() -> None:
        effect(obj)

    return run


def transition_apply(
    workflow: Workflow,
    obj: Any,
    action_name: str,
    *,
    actor: Any,
    note: str = "",
    data: Mapping[str, Any] | None = None,
    update: Callable[[Any], None] | None = None,
    target: str | None = None,
    event_fields: Mapping[str, Any] | None = None,
    effects: Sequence[Effect] = (),
) -> TransitionResult:
    """Take ``action_name`` on ``obj`` as ``actor``: lock, check, move, record, notify on commit.

    ``update(locked)`` makes the domain's own field changes under the lock (amounts, dates);
    ``target`` overrides the declared target when the data decide it (a repayment that settles);
    ``event_fields`` fill the event table's own columns; ``effects`` are called with the object
    after the commit. The caller's ``obj`` is refreshed from the moved row. Raises
    :class:`PermissionDeniedError` (403), :class:`TransitionRefused` (409) or a guard's
    :class:`ApplicationError`; on any refusal nothing is written.
    """
    action = workflow.action(action_name)
    note = (note or "").strip()
    with transaction.atomic():
        locked = workflow.model._base_manager.select_for_update().get(pk=obj.pk)
        workflow.check(actor, locked, action)
        current = workflow.status_of(locked)
        if action.needs_note and not note:
            raise ApplicationError(
                "note_required",
                _("请填写说明：%(action)s须写明理由") % {"action": action.label},
                {"field": "note"},
            )
        ctx = {"actor": actor, "note": note, "data": dict(data or {}), "action": action.name}
        for guard in action.guards:
            guard(locked, ctx)
        if update is not None:
            update(locked)
        new = target if target is not None else action.target
        if new is not None:
            if new not in workflow.statuses.values:
                raise ImproperlyConfigured(f"{workflow.name}.{action.name}: unknown target {new}")
            setattr(locked, workflow.status_field, new)
        locked.save()
        event = workflow.event_model._default_manager.create(
            **{workflow.event_fk: locked},
            kind=action.event_kind,
            actor=actor,
            from_status=current,
            to_status=new if new is not None else current,
            note=note,
            data=dict(data or {}),
            **dict(event_fields or {}),
        )
        audit_record(
            category="approval",
            action=f"{workflow.name}.{action.name}",
            actor=actor,
            target_type=workflow.model._meta.label_lower,
            target_id=locked.pk,
            target_label=str(locked),
            details={
                "from": current,
                "to": event.to_status,
                "label": format_lazy("{}（{}）", action.label, workflow.label or workflow.name),
            },
        )
        _send_notices(
            workflow, action, locked, actor, note, workflow.status_of(locked), dict(data or {})
        )
        for effect in effects:
            transaction.on_commit(_bound(effect, locked))
    _copy_fields(locked, obj)
    return TransitionResult(obj=locked, event=event)


def event_record(
    workflow: Workflow,
    obj: Any,
    kind: str,
    *,
    actor: Any,
    note: str = "",
    data: Mapping[str, Any] | None = None,
    event_fields: Mapping[str, Any] | None = None,
    created: bool = False,
) -> TimelineEvent:
    """Write a timeline event that is not a move (a comment, a reminder sent).

    ``created=True`` records the object's creation: from no status to its first.
    """
    event = _event(workflow, obj, kind, actor, note, data, event_fields, created)
    event.save(force_insert=True)
    return event


def events_record(
    workflow: Workflow,
    entries: Iterable[tuple[Any, str, Mapping[str, Any] | None]],
    kind: str,
    *,
    actor: Any,
    event_fields: Mapping[str, Any] | None = None,
    created: bool = False,
    batch_size: int = 500,
) -> list[TimelineEvent]:
    """``event_record`` for many objects at once, in bulk inserts: one event of ``kind`` per
    (object, note, data) entry (a bulk import's "imported" events)."""
    events = [
        _event(workflow, obj, kind, actor, note, data, event_fields, created)
        for obj, note, data in entries
    ]
    return workflow.event_model._default_manager.bulk_create(events, batch_size=batch_size)


def _event(
    workflow: Workflow,
    obj: Any,
    kind: str,
    actor: Any,
    note: str,
    data: Mapping[str, Any] | None,
    event_fields: Mapping[str, Any] | None,
    created: bool,
) -> TimelineEvent:
    status = workflow.status_of(obj)
    event: TimelineEvent = workflow.event_model(
        **{workflow.event_fk: obj},
        kind=kind,
        actor=actor,
        from_status="" if created else status,
        to_status=status,
        note=(note or "").strip(),
        data=dict(data or {}),
        **dict(event_fields or {}),
    )
    return event


def _due_field(model: type[models.Model], path: str) -> Any:
    """Return the field a deadline's ``due`` path ends at (following relations)."""
    *hops, last = path.split("__")
    for hop in hops:
        model = model._meta.get_field(hop).related_model  # type: ignore[assignment]
    return model._meta.get_field(last)


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date()
    return value  # type: ignore[no-any-return]


def _window(field: Any, path: str, today: dt.date, last: dt.date) -> models.Q:
    if isinstance(field, models.DateTimeField):
        tz = timezone.get_current_timezone()
        start = dt.datetime.combine(today, dt.time.min, tzinfo=tz)
        end = dt.datetime.combine(last, dt.time.max, tzinfo=tz)
        return models.Q(**{f"{path}__gte": start, f"{path}__lte": end})
    return models.Q(**{f"{path}__gte": today, f"{path}__lte": last})


def deadlines_remind(*, today: dt.date | None = None) -> dict[str, int]:
    """Remind, once per due date, everyone waiting on a deadline within its warning days.

    Returns the number of reminders per ``<workflow>.<deadline>``. Idempotent: an object whose
    timeline already holds the reminder for that due date is skipped, so the sweep may run any
    number of times. Past deadlines are not reminded (the escalation sweeps handle them).
    """
    today = today or timezone.localdate()
    sent: dict[str, int] = {}
    for workflow in WORKFLOWS.values():
        for d in workflow.deadlines:
            window = _window(
                _due_field(workflow.model, d.due),
                d.due,
                today,
                today + dt.timedelta(days=d.days_before),
            )
            # filtering before annotating keeps the minimum to the rows inside the window
            rows = list(
                workflow.model._base_manager.filter(
                    window & (d.where or models.Q()),
                    **{f"{workflow.status_field}__in": d.statuses},
                )
                .annotate(_due=models.Min(d.due))
                .order_by("pk")
            )
            done = {
                (getattr(e, f"{workflow.event_fk}_id"), (e.data or {}).get("due"))
                for e in workflow.event_model._default_manager.filter(
                    kind=d.event_kind,
                    **{f"{workflow.event_fk}__in": [o.pk for o in rows]},
                )
            }
            count = 0
            for obj in rows:
                due = _as_date(obj._due)
                if (obj.pk, f"{due:%Y-%m-%d}") in done:
                    continue
                ctx = {
                    "obj": str(obj),
                    "due": f"{due:%Y-%m-%d}",
                    "days": (due - today).days,
                    "label": str(d.label),
                }
                with transaction.atomic():
                    event_record(
                        workflow,
                        obj,
                        d.event_kind,
                        actor=None,
                        note=_("%(label)s：%(due)s") % {"label": d.label, "due": ctx["due"]},
                        data={"due": ctx["due"]},
                    )
                    link_of = d.notice.link or workflow.link
                    notify_on_commit(
                        recipients=list(d.notice.recipients(obj)),
                        kind=d.notice.kind or f"{workflow.name}.{d.event_kind}",
                        title=render(d.notice.title, ctx),
                        body=render(d.notice.body, ctx),
                        link=link_of(obj) if link_of else "",
                        organisation_id=getattr(obj, "organisation_id", None),
                    )
                count += 1
            sent[f"{workflow.name}.{d.name}"] = count
    return sent
