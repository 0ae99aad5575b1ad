"""Workflow ``evaluations.rating_appeal``: the rated party appeals a rating, the operator decides.

待处理 → 申诉成立 (the rating is withdrawn and reputations recomputed, by the service) or
申诉不成立; both decisions need a note and tell the appellant's side and the rater's side.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy

from xinrong.accounts.choices import Role
from xinrong.evaluations.choices import AppealStatus
from xinrong.evaluations.models import RatingAppeal, RatingAppealEvent
from xinrong.evaluations.rules.ratings import may_decide_appeal
from xinrong.marketplace.transitions import staff_of
from xinrong.workflows.kernel import Action, Notice, Workflow, register

A = AppealStatus
SUBMITTED_EVENT = "submitted"
LENDER_ROLES = (Role.INSTITUTION_ADMIN, Role.LOAN_OFFICER)
ENTERPRISE_ROLES = (Role.ENTERPRISE_OWNER, Role.ENTERPRISE_AGENT)


def both_sides(appeal: RatingAppeal) -> list[Any]:
    """The lender's rating people and the enterprise's users of the rated loan."""
    rating = appeal.rating
    return staff_of(rating.institution_id, LENDER_ROLES) + staff_of(
        rating.entity.organisation_id, ENTERPRISE_ROLES
    )


def link(appeal: RatingAppeal) -> str:
    return reverse("evaluations:appeal_detail", args=[appeal.pk])


def _notice(title: Any) -> Notice:
    return Notice(
        recipients=both_sides,
        title=title,
        body=gettext_lazy("处理意见：{note}"),
        link=link,
        kind="evaluations.appeal_decided",
    )


WHO = gettext_lazy("本辖区的平台运营管理人员")

APPEAL = register(
    Workflow(
        name="evaluations.rating_appeal",
        label=gettext_lazy("评价申诉"),
        model=RatingAppeal,
        event_model=RatingAppealEvent,
        event_fk="appeal",
        statuses=AppealStatus,
        link=link,
        refused_code="appeal_decided",
        actions=(
            Action(
                "uphold",
                (A.SUBMITTED,),
                A.UPHELD,
                may_decide_appeal,
                gettext_lazy("认定申诉成立"),
                needs_note=True,
                who=WHO,
                notices=(_notice(gettext_lazy("评价申诉 {obj} 成立，该评价已撤销")),),
            ),
            Action(
                "reject",
                (A.SUBMITTED,),
                A.REJECTED,
                may_decide_appeal,
                gettext_lazy("认定申诉不成立"),
                needs_note=True,
                who=WHO,
                notices=(_notice(gettext_lazy("评价申诉 {obj} 不成立，该评价继续有效")),),
            ),
        ),
    )
)
