"""Handling of cross-validation conflicts (交叉验证冲突): resolve and reopen."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts import permissions
from xinrong.accounts.choices import Role
from xinrong.accounts.models import User
from xinrong.common.errors import ApplicationError, ConflictError, PermissionDeniedError
from xinrong.datahub import rules
from xinrong.datahub.choices import CONFLICT_OUTCOMES, ConflictEventKind, ConflictStatus
from xinrong.datahub.models import Conflict, ConflictEvent, Source
from xinrong.notifications.services import notification_send

# ---------------------------------------------------------------- conflicts (交叉验证冲突)

NOTE_MAX = 2000


def _conflict_note(note: str) -> str:
    note = (note or "").strip()
    if not note:
        raise ApplicationError(
            "note_required", _("请填写处理说明（note）"), {"field": "note"}, status=422
        )
    if len(note) > NOTE_MAX:
        raise ApplicationError(
            "note_too_long",
            _("处理说明不能超过 %(n)d 字") % {"n": NOTE_MAX},
            {"field": "note"},
            status=422,
        )
    return note


def _conflict_event_record(
    *, conflict: Conflict, kind: str, actor: User, from_status: str, note: str, data: dict[str, Any]
) -> ConflictEvent:
    event = ConflictEvent(
        conflict=conflict,
        kind=kind,
        actor=actor,
        from_status=from_status,
        to_status=conflict.status,
        note=note,
        data=data,
    )
    event.full_clean()
    event.save()
    return event


def _conflict_save(conflict: Conflict, **values: Any) -> None:
    """Set the handling fields (all of them, every time) and save them after validating."""
    for name, value in values.items():
        setattr(conflict, name, value)
    conflict.full_clean(exclude=["entity"])
    conflict.save(update_fields=[*values, "updated_at"])


def _conflict_notify(*, conflict: Conflict, actor: User, title: str, body: str) -> None:
    """Tell the departments the conflict involves (not the actor) once the change is committed."""
    orgs = set(
        Source.objects.filter(code__in=conflict.sources).values_list("organisation_id", flat=True)
    )
    link = reverse("datahub:conflict_detail", args=[conflict.pk])

    def send() -> None:
        users = (
            User.objects.filter(
                is_active=True,
                api_key__isnull=True,
                organisation_id__in=orgs,
                roles__role=Role.DATA_PROVIDER,
            )
            .exclude(pk=actor.pk)
            .distinct()
        )
        notification_send(
            recipients=list(users), kind="datahub.conflict", title=title, body=body, link=link
        )

    transaction.on_commit(send)


@transaction.atomic
def conflict_resolve(
    *,
    conflict: Conflict,
    actor: User,
    outcome: str,
    note: str,
    blamed_source: Source | None = None,
    blamed_registry: bool = False,
) -> Conflict:
    """Close an open conflict as confirmed_error, explained or dismissed, with a written note.

    confirmed_error names the source whose data was wrong: one of the conflict's sources
    (``blamed_source``), or the registry (``blamed_registry``) when the conflict involves it.
    The involved departments' data providers may close it, and the operator admins of the
    entity's region.
    """
    conflict = Conflict.objects.select_for_update().select_related("entity").get(pk=conflict.pk)
    if not permissions.can(actor, "datahub.conflict_resolve", conflict):
        raise PermissionDeniedError(
            "forbidden",
            _("只有涉及该冲突的数据来源（%(s)s）的数据报送员或所辖平台运营管理员可以处理")
            % {"s": "、".join(conflict.sources)},
        )
    if conflict.status != ConflictStatus.OPEN:
        raise ConflictError(
            "conflict_closed",
            _("该冲突已处理（%(s)s），如需重新处理请由平台运营方重新打开")
            % {"s": conflict.get_status_display()},
            {"field": "status"},
        )
    if outcome not in CONFLICT_OUTCOMES:
        raise ApplicationError(
            "invalid_outcome",
            _("处理结果“%(o)s”无效；可选：%(all)s")
            % {"o": outcome, "all": "、".join(str(o) for o in CONFLICT_OUTCOMES)},
            {"field": "outcome"},
            status=422,
        )
    note = _conflict_note(note)
    blame = rules.REGISTRY if blamed_registry else (blamed_source.code if blamed_source else "")
    if outcome == ConflictStatus.CONFIRMED_ERROR:
        if blamed_source is None and not blamed_registry:
            raise ApplicationError(
                "blame_required",
                _("确认数据有误时须指明哪个来源的数据有误（blamed_source），可选：%(all)s")
                % {"all": "、".join(conflict.sources)},
                {"field": "blamed_source"},
                status=422,
            )
        if blamed_source is not None and blamed_registry:
            raise ApplicationError(
                "blame_twice",
                _("只能指明一个数据有误的来源"),
                {"field": "blamed_source"},
                status=422,
            )
        if blame not in conflict.sources:
            raise rules.blame_not_involved(conflict, blame)
    elif blamed_source is not None or blamed_registry:
        raise ApplicationError(
            "blame_not_allowed",
            _("只有“确认数据有误”时才指明有误的来源"),
            {"field": "blamed_source"},
            status=422,
        )
    before = conflict.status
    _conflict_save(
        conflict,
        status=outcome,
        resolution_note=note,
        blamed_source=blamed_source,
        blamed_registry=blamed_registry,
        resolved_by=actor,
        resolved_at=timezone.now(),
    )
    _conflict_event_record(
        conflict=conflict,
        kind=ConflictEventKind.RESOLVED,
        actor=actor,
        from_status=before,
        note=note,
        data={"blamed": blame} if blame else {},
    )
    _conflict_notify(
        conflict=conflict,
        actor=actor,
        title=_("数据冲突 #%(id)d（%(e)s）已处理：%(s)s")
        % {"id": conflict.pk, "e": conflict.entity.name, "s": conflict.get_status_display()},
        body=note,
    )
    return conflict


@transaction.atomic
def conflict_reopen(*, conflict: Conflict, actor: User, note: str) -> Conflict:
    """Open a closed conflict again (operator admins of the entity's region), with a reason."""
    conflict = Conflict.objects.select_for_update().select_related("entity").get(pk=conflict.pk)
    if not permissions.can(actor, "datahub.conflict_reopen", conflict):
        raise PermissionDeniedError(
            "forbidden", _("只有所辖平台运营管理员可以重新打开已处理的冲突")
        )
    if conflict.status == ConflictStatus.OPEN:
        raise ConflictError("conflict_open", _("该冲突尚未处理，无需重新打开"), {"field": "status"})
    note = _conflict_note(note)
    before = conflict.status
    _conflict_save(
        conflict,
        status=ConflictStatus.OPEN,
        resolution_note="",
        blamed_source=None,
        blamed_registry=False,
        resolved_by=None,
        resolved_at=None,
    )
    _conflict_event_record(
        conflict=conflict,
        kind=ConflictEventKind.REOPENED,
        actor=actor,
        from_status=before,
        note=note,
        data={},
    )
    _conflict_notify(
        conflict=conflict,
        actor=actor,
        title=_("数据冲突 #%(id)d（%(e)s）已重新打开")
        % {"id": conflict.pk, "e": conflict.entity.name},
        body=note,
    )
    return conflict
