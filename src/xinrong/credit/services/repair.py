"""Writes of credit repair (信用修复): apply, approve, reject."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.core.files.base import File
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts.models import User
from xinrong.common.errors import ApplicationError, ConflictError, PermissionDeniedError
from xinrong.credit import recipients, rules
from xinrong.credit.choices import RepairEventKind, RepairStatus
from xinrong.credit.evidence import evidence_check
from xinrong.credit.models import RepairApplication, RepairEvent, RepairEvidence
from xinrong.credit.publication import PUBLICATION_PERIODS, REPAIRABLE_CATEGORY, repair_earliest_on
from xinrong.credit.services.common import (
    evidence_store,
    fact_for_update,
    notify_after_commit,
    require_handler,
    text_clean,
)
from xinrong.credit.tasks import rescore_entities_schedule
from xinrong.datahub.models import Fact


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
    evidence: Sequence[File] = (),
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
    RepairEvent.objects.create(
        application=application,
        kind=RepairEventKind.FILED,
        actor=actor,
        from_status="",
        to_status=application.status,
        note=statement,
        created_at=now,
    )
    source = locked.source
    notify_after_commit(
        lambda: recipients.handler_users(source=source, entity=entity),
        kind="repair.filed",
        title=_("新的信用修复申请：%(e)s") % {"e": entity.name},
        body=_("决定书文号 %(no)s · 处罚日期 %(d)s\n%(s)s")
        % {"no": locked.reference_no, "d": locked.occurred_on.isoformat(), "s": statement[:200]},
        link=_repair_link(application),
        organisation_id=source.organisation_id,
    )
    return application


def _repair_decide(
    *, application: RepairApplication, actor: User, to: str, reason: str
) -> RepairApplication:
    application = (
        RepairApplication.objects.select_for_update(of=("self",))
        .select_related("entity", "source")
        .get(pk=application.pk)
    )
    require_handler(actor, application)
    if application.status != RepairStatus.SUBMITTED:
        raise ConflictError(
            "invalid_transition",
            _("该申请已审核（%(s)s）") % {"s": application.get_status_display()},
            {"field": "status"},
        )
    now = timezone.now()
    application.status = to
    application.decided_by = actor
    application.decided_at = now
    application.reason = reason
    application.save(update_fields=["status", "decided_by", "decided_at", "reason", "updated_at"])
    RepairEvent.objects.create(
        application=application,
        kind=RepairEventKind.APPROVED if to == RepairStatus.APPROVED else RepairEventKind.REJECTED,
        actor=actor,
        from_status=RepairStatus.SUBMITTED,
        to_status=to,
        note=reason,
        created_at=now,
    )
    entity = application.entity
    approved = to == RepairStatus.APPROVED
    if approved:  # the repaired fact stops counting: the stored score must follow
        rescore_entities_schedule([entity.pk])
    notify_after_commit(
        lambda: recipients.entity_users(entity=entity),
        kind="repair.approved" if approved else "repair.rejected",
        title=_("信用修复申请已通过：该处罚信息不再公示") if approved else _("信用修复申请未通过"),
        body=reason,
        link=_repair_link(application),
        organisation_id=entity.organisation_id,
    )
    return application


@transaction.atomic
def repair_approve(
    *, application: RepairApplication, actor: User, reason: str = ""
) -> RepairApplication:
    """Approve repair: the record stops being shown publicly and stops counting in scores."""
    reason = text_clean(reason, field="reason", label=_("审核意见"), required=False)
    return _repair_decide(
        application=application,
        actor=actor,
        to=RepairStatus.APPROVED,
        reason=reason or _("整改到位，准予信用修复"),
    )


@transaction.atomic
def repair_reject(*, application: RepairApplication, actor: User, reason: str) -> RepairApplication:
    """Refuse repair, giving the reason; the enterprise may apply again later."""
    reason = text_clean(reason, field="reason", label=_("不予修复的理由"), required=True)
    return _repair_decide(
        application=application, actor=actor, to=RepairStatus.REJECTED, reason=reason
    )
