"""Writes of disputes (异议): one service per transition, each writing an event row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

from django.core.files.base import File
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts import permissions
from xinrong.accounts.models import User
from xinrong.common.errors import ApplicationError, ConflictError, PermissionDeniedError
from xinrong.credit import recipients, rules
from xinrong.credit.choices import (
    DISPUTE_ANSWER_DAYS,
    OPEN_DISPUTE_STATUSES,
    DisputeEventKind,
    DisputeKind,
)
from xinrong.credit.evidence import evidence_check
from xinrong.credit.models import Dispute, DisputeEvidence
from xinrong.credit.services.common import (
    category_label,
    evidence_store,
    fact_for_update,
    field_label,
    text_clean,
)
from xinrong.credit.tasks import rescore_entities_schedule
from xinrong.credit.workflows import DISPUTE
from xinrong.datahub.models import Fact
from xinrong.datahub.services.quality import fact_correct, fact_values_check
from xinrong.notifications.services import notify_on_commit
from xinrong.workflows.kernel import event_record, transition_apply


def _dispute_link(dispute: Dispute) -> str:
    return reverse("credit:dispute_detail", args=[dispute.pk])


def _require(actor: User, dispute: Dispute, action: str, message: str) -> None:
    """Refuse with a message that says who may act (the kernel checks the same permission)."""
    permissions.require(actor, DISPUTE.permission(action), dispute, message=message)


def _handler_message(dispute: Dispute) -> str:
    return _("只有“%(o)s”的数据报送员或平台运营管理员可以处理") % {"o": dispute.source.organisation}


@transaction.atomic
def dispute_file(
    *,
    actor: User,
    fact: Fact | int,
    kind: str,
    claim: str,
    proposed_values: dict[str, Any] | None = None,
    evidence: Sequence[File[Any]] = (),
    now: dt.datetime | None = None,
) -> Dispute:
    """File a dispute about a fact of the enterprise's own archive (due in 20 days).

    ``proposed_values`` maps field keys to the values the enterprise asks for: required for a
    correction (different from the stored values), for an addition only fields now empty.
    """
    now = now or timezone.now()
    locked = fact_for_update(fact if isinstance(fact, int) else fact.pk)
    entity = locked.entity
    if not rules.is_entity_member(actor, entity):
        raise PermissionDeniedError("forbidden", _("只能对本企业档案中的信息提出异议"))
    if kind not in DisputeKind.values:
        raise ApplicationError(
            "invalid_kind",
            _("异议类型只能是：%(k)s") % {"k": " / ".join(DisputeKind.values)},
            {"field": "kind"},
            status=422,
        )
    claim = text_clean(claim, field="claim", label=_("异议说明"), required=True)
    if not isinstance(proposed_values, dict | None):
        raise ApplicationError(
            "invalid_values", _("更正值应为对象"), {"field": "proposed_values"}, status=422
        )
    current = locked.values()
    values = fact_values_check(
        category=locked.category,
        changes=proposed_values or {},
        field_prefix="proposed_values",
        current=current,
    )
    for key, value in values.items():
        label = field_label(locked.category, key)
        if current.get(key, "") == value:
            raise ApplicationError(
                "same_value",
                _("“%(h)s”与现有记录相同，无需更正") % {"h": label},
                {"field": f"proposed_values.{key}"},
                status=422,
            )
        if kind == DisputeKind.ADDITION and current.get(key):
            raise ApplicationError(
                "not_empty",
                _("“%(h)s”已有记录值，修改已有值请选择“更正”") % {"h": label},
                {"field": f"proposed_values.{key}"},
                status=422,
            )
    if kind in (DisputeKind.CORRECTION, DisputeKind.ADDITION) and not values:
        raise ApplicationError(
            "values_required",
            _("申请%(k)s时须填写至少一个字段的值") % {"k": DisputeKind(kind).label},
            {"field": "proposed_values"},
            status=422,
        )
    checked = evidence_check(list(evidence))
    open_one = Dispute.objects.filter(fact=locked, status__in=OPEN_DISPUTE_STATUSES).first()
    if open_one is not None:
        raise ConflictError(
            "dispute_open",
            _("该信息已有处理中的异议（编号 %(n)d），请等待答复或撤回后再提交")
            % {"n": open_one.pk},
            {"field": "fact_id"},
        )
    dispute = Dispute(
        entity=entity,
        fact=locked,
        source=locked.source,
        category=locked.category,
        kind=kind,
        claim=claim,
        proposed_values=values,
        original_values=current,
        filed_by=actor,
        submitted_at=now,
        due_on=timezone.localdate(now) + dt.timedelta(days=DISPUTE_ANSWER_DAYS),
    )
    dispute.full_clean(validate_constraints=False)  # checked above with clear messages
    try:
        with transaction.atomic():
            dispute.save()
    except IntegrityError as exc:  # a concurrent filing won the race
        raise ConflictError(
            "dispute_open", _("该信息已有处理中的异议"), {"field": "fact_id"}
        ) from exc
    evidence_store(DisputeEvidence, {"dispute": dispute}, checked, actor)
    event_record(
        DISPUTE,
        dispute,
        DisputeEventKind.FILED,
        actor=actor,
        note=claim,
        data={"proposed_values": values, "evidence": [f.name for f in checked]},
        event_fields={"created_at": now},
        created=True,
    )
    # the department's data providers: a dispute now awaits them (the operators if it has none)
    notify_on_commit(
        recipients=recipients.handler_users(source=locked.source, entity=entity),
        kind="dispute.filed",
        title=_("新的异议待处理：%(e)s") % {"e": entity.name},
        body=_("%(k)s · %(c)s · 答复期限 %(d)s\n%(claim)s")
        % {
            "k": dispute.get_kind_display(),
            "c": category_label(dispute.category),
            "d": dispute.due_on.isoformat(),
            "claim": claim[:200],
        },
        link=_dispute_link(dispute),
        organisation_id=locked.source.organisation_id,
    )
    return dispute


@transaction.atomic
def dispute_evidence_add(
    *, dispute: Dispute, actor: User, evidence: Sequence[File[Any]]
) -> list[DisputeEvidence]:
    """Add evidence files to an open dispute of the enterprise."""
    _require(actor, dispute, "evidence_add", _("只有提出异议的企业可以补充证据"))
    if not evidence:
        raise ApplicationError(
            "required", _("请选择要上传的证据文件"), {"field": "evidence"}, status=422
        )
    checked = evidence_check(list(evidence), already=dispute.evidence.count())
    rows: list[DisputeEvidence] = []

    def store(locked: Dispute) -> None:
        rows.extend(evidence_store(DisputeEvidence, {"dispute": locked}, checked, actor))

    transition_apply(
        DISPUTE,
        dispute,
        "evidence_add",
        actor=actor,
        note="、".join(f.name for f in checked),
        update=store,
    )
    return rows


def dispute_withdraw(*, dispute: Dispute, actor: User, note: str = "") -> Dispute:
    """The enterprise withdraws its open dispute."""
    _require(actor, dispute, "withdraw", _("只有提出异议的企业可以撤回"))
    note = text_clean(note, field="note", label=_("撤回说明"), required=False)

    def closed(locked: Dispute) -> None:
        locked.resolved_at = timezone.now()

    return cast(
        Dispute,
        transition_apply(DISPUTE, dispute, "withdraw", actor=actor, note=note, update=closed).obj,
    )


def dispute_review_start(*, dispute: Dispute, actor: User, note: str = "") -> Dispute:
    """The department (or operator) takes the dispute up for checking."""
    _require(actor, dispute, "review_start", _handler_message(dispute))
    note = text_clean(note, field="note", label=_("说明"), required=False)

    def taken(locked: Dispute) -> None:
        locked.handled_by = actor

    return cast(
        Dispute,
        transition_apply(
            DISPUTE, dispute, "review_start", actor=actor, note=note, update=taken
        ).obj,
    )


def dispute_resolve_correct(
    *,
    dispute: Dispute,
    actor: User,
    values: dict[str, Any] | None = None,
    note: str = "",
) -> Dispute:
    """Correct the fact as the dispute asks (or with the department's own values) and close it.

    ``values`` defaults to the enterprise's proposed values. The original values stay in the
    event for audit; the enterprise is told which values changed.
    """
    _require(actor, dispute, "correct", _handler_message(dispute))
    note = text_clean(note, field="note", label=_("处理意见"), required=False)
    changes = dispute.proposed_values if values is None else values
    if not changes:
        raise ApplicationError(
            "values_required",
            _("请填写更正后的值（至少一个字段）"),
            {"field": "values"},
            status=422,
        )
    resolution = note or _("已按异议更正")
    now = timezone.now()
    data: dict[str, Any] = {}

    def correct(locked: Dispute) -> None:
        correction = fact_correct(fact=locked.fact, changes=changes, actor=actor)
        rescore_entities_schedule([locked.fact.entity_id])
        locked.handled_by = actor
        locked.resolution = resolution
        locked.resolved_at = now
        data["changes"] = {
            k: {"before": correction.before.get(k, ""), "after": correction.after.get(k, "")}
            for k in correction.changed
        }
        data["original_values"] = correction.before

    with transaction.atomic():
        moved = cast(
            Dispute,
            transition_apply(
                DISPUTE,
                dispute,
                "correct",
                actor=actor,
                note=resolution,
                data=data,  # filled under the lock, before the event is written
                update=correct,
                event_fields={"created_at": now},
            ).obj,
        )
        lines = [
            _("%(h)s：%(a)s → %(b)s")
            % {
                "h": field_label(moved.category, k),
                "a": v["before"] or "—",
                "b": v["after"] or "—",
            }
            for k, v in data["changes"].items()
        ]
        # the declared notices cannot list the changed values: this one is sent here
        notify_on_commit(
            recipients=recipients.entity_users(entity=moved.entity),
            kind="dispute.corrected",
            title=_("异议已办结：信息已更正"),
            body="\n".join([*lines, resolution]),
            link=_dispute_link(moved),
            organisation_id=moved.entity.organisation_id,
        )
    return moved


def dispute_resolve_uphold(*, dispute: Dispute, actor: User, reason: str) -> Dispute:
    """Keep the fact as delivered, giving the reason, and close the dispute."""
    _require(actor, dispute, "uphold", _handler_message(dispute))
    reason = text_clean(reason, field="reason", label=_("维持原记录的理由"), required=True)
    now = timezone.now()

    def upheld(locked: Dispute) -> None:
        locked.handled_by = actor
        locked.resolution = reason
        locked.resolved_at = now

    return cast(
        Dispute,
        transition_apply(
            DISPUTE,
            dispute,
            "uphold",
            actor=actor,
            note=reason,
            update=upheld,
            event_fields={"created_at": now},
        ).obj,
    )
