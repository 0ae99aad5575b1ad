"""Permissions of the risk fund: claims (补偿申请) and recoveries (追偿).

- The lending institution's loan officers and admins file claims on their own defaulted platform
  loans, withdraw them before a decision and report recoveries on paid ones; its reviewers read.
- The fund's office (an operator admin of the fund's ``office`` organisation, or one whose
  region covers the fund — the central operator covers every fund, the Golmud sub-station only
  the Golmud fund) takes the first approval step and confirms or returns recoveries.
- The fund approvers of the fund's manager (财政) take the finance step and, for big claims, the
  复核 step (never the same person as the finance step).
- The operator's auditors read claims in their region. Enterprises see nothing here.
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
    is_auditor,
    is_operator_admin,
    object_rule,
    region_prefix_for,
    region_q,
)
from xinrong.common.access import register_scope
from xinrong.marketplace.rules import lender
from xinrong.riskfund.models import Claim, Recovery

# lenders' staff (banks, microloan companies; not guarantors, insurers or investors, whose work
# here is 代偿): they see their institution's claims
is_institution_member = (
    in_group(OrgGroup.INSTITUTION)
    & lender
    & has_role(Role.INSTITUTION_ADMIN, Role.LOAN_OFFICER, Role.REVIEWER)
)
# those who file claims and report recoveries for their institution (reviewers only read)
is_claim_filer = (
    in_group(OrgGroup.INSTITUTION) & lender & has_role(Role.INSTITUTION_ADMIN, Role.LOAN_OFFICER)
)
is_fund_approver = in_group(OrgGroup.GOVERNMENT) & has_role(Role.FUND_APPROVER)


def fund_of(obj: Any) -> Any:
    """The fund a claim or a recovery (or a fund) is about."""
    from xinrong.riskfund.models import Fund

    if isinstance(obj, Fund):
        return obj
    if isinstance(obj, Recovery):
        return obj.claim.fund
    return obj.fund


def claim_of(obj: Any) -> Claim:
    return obj.claim if isinstance(obj, Recovery) else obj


def office_covers(user: Any, fund: Any) -> bool:
    """An operator admin of the fund's office, or one whose region covers the fund's region."""
    if not is_operator_admin(user):
        return False
    if user.organisation_id is not None and user.organisation_id == fund.office_id:
        return True
    return in_region(user, fund.division_code)


def manages_fund(user: Any, fund: Any) -> bool:
    """A fund approver of the fund's manager organisation (财政)."""
    return bool(
        is_fund_approver(user)
        and user.organisation_id is not None
        and user.organisation_id == fund.manager_id
    )


def own_institution(user: Any, obj: Any) -> bool:
    claim = claim_of(obj)
    return user.organisation_id is not None and claim.institution_id == user.organisation_id


@object_rule
def claim_of_own_institution(user: Any, obj: Any) -> bool:
    return own_institution(user, obj)


@object_rule
def office_of_fund(user: Any, obj: Any) -> bool:
    return office_covers(user, fund_of(obj))


@object_rule
def manager_of_fund(user: Any, obj: Any) -> bool:
    return manages_fund(user, fund_of(obj))


@object_rule
def auditor_region(user: Any, obj: Any) -> bool:
    return in_region(user, claim_of(obj).entity.division_code)


may_view_claim = (
    (is_institution_member & claim_of_own_institution)
    | (is_operator_admin & office_of_fund)
    | (is_fund_approver & manager_of_fund)
    | (is_auditor & auditor_region)
)


def claim_scope(user: Any, prefix: str = "") -> Q | None:
    """The claims (``prefix`` ``claim__`` for recoveries) a user may see, as a filter."""
    if is_institution_member(user):
        return Q(**{f"{prefix}institution_id": user.organisation_id})
    if is_operator_admin(user):
        if region_prefix_for(user) is None:
            return Q()  # the central operator covers every fund
        return Q(**{f"{prefix}fund__office_id": user.organisation_id}) | region_q(
            user, f"{prefix}fund__division_code"
        )
    if is_fund_approver(user):
        return Q(**{f"{prefix}fund__manager_id": user.organisation_id})
    if is_auditor(user):
        return region_q(user, f"{prefix}entity__division_code")
    return None


@register_scope(Claim)
def _claims_visible(user: Any) -> Q | None:
    return claim_scope(user)


@register_scope(Recovery)
def _recoveries_visible(user: Any) -> Q | None:
    return claim_scope(user, "claim__")


declare(
    "riskfund.claim_view",
    may_view_claim,
    label=_("查看风险补偿申请"),
    objects=_("本机构的申请；受理机构与基金管理部门（财政）看本基金的申请；运营方与审计看本辖区"),
)
declare(
    "riskfund.claim_file",
    is_claim_filer,
    label=_("申请风险补偿"),
    objects=_("本机构已违约或逾期达到规定天数、且在补偿范围内的平台贷款"),
)
declare(
    "riskfund.claim_queue",
    is_operator_admin | is_fund_approver,
    label=_("查看风险补偿审批待办"),
)
declare(
    "riskfund.claim_stats",
    is_institution_member | is_operator_admin | is_fund_approver | is_auditor,
    label=_("查看风险补偿统计"),
    objects=_("可见范围内的申请"),
)
declare(
    "riskfund.recovery_report",
    is_claim_filer & claim_of_own_institution,
    label=_("报告追偿回收"),
    objects=_("本机构已获补偿的申请"),
)
