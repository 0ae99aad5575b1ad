"""Write ratings and appeals; keep the reputation summary table in step.

Each rating is one party's 1–5 scores of the other on one loan at one stage:

- after disbursement (放款后): any platform loan; after settlement (结清后): a settled loan;
- the institution rates the enterprise on 还款及时性 and 还款质量, the enterprise the institution
  on 放款速度, 利率水平, 产品创新 and 服务满意度 (``choices.ITEMS``);
- composite = the plain mean of the items, two decimals, half up;
- one rating per side per loan per stage (the database enforces it too).

After each rating and each appeal decision ``reputation_recompute`` sums the active ratings in one
grouped query per direction (plus one for the item means) and hands the totals to
``marketplace.services.reputation`` (Bayesian average, prior C = platform mean, m = 5).
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts.choices import OrgKind, Role
from xinrong.accounts.models import User
from xinrong.accounts.permissions import can, in_region, is_enterprise_user
from xinrong.common.errors import ConflictError, PermissionDeniedError
from xinrong.evaluations.choices import (
    ITEMS,
    AppealStatus,
    RatingDirection,
    RatingItem,
    RatingStage,
    RatingStatus,
)
from xinrong.evaluations.models import Rating, RatingAppeal, RatingScore
from xinrong.evaluations.workflows.appeals import (
    APPEAL,
    ENTERPRISE_ROLES,
    LENDER_ROLES,
    SUBMITTED_EVENT,
)
from xinrong.marketplace.choices import LoanStatus
from xinrong.marketplace.models import PartyKind
from xinrong.marketplace.services.reputation import PartyTotals, reputation_store
from xinrong.marketplace.transitions import staff_of
from xinrong.notifications.services import notify_on_commit
from xinrong.workflows.kernel import event_record, transition_apply

CENT = Decimal("0.01")
COMMENT_MAX = 500
REASON_MAX = 2000


def direction_for(user: Any) -> str:
    """The direction a user rates in: an enterprise's people rate the institution."""
    return (
        RatingDirection.OF_INSTITUTION
        if is_enterprise_user(user)
        else RatingDirection.OF_ENTERPRISE
    )


def stage_reached(loan: Any, stage: str) -> bool:
    """Every platform loan is disbursed; 结清后 needs a settled loan."""
    return stage == RatingStage.DISBURSED or loan.status == LoanStatus.SETTLED


def composite_of(scores: Mapping[str, int]) -> Decimal:
    """The plain mean of the item scores, two decimals, half up."""
    return (Decimal(sum(scores.values())) / len(scores)).quantize(CENT, rounding=ROUND_HALF_UP)


