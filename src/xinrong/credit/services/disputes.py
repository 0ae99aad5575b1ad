"""Writes of disputes (异议): one service per transition, each writing an event row."""

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
from xinrong.common.errors import ApplicationError, ConflictError, PermissionDeniedError
from xinrong.credit import recipients, rules
from xinrong.credit.choices import (
    DISPUTE_ANSWER_DAYS,
    DISPUTE_TRANSITIONS,
    OPEN_DISPUTE_STATUSES,
    DisputeEventKind,
    DisputeKind,
    DisputeStatus,
)
from xinrong.credit.evidence import evidence_check
from xinrong.credit.models import Dispute, DisputeEvent, DisputeEvidence
from xinrong.credit.services.common import (
    category_label,
    evidence_store,
    fact_for_update,
    field_label,
    notify_after_commit,
    require_handler,
    text_clean,
)
from xinrong.credit.tasks import rescore_entities_schedule
from xinrong.datahub.models import Fact
from xinrong.datahub.services.quality import fact_correct, fact_values_check


def _dispute_locked(dispute: Dispute) -> Dispute:
    return (
        Dispute.objects.select_for_update(of=("self",))
        .select_related("entity", "source", "fact")
        .get(pk=dispute.pk)
    )


def _dispute_event(
    dispute: Dispute,
    *,
    kind: str,
    actor: User | None,
    from_status: str,
    note: str = "",
    data: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> DisputeEvent:
    return DisputeEvent.objects.create(
        dispute=dispute,
        kind=kind,
        actor=actor,
        from_status=from_status,
        to_status=dispute.status,
        note=note,
        data=data or {},
        created_at=at or timezone.now(),
    )


def _ensure_dispute_transition(dispute: Dispute, to: str) -> None:
    if to not in DISPUTE_TRANSITIONS.get(dispute.status, frozenset()):
        raise ConflictError(
            "invalid_transition",
            _("异议当前状态为“%(s)s”，不能变更为“%(t)s”")
            % {"s": dispute.get_status_display(), "t": DisputeStatus(to).label},
            {"field": "status"},
        )


def _dispute_link(dispute: Dispute) -> str:
    return reverse("credit:dispute_detail", args=[dispute.pk])


def _notify_enterprise_dispute(dispute: Dispute, *, kind: str, title: str, body: str) -> None:
    entity = dispute.entity
    notify_after_commit(
        lambda: recipients.entity_users(entity=entity),
        kind=kind,
        title=title,
        body=body,
        link=_dispute_link(dispute),
        organisation_id=entity.organisation_id,
    )


def _notify_handlers_dispute(dispute: Dispute, *, kind: str, title: str, body: str) -> None:
    source, entity = dispute.source, dispute.entity
    notify_after_commit(
        lambda: recipients.handler_users(source=source, entity=entity),
        kind=kind,
        title=title,
        body=body,
        link=_dispute_link(dispute),
        organisation_id=source.organisation_id,
    )


@transaction.atomic
def dispute_file(
    *,
    actor: User,
    fact: Fact | int,
    kind: str,
    claim: str,
    proposed_values: dict[str, Any] | None = None,
    evidence: Sequence[File] = (),
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
    values = fact_values_check(
        category=locked.category, changes=proposed_values or {}, field_prefix="proposed_values"
    )
    current = locked.values()
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
    _dispute_event(
        dispute,
        kind=DisputeEventKind.FILED,
        actor=actor,
        from_status="",
        note=claim,
        data={"proposed_values": values, "evidence": [f.name for f in checked]},
        at=now,
    )
    _notify_handlers_dispute(
        dispute,
        kind="dispute.filed",
        title=_("新的异议待处理：%(e)s") % {"e": entity.name},
        body=_("%(k)s · %(c)s · 答复期限 %(d)s\n%(claim)s")
        % {
            "k": dispute.get_kind_display(),
            "c": category_label(dispute.category),
            "d": dispute.due_on.isoformat(),
            "claim": claim[:200],
        },
    )
    return dispute


@transaction.atomic
def dispute_evidence_add(
    *, dispute: Dispute, actor: User, evidence: Sequence[File]
) -> list[DisputeEvidence]:
    """Add evidence files to an open dispute of the enterprise."""
    dispute = _dispute_locked(dispute)
    if not rules.is_entity_member(actor, dispute.entity):
        raise PermissionDeniedError("forbidden", _("只有提出异议的企业可以补充证据"))
    if not dispute.is_open:
        raise ConflictError(
            "dispute_closed", _("异议已办结，不能再补充证据"), {"field": "evidence"}
        )
    if not evidence:
        raise ApplicationError(
            "required", _("请选择要上传的证据文件"), {"field": "evidence"}, status=422
        )
    checked = evidence_check(list(evidence), already=dispute.evidence.count())
    rows = evidence_store(DisputeEvidence, {"dispute": dispute}, checked, actor)
    _dispute_event(
        dispute,
        kind=DisputeEventKind.EVIDENCE_ADDED,
        actor=actor,
        from_status=dispute.status,
        note="、".join(f.name for f in checked),
    )
    return rows


@transaction.atomic
def dispute_withdraw(*, dispute: Dispute, actor: User, note: str = "") -> Dispute:
    """The enterprise withdraws its open dispute."""
    dispute = _dispute_locked(dispute)
    if not rules.is_entity_member(actor, dispute.entity):
        raise PermissionDeniedError("forbidden", _("只有提出异议的企业可以撤回"))
    _ensure_dispute_transition(dispute, DisputeStatus.WITHDRAWN)
    note = text_clean(note, field="note", label=_("撤回说明"), required=False)
    before = dispute.status
    dispute.status = DisputeStatus.WITHDRAWN
    dispute.resolved_at = timezone.now()
    dispute.save(update_fields=["status", "resolved_at", "updated_at"])
    _dispute_event(
        dispute, kind=DisputeEventKind.WITHDRAWN, actor=actor, from_status=before, note=note
    )
    _notify_handlers_dispute(
        dispute,
        kind="dispute.withdrawn",
        title=_("异议已撤回：%(e)s") % {"e": dispute.entity.name},
        body=note,
    )
    return dispute


@transaction.atomic
def dispute_review_start(*, dispute: Dispute, actor: User, note: str = "") -> Dispute:
    """The department (or operator) takes the dispute up for checking."""
    dispute = _dispute_locked(dispute)
    require_handler(actor, dispute)
    _ensure_dispute_transition(dispute, DisputeStatus.IN_REVIEW)
    note = text_clean(note, field="note", label=_("说明"), required=False)
    dispute.status = DisputeStatus.IN_REVIEW
    dispute.handled_by = actor
    dispute.save(update_fields=["status", "handled_by", "updated_at"])
    _dispute_event(
        dispute,
        kind=DisputeEventKind.REVIEW_STARTED,
        actor=actor,
        from_status=DisputeStatus.SUBMITTED,
        note=note,
    )
    _notify_enterprise_dispute(
        dispute,
        kind="dispute.in_review",
        title=_("您的异议已开始核查"),
        body=_("%(o)s 正在核查您对“%(c)s”信息提出的异议，答复期限 %(d)s。")
        % {
            "o": dispute.source.organisation.name,
            "c": category_label(dispute.category),
            "d": dispute.due_on.isoformat(),
        },
    )
    return dispute


@transaction.atomic
def dispute_resolve_correct(
    *, dispute: Dispute, actor: User, values: dict[str, Any] | None = None, note: str = ""
) -> Dispute:
    """Correct the fact as the dispute asks (or with the department's own values) and close it.

    ``values`` defaults to the enterprise's proposed values. The original values stay in the
    event for audit.
    """
    dispute = _dispute_locked(dispute)
    require_handler(actor, dispute)
    _ensure_dispute_transition(dispute, DisputeStatus.CORRECTED)
    note = text_clean(note, field="note", label=_("处理意见"), required=False)
    changes = dispute.proposed_values if values is None else values
    if not changes:
        raise ApplicationError(
            "values_required",
            _("请填写更正后的值（至少一个字段）"),
            {"field": "values"},
            status=422,
        )
    correction = fact_correct(fact=dispute.fact, changes=changes, actor=actor)
    rescore_entities_schedule([dispute.fact.entity_id])
    before = dispute.status
    now = timezone.now()
    dispute.status = DisputeStatus.CORRECTED
    dispute.handled_by = actor
    dispute.resolution = note or _("已按异议更正")
    dispute.resolved_at = now
    dispute.save(update_fields=["status", "handled_by", "resolution", "resolved_at", "updated_at"])
    changed = {
        k: {"before": correction.before.get(k, ""), "after": correction.after.get(k, "")}
        for k in correction.changed
    }
    _dispute_event(
        dispute,
        kind=DisputeEventKind.CORRECTED,
        actor=actor,
        from_status=before,
        note=dispute.resolution,
        data={"changes": changed, "original_values": correction.before},
        at=now,
    )
    lines = [
        _("%(h)s：%(a)s → %(b)s")
        % {"h": field_label(dispute.category, k), "a": v["before"] or "—", "b": v["after"] or "—"}
        for k, v in changed.items()
    ]
    _notify_enterprise_dispute(
        dispute,
        kind="dispute.corrected",
        title=_("异议已办结：信息已更正"),
        body="\n".join([*lines, dispute.resolution]),
    )
    return dispute


@transaction.atomic
def dispute_resolve_uphold(*, dispute: Dispute, actor: User, reason: str) -> Dispute:
    """Keep the fact as delivered, giving the reason, and close the dispute."""
    dispute = _dispute_locked(dispute)
    require_handler(actor, dispute)
    _ensure_dispute_transition(dispute, DisputeStatus.UPHELD)
    reason = text_clean(reason, field="reason", label=_("维持原记录的理由"), required=True)
    before = dispute.status
    now = timezone.now()
    dispute.status = DisputeStatus.UPHELD
    dispute.handled_by = actor
    dispute.resolution = reason
    dispute.resolved_at = now
    dispute.save(update_fields=["status", "handled_by", "resolution", "resolved_at", "updated_at"])
    _dispute_event(
        dispute, kind=DisputeEventKind.UPHELD, actor=actor, from_status=before, note=reason, at=now
    )
    _notify_enterprise_dispute(
        dispute, kind="dispute.upheld", title=_("异议已办结：维持原记录"), body=reason
    )
    return dispute
