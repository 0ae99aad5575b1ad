"""The data hub's workflows, declared as data for the kernel (xinrong.workflows.kernel).

- ``datahub.conflict``: a cross-validation conflict is closed by the departments it involves (or
  the region's operator admins) as a confirmed error, explained or dismissed, always with a note;
  the operator admins open it again; the platform opens a confirmed error again when the same
  wrong value comes in newer data (the department's correction has not arrived), and then also
  tells the operator admins: the case is escalated.
- ``datahub.unresolved_row``: a delivered row whose subject matched no registered entity is
  associated with an entity (its USCC) or discarded by the region's operator admins.

Ingestion batches move by the pipeline alone (nobody takes an action on them), so they have no
workflow; their owner is told when one finishes or fails (``services.ingest``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.choices import Role
from xinrong.accounts.models import User
from xinrong.common.errors import ApplicationError, NotFoundError
from xinrong.datahub import rules
from xinrong.datahub.choices import (
    ConflictEventKind,
    ConflictStatus,
    ResolutionStatus,
    UnresolvedRowEventKind,
)
from xinrong.datahub.models import (
    Conflict,
    ConflictEvent,
    Source,
    UnresolvedRow,
    UnresolvedRowEvent,
)
from xinrong.enterprises.models import MarketEntity
from xinrong.reference import uscc as uscc_codec
from xinrong.workflows.kernel import Action, Notice, Workflow, register

NOTE_MAX = 2000
NOTICE_KIND = "datahub.conflict"  # one inbox kind for every conflict notice

S = ConflictStatus
CLOSED = (S.CONFIRMED_ERROR, S.EXPLAINED, S.DISMISSED)


# ---------------------------------------------------------------- who is told


def involved_providers(conflict: Conflict) -> list[User]:
    """Return the data providers of the departments whose sources the conflict involves."""
    orgs = set(
        Source.objects.filter(code__in=conflict.sources).values_list("organisation_id", flat=True)
    )
    return list(
        User.objects.filter(
            is_active=True,
            api_key__isnull=True,
            organisation_id__in=orgs,
            roles__role=Role.DATA_PROVIDER,
        )
        .distinct()
        .order_by("pk")
    )


def region_operator_admins(conflict: Conflict) -> list[User]:
    """Return the operator admins whose region holds the conflict's entity (who may reopen it)."""
    admins = (
        User.objects.filter(is_active=True, api_key__isnull=True, roles__role=Role.OPERATOR_ADMIN)
        .select_related("organisation")
        .distinct()
        .order_by("pk")
    )
    return [u for u in admins if rules.may_reopen_conflict(u, conflict)]


def _conflict_link(conflict: Conflict) -> str:
    return reverse("datahub:conflict_detail", args=[conflict.pk])


# ---------------------------------------------------------------- guards


def note_check(obj: Any, ctx: Mapping[str, Any]) -> None:
    """Refuse a handling step without a note, or with one longer than ``NOTE_MAX``."""
    note = ctx["note"]
    if not note:
        raise ApplicationError(
            "note_required", _t("请填写处理说明（note）"), {"field": "note"}, status=422
        )
    if len(note) > NOTE_MAX:
        raise ApplicationError(
            "note_too_long",
            _t("处理说明不能超过 %(n)d 字") % {"n": NOTE_MAX},
            {"field": "note"},
            status=422,
        )


def blame_check(conflict: Conflict, ctx: Mapping[str, Any]) -> None:
    """A confirmed error names the one involved source whose data was wrong (``blamed``)."""
    blamed = ctx["data"].get("blamed", "")
    if not blamed:
        raise ApplicationError(
            "blame_required",
            _t("确认数据有误时须指明哪个来源的数据有误（blamed_source），可选：%(all)s")
            % {"all": rules.sources_text(conflict.sources)},
            {"field": "blamed_source"},
            status=422,
        )
    if blamed not in conflict.sources:
        raise rules.blame_not_involved(conflict, blamed)