def _raise(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError({k: [ValidationError(m) for m in v] for k, v in errors.items()})


def rating_submit(
    *,
    actor: Any,
    loan: Any,
    stage: str,
    scores: Mapping[str, Any],
    comment: str = "",
) -> Rating:
    """Record ``actor``'s rating of the other party of ``loan`` at ``stage``; recompute the
    reputations. Raises 403 for a stranger, 409 for a second rating, 400 (every error at once)
    for a bad stage, missing or out-of-range scores or a too-long comment."""
    if not can(actor, "evaluations.rate", loan):
        raise PermissionDeniedError(
            "forbidden", _("只有贷款双方（放款机构的信贷人员、借款企业）可以评价这笔贷款")
        )
    direction = direction_for(actor)
    errors: dict[str, list[str]] = defaultdict(list)
    if stage not in RatingStage.values:
        errors["stage"].append(_("评价阶段：请选择“放款后”或“结清后”"))
    elif not stage_reached(loan, stage):
        errors["stage"].append(_("评价阶段：贷款尚未结清，不能作结清后评价"))
    clean: dict[str, int] = {}
    for item in ITEMS[direction]:
        label = RatingItem(item).label
        raw = scores.get(item)
        if raw in (None, ""):
            errors[item].append(_("%(item)s：请打分（1–5 分）") % {"item": label})
            continue
        try:
            value = int(str(raw))
        except ValueError:
            errors[item].append(_("%(item)s：评分须为 1–5 的整数") % {"item": label})
            continue
        if not 1 <= value <= 5:
            errors[item].append(_("%(item)s：评分须在 1 到 5 分之间") % {"item": label})
            continue
        clean[item] = value
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        errors["comment"].append(
            _("评价内容：最多 %(n)s 个字，现有 %(m)s 个字") % {"n": COMMENT_MAX, "m": len(comment)}
        )
    _raise(dict(errors))
    duplicate = ConflictError(
        "rating_exists",
        _("您已对这笔贷款作过%(stage)s评价，每个阶段只能评价一次")
        % {"stage": RatingStage(stage).label},
        {"field": "stage"},
    )
    if Rating.objects.filter(loan=loan, stage=stage, direction=direction).exists():
        raise duplicate
    try:
        with transaction.atomic():
            rating = Rating.objects.create(
                loan=loan,
                stage=stage,
                direction=direction,
                entity_id=loan.entity_id,
                institution_id=loan.institution_id,
                composite=composite_of(clean),
                comment=comment,
                rated_by=actor,
            )
            RatingScore.objects.bulk_create(
                [RatingScore(rating=rating, item=k, score=v) for k, v in clean.items()]
            )
            reputation_recompute()
    except IntegrityError:
        raise duplicate from None
    _notify_rated(rating)
    return rating


def _rated_people(rating: Rating) -> list[Any]:
    if rating.direction == RatingDirection.OF_INSTITUTION:
        return staff_of(rating.institution_id, LENDER_ROLES)
    return staff_of(rating.entity.organisation_id, ENTERPRISE_ROLES)


def _rater_people(rating: Rating) -> list[Any]:
    if rating.direction == RatingDirection.OF_INSTITUTION:
        return staff_of(rating.entity.organisation_id, ENTERPRISE_ROLES)
    return staff_of(rating.institution_id, LENDER_ROLES)


def _notify_rated(rating: Rating) -> None:
    notify_on_commit(
        recipients=_rated_people(rating),
        kind="evaluations.rated",
        title=_("贷款 %(n)s 收到%(stage)s评价：%(c)s 分")
        % {"n": rating.loan.number, "stage": rating.get_stage_display(), "c": rating.composite},
        body=_("如认为评价不公，可在评价详情中提出申诉"),
        link=reverse("evaluations:rating_detail", args=[rating.pk]),
    )


def reputation_recompute() -> None:
    """Recompute every institution's and enterprise's reputation from the active ratings."""
    active = Rating.objects.filter(status=RatingStatus.ACTIVE)
    for direction, party, kind in (
        (RatingDirection.OF_INSTITUTION, "institution_id", PartyKind.INSTITUTION),
        (RatingDirection.OF_ENTERPRISE, "entity_id", PartyKind.ENTITY),
    ):
        rows = (
            active.filter(direction=direction)
            .order_by()
            .values(party)
            .annotate(n=Count("id"), total=Sum("composite"))
        )
        items: dict[int, dict[str, Decimal]] = defaultdict(dict)
        for pid, item, mean in (
            RatingScore.objects.filter(
                rating__status=RatingStatus.ACTIVE, rating__direction=direction
            )
            .order_by()
            .values_list(f"rating__{party}", "item")
            .annotate(mean=Avg("score"))
        ):
            items[pid][item] = Decimal(str(mean))
        reputation_store(
            kind=kind,
            totals=[
                PartyTotals(
                    party_id=r[party],
                    count=r["n"],
                    total=Decimal(r["total"]),
                    items=items.get(r[party], {}),
                )
                for r in rows
            ],
        )


def _next_number() -> str:
    # random, not counted: two appeals filed at once must not draw the same number
    return f"PJSS{timezone.localdate():%Y%m%d}{secrets.token_hex(4).upper()}"


def appeal_submit(*, actor: Any, rating: Rating, reason: str) -> RatingAppeal:
    """The rated party appeals ``rating`` to the operator (one open appeal per rating)."""
    if not can(actor, "evaluations.appeal_file", rating):
        raise PermissionDeniedError("forbidden", _("只有被评价的一方可以申诉这条评价"))
    reason = (reason or "").strip()
    errors: dict[str, list[str]] = defaultdict(list)
    if not reason:
        errors["reason"].append(_("申诉理由：请写明评价不公的理由"))
    elif len(reason) > REASON_MAX:
        errors["reason"].append(_("申诉理由：最多 %(n)s 个字") % {"n": REASON_MAX})
    _raise(dict(errors))
    with transaction.atomic():
        locked = Rating.objects.select_for_update().get(pk=rating.pk)
        if locked.status != RatingStatus.ACTIVE:
            raise ConflictError(
                "rating_withdrawn", _("这条评价已撤销，无需申诉"), {"field": "rating"}
            )
        if locked.appeals.filter(status=AppealStatus.SUBMITTED).exists():
            raise ConflictError(
                "appeal_open", _("这条评价已有待处理的申诉，请等待处理结果"), {"field": "rating"}
            )
        appeal = RatingAppeal.objects.create(
            number=_next_number(), rating=locked, reason=reason, appellant=actor
        )
        event_record(APPEAL, appeal, SUBMITTED_EVENT, actor=actor, note=reason, created=True)
    notify_on_commit(
        recipients=_operators_for(rating),
        kind="evaluations.appeal_submitted",
        title=_("评价申诉待处理：%(n)s") % {"n": appeal.number},
        body=reason[:200],
        link=reverse("evaluations:appeal_detail", args=[appeal.pk]),
    )
    notify_on_commit(
        recipients=_rater_people(rating),
        kind="evaluations.appeal_submitted",
        title=_("您的评价被申诉：%(n)s，平台将核实处理") % {"n": appeal.number},
        link=reverse("evaluations:appeal_detail", args=[appeal.pk]),
    )
    return appeal


def _operators_for(rating: Rating) -> list[Any]:
    """The operator admins who may decide an appeal of ``rating`` (its region's)."""
    people = (
        User.objects.filter(
            is_active=True,
            api_key__isnull=True,
            organisation__kind__in=(OrgKind.OPERATOR, OrgKind.SUBSTATION),
            roles__role=Role.OPERATOR_ADMIN,
        )
        .select_related("organisation")
        .distinct()
    )
    return [u for u in people if in_region(u, rating.entity.division_code)]


def appeal_decide(*, actor: Any, appeal: RatingAppeal, action: str, note: str) -> RatingAppeal:
    """Uphold (the rating is withdrawn, reputations recomputed) or reject an appeal."""
    if action not in ("uphold", "reject"):
        raise ConflictError(
            "unknown_action", _("请选择“申诉成立”或“申诉不成立”"), {"field": "action"}
        )

    def update(locked: RatingAppeal) -> None:
        locked.decision_note = (note or "").strip()
        locked.decided_by = actor
        locked.decided_at = timezone.now()

    with transaction.atomic():
        transition_apply(APPEAL, appeal, action, actor=actor, note=note, update=update)
        if action == "uphold":
            Rating.objects.filter(pk=appeal.rating_id).update(
                status=RatingStatus.WITHDRAWN, updated_at=timezone.now()
            )
            reputation_recompute()
    appeal.refresh_from_db()
    return appeal
