"""The credit workflows on the kernel: disputes (异议), cultivation (信用培植), model versions.

Each declares its statuses, the actions people (or the platform) take, who may take them (the
permission layer's predicates, see ``credit.rules``), the guards, the event each writes and who
is told. Services call :func:`xinrong.workflows.kernel.transition_apply`; the event tables
(``DisputeEvent``, ``CultivationEvent``, ``ModelEvent``) are the timelines users see. Credit
repair is declared with its approval process.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.permissions import (
    is_central_operator_admin,
    is_data_provider,
    is_department,
    is_enterprise_user,
    is_operator_admin,
)
from xinrong.accounts.permissions import predicate as as_predicate
from xinrong.common.errors import ApplicationError
from xinrong.credit import recipients
from xinrong.credit.choices import (
    OPEN_DISPUTE_STATUSES,
    CultivationEventKind,
    CultivationStatus,
    DisputeEventKind,
    DisputeStatus,
    ModelEventKind,
    ModelStatus,
)
from xinrong.credit.models import (
    CultivationCase,
    CultivationEvent,
    Dispute,
    DisputeEvent,
    ModelEvent,
    ScoreModel,
)
from xinrong.credit.rules import handles_case, own_cultivation_case, own_entity
from xinrong.workflows.kernel import (
    Action,
    Deadline,
    Notice,
    Workflow,
    register,
    transition_apply,
)

S = DisputeStatus
OPEN: tuple[str, ...] = tuple(OPEN_DISPUTE_STATUSES)

files_case = is_enterprise_user & own_entity  # the enterprise that filed (its owner and agents)
handles = (is_data_provider | is_operator_admin) & handles_case  # = credit.case_handle
platform_only = as_predicate(lambda user, obj: False, name="platform_only")


def _enterprise(d: Dispute) -> list[Any]:
    return recipients.entity_users(entity=d.entity)


def _handlers(d: Dispute) -> list[Any]:
    return recipients.handler_users(source=d.source, entity=d.entity)


def _dispute_link(d: Dispute) -> str:
    return reverse("credit:dispute_detail", args=[d.pk])


def overdue(d: Dispute, ctx: Mapping[str, Any]) -> None:
    """Escalate only past the legal answer deadline (《征信业管理条例》第二十五条), once."""
    today = ctx["data"].get("today") or timezone.localdate()
    if isinstance(today, str):
        today = dt.date.fromisoformat(today)
    if not d.due_on < today:
        raise ApplicationError(
            "not_overdue",
            gettext("答复期限 %(d)s 未过，不能提请督办") % {"d": d.due_on.isoformat()},
            {"field": "due_on"},
            status=409,
        )
    if d.escalated_at is not None:
        raise ApplicationError(
            "already_escalated",
            gettext("该异议已提请督办"),
            {"field": "escalated_at"},
            status=409,
        )


DISPUTE = register(
    Workflow(
        name="credit.dispute",
        label=_("异议"),
        model=Dispute,
        event_model=DisputeEvent,
        event_fk="dispute",
        statuses=DisputeStatus,
        link=_dispute_link,
        actions=(
            Action(
                "evidence_add",
                OPEN,
                None,
                files_case,
                _("补充证据"),
                event=DisputeEventKind.EVIDENCE_ADDED,
            ),
            Action(
                "withdraw",
                OPEN,
                S.WITHDRAWN,
                files_case,
                _("撤回异议"),
                event=DisputeEventKind.WITHDRAWN,
                notices=(
                    Notice(
                        _handlers,
                        _("异议已撤回：{obj}"),
                        "{note}",
                        kind="dispute.withdrawn",
                    ),
                ),
            ),
            Action(
                "review_start",
                (S.SUBMITTED,),
                S.IN_REVIEW,
                handles,
                _("开始核查"),
                event=DisputeEventKind.REVIEW_STARTED,
                notices=(
                    Notice(
                        _enterprise,
                        _("您的异议已开始核查"),
                        _("报送部门正在核查您的异议（{obj}），将在答复期限内答复。{note}"),
                        kind="dispute.in_review",
                    ),
                ),
            ),
            Action(
                "correct",
                OPEN,
                S.CORRECTED,
                handles,
                _("更正信息"),
                event=DisputeEventKind.CORRECTED,
                # its notice lists the values changed, so the service sends it (effects)
            ),
            Action(
                "uphold",
                OPEN,
                S.UPHELD,
                handles,
                _("维持原记录"),
                event=DisputeEventKind.UPHELD,
                needs_note=True,
                notices=(
                    Notice(
                        _enterprise,
                        _("异议已办结：维持原记录"),
                        "{note}",
                        kind="dispute.upheld",
                    ),
                ),
            ),
            Action(
                "escalate",
                OPEN,
                None,
                platform_only,
                _("逾期提请督办"),
                event=DisputeEventKind.ESCALATED,
                guards=(overdue,),
                system=True,
                # the sweep tells each operator and department once, listing all its disputes
            ),
        ),
        deadlines=(
            Deadline(
                "answer",
                _("异议答复期限"),
                OPEN,
                "due_on",
                3,
                Notice(
                    _handlers,
                    _("异议答复期限 {due} 将至（还有 {days} 天）：{obj}"),
                    kind="dispute.due_soon",
                ),
            ),
        ),
    )
)


C = CultivationStatus
runs_case = is_department & own_cultivation_case  # the department that runs the case


def _cultivation_link(case: CultivationCase) -> str:
    return reverse("credit:cultivation_case", args=[case.pk])


CULTIVATION = register(
    Workflow(
        name="credit.cultivation",
        label=_("信用培植"),
        model=CultivationCase,
        event_model=CultivationEvent,
        event_fk="case",
        statuses=CultivationStatus,
        link=_cultivation_link,
        actions=(
            Action(
                "note_add",
                (C.ACTIVE,),
                None,
                runs_case,
                _("记录跟进"),
                event=CultivationEventKind.NOTE,
                needs_note=True,
            ),
            Action(
                "end",
                (C.ACTIVE,),
                C.DROPPED,
                runs_case,
                _("终止培植"),
                event=CultivationEventKind.DROPPED,
                needs_note=True,
            ),
            Action(
                "graduate",
                (C.ACTIVE,),
                C.GRADUATED,
                platform_only,
                _("达标结业"),
                event=CultivationEventKind.GRADUATED,
                system=True,
            ),
        ),
    )
)


M = ModelStatus


def model_activated(*, actor: Any, note: str = "") -> Any:
    """Return the ``update`` of ``activate``: retire the active version (one may be active)."""

    def update(locked: ScoreModel) -> None:
        active = ScoreModel.objects.filter(status=M.ACTIVE).exclude(pk=locked.pk)
        for old in active.order_by("pk"):
            transition_apply(MODEL, old, "retire", actor=actor, note=note)
        locked.activated_at = timezone.now()

    return update


def _model_link(model: ScoreModel) -> str:
    return reverse("credit:model", args=[model.version])


MODEL = register(
    Workflow(
        name="credit.model",
        label=_("评分模型"),
        model=ScoreModel,
        event_model=ModelEvent,
        event_fk="model",
        statuses=ModelStatus,
        link=_model_link,
        actions=(
            # system: ``xinrong model activate`` on the server's command line has no user
            Action(
                "activate",
                (M.DRAFT, M.RETIRED),
                M.ACTIVE,
                is_central_operator_admin,
                _("启用"),
                event=ModelEventKind.ACTIVATED,
                system=True,
            ),
            Action(
                "retire",
                (M.ACTIVE,),
                M.RETIRED,
                is_central_operator_admin,
                _("停用"),
                event=ModelEventKind.RETIRED,
                system=True,
            ),
        ),
    )
)