def no_blame_check(conflict: Conflict, ctx: Mapping[str, Any]) -> None:
    """Only a confirmed error names a wrong source."""
    if ctx["data"].get("blamed"):
        raise ApplicationError(
            "blame_not_allowed",
            _t("只有“确认数据有误”时才指明有误的来源"),
            {"field": "blamed_source"},
            status=422,
        )


def entity_check(row: UnresolvedRow, ctx: Mapping[str, Any]) -> None:
    """The USCC a row is associated with is valid and names a registered entity."""
    code = uscc_codec.parse(str(ctx["data"].get("uscc", ""))).code
    if not MarketEntity.objects.filter(uscc=code).exists():
        raise NotFoundError(
            "entity_not_found",
            _t("未找到统一社会信用代码为 %(code)s 的市场主体") % {"code": code},
            {"field": "uscc"},
        )


# ---------------------------------------------------------------- the tables

_CLOSED_NOTICE = Notice(
    involved_providers,
    _("数据冲突 {obj}已处理：{status}"),
    "{note}",
    kind=NOTICE_KIND,
)


def _close(name: str, target: str, label: Any, guard: Any) -> Action:
    return Action(
        name,
        (S.OPEN,),
        target,
        rules.may_handle_conflict,
        label,
        event=ConflictEventKind.RESOLVED,
        guards=(note_check, guard),
        notices=(_CLOSED_NOTICE,),
    )


CONFLICT = register(
    Workflow(
        name="datahub.conflict",
        label=_("数据冲突"),
        model=Conflict,
        event_model=ConflictEvent,
        event_fk="conflict",
        statuses=ConflictStatus,
        link=_conflict_link,
        refused_code="conflict_closed",
        actions=(
            _close("confirm_error", S.CONFIRMED_ERROR, _("确认数据有误"), blame_check),
            _close("explain", S.EXPLAINED, _("说明均属实"), no_blame_check),
            _close("dismiss", S.DISMISSED, _("判为误报"), no_blame_check),
            Action(
                "reopen",
                CLOSED,
                S.OPEN,
                rules.may_reopen_conflict,
                _("重新打开"),
                event=ConflictEventKind.REOPENED,
                guards=(note_check,),
                notices=(
                    Notice(
                        involved_providers,
                        _("数据冲突 {obj}已重新打开，请处理"),
                        "{note}",
                        kind=NOTICE_KIND,
                    ),
                ),
            ),
            Action(
                "recur",
                (S.CONFIRMED_ERROR,),
                S.OPEN,
                rules.nobody,
                _("错误再次出现而重新打开"),
                event=ConflictEventKind.REOPENED,
                system=True,
                notices=(
                    Notice(
                        involved_providers,
                        _("数据冲突 {obj}：已确认有误的数据再次报送，请尽快更正"),
                        "{note}",
                        kind=NOTICE_KIND,
                    ),
                    Notice(
                        region_operator_admins,
                        _("数据冲突 {obj}升级：已确认有误的数据仍未更正"),
                        "{note}",
                        kind=NOTICE_KIND,
                    ),
                ),
            ),
        ),
    )
)

# The outcomes a department or operator chooses when closing a conflict, and their actions.
CLOSE_ACTIONS = {
    S.CONFIRMED_ERROR: "confirm_error",
    S.EXPLAINED: "explain",
    S.DISMISSED: "dismiss",
}


R = ResolutionStatus

UNRESOLVED_ROW = register(
    Workflow(
        name="datahub.unresolved_row",
        label=_("待关联记录"),
        model=UnresolvedRow,
        event_model=UnresolvedRowEvent,
        event_fk="row",
        statuses=ResolutionStatus,
        link=lambda row: reverse("datahub:resolution"),
        refused_code="already_handled",
        actions=(
            Action(
                "associate",
                (R.OPEN,),
                R.RESOLVED,
                rules.may_handle_unresolved,
                _("关联到市场主体"),
                event=UnresolvedRowEventKind.RESOLVED,
                guards=(entity_check,),
            ),
            Action(
                "discard",
                (R.OPEN,),
                R.DISCARDED,
                rules.may_handle_unresolved,
                _("舍弃"),
                event=UnresolvedRowEventKind.DISCARDED,
            ),
        ),
    )
)
