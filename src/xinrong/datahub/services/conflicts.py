"""Handling of cross-validation conflicts (交叉验证冲突): resolve, reopen, and reopen on recurrence.

Every status change goes through the workflow kernel (``datahub.workflows.CONFLICT``): it locks
the conflict, asks the permission layer, refuses a step that does not leave the current status,
runs the guards (note, blame), writes the timeline event and tells the people waiting.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts.choices import Role
from xinrong.accounts.models import User
from xinrong.common.errors import ApplicationError
from xinrong.datahub import rules
from xinrong.datahub.choices import CONFLICT_OUTCOMES, ConflictStatus
from xinrong.datahub.models import Conflict, Source
from xinrong.datahub.workflows import CLOSE_ACTIONS, CONFLICT, NOTICE_KIND
from xinrong.notifications.services import notify_on_commit
from xinrong.workflows.kernel import TransitionRefused, transition_apply


def conflict_closing(
    *, actor: User | None, note: str, blamed_source: Source | None, blamed_registry: bool
) -> Callable[[Conflict], None]:
    """Return the field changes of closing a conflict (made under the kernel's lock)."""

    def update(conflict: Conflict) -> None:
        conflict.resolution_note = note.strip()
        conflict.blamed_source = blamed_source
        conflict.blamed_registry = blamed_registry
        conflict.resolved_by = actor
        conflict.resolved_at = timezone.now()

    return update


def conflict_opening(conflict: Conflict) -> None:
    """Clear a conflict's handling when it is opened again (made under the kernel's lock)."""
    conflict.resolution_note = ""
    conflict.blamed_source = None
    conflict.blamed_registry = False
    conflict.resolved_by = None
    conflict.resolved_at = None


def conflict_recurring(detail: dict[str, Any]) -> Callable[[Conflict], None]:
    """Return the field changes of a confirmed error reappearing: the newer finding, open again.

    The note and the blamed source stay: they say which department has not corrected its data.
    """

    def update(conflict: Conflict) -> None:
        conflict.detail = detail
        conflict.resolved_by = None
        conflict.resolved_at = None

    return update


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
    entity's region; the involved departments are told after the commit.
    """
    if outcome not in CONFLICT_OUTCOMES:
        raise ApplicationError(
            "invalid_outcome",
            _("处理结果“%(o)s”无效；可选：%(all)s")
            % {"o": outcome, "all": "、".join(str(o) for o in CONFLICT_OUTCOMES)},
            {"field": "outcome"},
            status=422,
        )
    if blamed_source is not None and blamed_registry:
        raise ApplicationError(
            "blame_twice", _("只能指明一个数据有误的来源"), {"field": "blamed_source"}, status=422
        )
    blame = rules.REGISTRY if blamed_registry else (blamed_source.code if blamed_source else "")
    result = transition_apply(
        CONFLICT,
        conflict,
        CLOSE_ACTIONS[ConflictStatus(outcome)],
        actor=actor,
        note=note,
        data={"blamed": blame} if blame else {},
        update=conflict_closing(
            actor=actor, note=note, blamed_source=blamed_source, blamed_registry=blamed_registry
        ),
    )
    closed: Conflict = result.obj
    return closed


def conflict_reopen(*, conflict: Conflict, actor: User, note: str) -> Conflict:
    """Open a closed conflict again (operator admins of the entity's region), with a reason."""
    try:
        result = transition_apply(
            CONFLICT, conflict, "reopen", actor=actor, note=note, update=conflict_opening
        )
    except TransitionRefused as exc:
        raise TransitionRefused(
            "conflict_open", _("该冲突尚未处理，无需重新打开"), exc.extra
        ) from exc
    opened: Conflict = result.obj
    return opened


def conflicts_recur(*, again: list[tuple[int, dict[str, Any]]]) -> int:
    """Open again, as the platform, confirmed errors whose wrong value came in newer data.

    ``again`` pairs a conflict's id with the finding's new detail (e.g. a later period). A
    conflict no longer a confirmed error (someone handled it meanwhile) is left alone. The
    involved departments and the region's operator admins are told (an escalation).
    """
    note = str(_("已确认有误的数据在新报送中再次出现，尚未更正"))
    reopened = 0
    with transaction.atomic():
        for pk, detail in again:
            try:
                transition_apply(
                    CONFLICT,
                    Conflict(pk=pk),
                    "recur",
                    actor=None,
                    note=note,
                    data={"detail": detail},
                    update=conflict_recurring(detail),
                )
            except TransitionRefused:
                continue
            reopened += 1
    return reopened


def conflicts_found_notify(
    *, by_source: Mapping[str, int], submitter_id: int | None = None
) -> None:
    """Tell each department that new conflicts involving its sources await it (after commit).

    ``by_source`` counts the new conflicts per source code (``registry`` is nobody's); each
    department's data providers get one notice naming how many, linked to its queue.
    """
    codes = [code for code, n in by_source.items() if n and code != rules.REGISTRY]
    if not codes:
        return
    per_org: dict[int, tuple[int, list[str]]] = {}
    for code, org_id in Source.objects.filter(code__in=codes).values_list(
        "code", "organisation_id"
    ):
        n, names = per_org.get(org_id, (0, []))
        per_org[org_id] = (n + by_source[code], [*names, code])
    for org_id, (n, names) in sorted(per_org.items()):
        providers = User.objects.filter(
            is_active=True,
            api_key__isnull=True,
            organisation_id=org_id,
            roles__role=Role.DATA_PROVIDER,
        ).exclude(pk=submitter_id or 0)
        notify_on_commit(
            recipients=list(providers.distinct().order_by("pk")),
            kind=NOTICE_KIND,
            title=_("发现 %(n)d 个新的数据冲突待处理（涉及来源：%(s)s）")
            % {"n": n, "s": "、".join(sorted(names))},
            body=_("交叉验证发现贵部门报送的数据与其他来源不一致，请核实后处理。"),
            link=reverse("datahub:conflicts") + "?" + urlencode({"source": sorted(names)[0]}),
        )
