"""Permissions of 融资评价: who rates, who sees ratings, league tables and appeals.

- The two parties of a platform loan rate each other: the lender's loan officers and admins
  rate the enterprise; the enterprise's owner and agents rate the lender (``evaluations.rate``,
  on the loan). The service checks the stage (after disbursement / after settlement).
- A rating is seen by both parties and by the operator's staff of the enterprise's region.
- League tables of institutions are open to every signed-in person.
- The rated party appeals a rating (``evaluations.appeal_file``); the appellant's organisation and
  the operator's staff of the region see appeals; the operator's admins of the region decide them
  (workflow ``evaluations.rating_appeal``: uphold / reject).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.choices import OrgGroup, Role
from xinrong.accounts.permissions import (
    declare,
    has_role,
    in_group,
    in_region,
    is_active_user,
    is_auditor,
    is_enterprise_user,
    is_operator_admin,
    is_operator_staff,
    object_rule,
    region_q,
)
from xinrong.common.access import register_scope
from xinrong.evaluations.choices import RatingDirection
from xinrong.evaluations.models import Rating, RatingAppeal

# the lender's people who rate the enterprise and appeal its ratings of them
is_lender_staff = in_group(OrgGroup.INSTITUTION) & has_role(
    Role.INSTITUTION_ADMIN, Role.LOAN_OFFICER
)
is_lender_reader = in_group(OrgGroup.INSTITUTION) & has_role(
    Role.INSTITUTION_ADMIN, Role.LOAN_OFFICER, Role.REVIEWER
)


def entity_org_id(loan_or_rating: Any) -> int | None:
    return loan_or_rating.entity.organisation_id  # type: ignore[no-any-return]


def lends(user: Any, obj: Any) -> bool:
    """The loan's (rating's) institution is the user's organisation."""
    return user.organisation_id is not None and obj.institution_id == user.organisation_id


def borrows(user: Any, obj: Any) -> bool:
    """The loan's (rating's) enterprise is the user's organisation."""
    return user.organisation_id is not None and entity_org_id(obj) == user.organisation_id


def rating_of(obj: Any) -> Any:
    return obj.rating if isinstance(obj, RatingAppeal) else obj


@object_rule
def lender_of(user: Any, obj: Any) -> bool:
    return lends(user, rating_of(obj))


@object_rule
def borrower_of(user: Any, obj: Any) -> bool:
    return borrows(user, rating_of(obj))


@object_rule
def region_of(user: Any, obj: Any) -> bool:
    return in_region(user, rating_of(obj).entity.division_code)


@object_rule
def rated_party(user: Any, rating: Any) -> bool:
    """The user belongs to the side the rating is about (who may appeal it)."""
    if rating.direction == RatingDirection.OF_INSTITUTION:
        return bool(is_lender_staff(user)) and lends(user, rating)
    return bool(is_enterprise_user(user)) and borrows(user, rating)


may_rate = (is_lender_staff & lender_of) | (is_enterprise_user & borrower_of)
may_view_rating = (
    (is_lender_reader & lender_of)
    | (is_enterprise_user & borrower_of)
    | (is_operator_staff & region_of)
)
may_decide_appeal = is_operator_admin & region_of


def rating_scope(user: Any, prefix: str = "") -> Q | None:
    """The ratings (``prefix`` ``rating__`` for appeals) a user may see, as a filter."""
    if is_lender_reader(user):
        return Q(**{f"{prefix}institution_id": user.organisation_id})
    if is_enterprise_user(user):
        return Q(**{f"{prefix}entity__organisation_id": user.organisation_id})
    if is_operator_staff(user):
        return region_q(user, f"{prefix}entity__division_code")
    return None


@register_scope(Rating)
def _ratings_visible(user: Any) -> Q | None:
    return rating_scope(user)


@register_scope(RatingAppeal)
def _appeals_visible(user: Any) -> Q | None:
    if is_operator_staff(user):
        return region_q(user, "rating__entity__division_code")
    scope = rating_scope(user, "rating__")
    if scope is None:
        return None
    # a party sees the appeals of its own ratings and those of the ratings about it
    return scope


declare(
    "evaluations.rate",
    may_rate,
    label=_("评价对方"),
    objects=_("本机构发放的或本企业借到的平台贷款（放款后、结清后各一次）"),
)
declare(
    "evaluations.rating_view",
    may_view_rating,
    label=_("查看融资评价"),
    objects=_("本机构或本企业的贷款的评价；运营方看本辖区"),
)
declare(
    "evaluations.pending_view",
    is_lender_staff | is_enterprise_user,
    label=_("查看待评价的贷款"),
)
declare(
    "evaluations.league_view",
    is_active_user,
    label=_("查看机构评价排行"),
)
declare(
    "evaluations.appeal_file",
    (is_lender_staff | is_enterprise_user) & rated_party,
    label=_("申诉评价"),
    objects=_("对本机构或本企业的有效评价"),
)
declare(
    "evaluations.appeal_view",
    may_view_rating | (is_auditor & region_of),
    label=_("查看评价申诉"),
    objects=_("本机构或本企业的评价的申诉；运营方看本辖区"),
)
declare(
    "evaluations.appeal_queue",
    is_operator_admin,
    label=_("处理评价申诉"),
    objects=_("本辖区企业的贷款评价的申诉"),
)
