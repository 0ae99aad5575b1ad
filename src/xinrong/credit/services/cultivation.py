"""Writes of credit cultivation: cases and their follow-ups."""

from __future__ import annotations

from typing import cast

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts import permissions
from xinrong.accounts.models import User
from xinrong.common.errors import ApplicationError, PermissionDeniedError
from xinrong.credit import scorecard
from xinrong.credit.choices import CultivationEventKind, CultivationStatus
from xinrong.credit.models import CreditProfile, CultivationCase, CultivationEvent
from xinrong.credit.workflows import CULTIVATION
from xinrong.enterprises.models import MarketEntity
from xinrong.workflows.kernel import TransitionRefused, event_record, transition_apply


def _require_authority(actor: User) -> None:
    permissions.require(actor, "credit.cultivation_run", message=_("信用培植由行业主管部门办理"))


@transaction.atomic
def cultivation_start(*, entity: MarketEntity, actor: User, plan: str) -> CultivationCase:
    """Take an enterprise below the bankable grade into cultivation with a plan."""
    _require_authority(actor)
    if not plan.strip():
        raise ApplicationError("plan_required", _("请填写培植计划"), {"field": "plan"}, status=422)
    profile = CreditProfile.objects.filter(entity=entity, is_latest=True).first()
    if profile is None:
        raise ApplicationError(
            "no_score", _("该企业尚无信用评分，无法纳入培植"), {"field": "entity"}, status=409
        )
    names = [g for g, _floor in scorecard.DEFAULT_BANDS]
    if names.index(profile.grade) <= names.index(scorecard.BANKABLE_GRADE):
        raise ApplicationError(
            "already_bankable",
            _("该企业信用等级为 %(g)s，已达到可授信等级，无需培植") % {"g": profile.grade},
            {"field": "entity"},
            status=409,
        )
    org = actor.organisation
    if (
        org is not None
        and org.industry_sections
        and entity.industry_code[:1] not in org.industry_sections
    ):
        raise PermissionDeniedError("forbidden", _("该企业不属于本部门主管的行业"))
    if CultivationCase.objects.filter(entity=entity, status=CultivationStatus.ACTIVE).exists():
        raise ApplicationError(
            "already_cultivated", _("该企业已在培植中"), {"field": "entity"}, status=409
        )
    case = CultivationCase(
        entity=entity,
        authority=org,
        plan=plan.strip(),
        score_at_start=profile.score,
        grade_at_start=profile.grade,
        started_by=actor,
    )
    case.full_clean()
    case.save()
    event_record(
        CULTIVATION, case, CultivationEventKind.STARTED, actor=actor, note=case.plan, created=True
    )
    return case


def _require_case_owner(case: CultivationCase, actor: User, action: str) -> None:
    permissions.require(
        actor,
        CULTIVATION.permission(action),
        case,
        message=_("只能办理本部门的培植记录"),
    )


def cultivation_note_add(*, case: CultivationCase, actor: User, text: str) -> CultivationEvent:
    """Record a follow-up (a timeline event that leaves the status as it is)."""
    _require_case_owner(case, actor, "note_add")
    if not text.strip():
        raise ApplicationError("note_required", _("请填写跟进内容"), {"field": "text"}, status=422)
    result = transition_apply(CULTIVATION, case, "note_add", actor=actor, note=text.strip()[:4000])
    return cast(CultivationEvent, result.event)


def cultivation_end(*, case: CultivationCase, actor: User, reason: str) -> CultivationCase:
    """Stop cultivating (e.g. the enterprise closed or declined)."""
    _require_case_owner(case, actor, "end")
    if not reason.strip():
        raise ApplicationError(
            "reason_required", _("请填写终止原因"), {"field": "reason"}, status=422
        )

    def ended(locked: CultivationCase) -> None:
        locked.ended_at = timezone.now()

    return cast(
        CultivationCase,
        transition_apply(
            CULTIVATION, case, "end", actor=actor, note=reason.strip()[:4000], update=ended
        ).obj,
    )


def cultivation_graduate(*, entity_ids: list[int] | None = None) -> int:
    """Close as graduated every active case whose enterprise became bankable; return how many.

    The platform takes the ``graduate`` action (no person), one case at a time, so each case's
    timeline records it.
    """
    names = [g for g, _floor in scorecard.DEFAULT_BANDS]
    bankable = names[: names.index(scorecard.BANKABLE_GRADE) + 1]
    cases = CultivationCase.objects.filter(
        status=CultivationStatus.ACTIVE,
        entity__credit_profiles__is_latest=True,
        entity__credit_profiles__grade__in=bankable,
    )
    if entity_ids is not None:
        cases = cases.filter(entity_id__in=entity_ids)
    done = 0
    for case in cases.order_by("pk"):

        def ended(locked: CultivationCase) -> None:
            locked.ended_at = timezone.now()

        try:
            transition_apply(CULTIVATION, case, "graduate", actor=None, update=ended)
        except TransitionRefused:  # ended meanwhile by its department
            continue
        done += 1
    return done
