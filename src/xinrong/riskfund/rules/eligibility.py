"""Permissions of the risk fund: rule sets, the circuit breaker, the coverage verdict.

A fund is run by its office (平台运营方: the operator admins of the office organisation, or any
operator admin whose region covers the fund's region — a sub-station covers only its own city's
fund) and managed by its finance department (the fund approvers of the manager organisation).
The auditor reads everything in its region. Lending institutions (banks, microloan companies) see
their own breaker standing, and the coverage verdict on their own loan applications; the
enterprise does not see the verdict (the fund shares the lender's loss, not the borrower's: the
verdict is part of the lender's credit decision, and its reasons would read as a refusal).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from xinrong.accounts.choices import OrgKind
from xinrong.accounts.permissions import (
    declare,
    has_role,
    in_group,
    in_region,
    is_auditor,
    is_institution,
    is_operator_admin,
    object_rule,
    org_kind_in,
)

LENDER_KINDS = (OrgKind.BANK, OrgKind.MICROLOAN)

is_fund_approver = in_group("government") & has_role("fund_approver")
is_lender = is_institution & org_kind_in(*LENDER_KINDS)


def fund_of(obj: Any) -> Any:
    """The fund an object is about (a fund, a rule set, a breaker event)."""
    return getattr(obj, "fund", obj)


def operator_runs(user: Any, fund: Any) -> bool:
    """The user's organisation is the fund's office, or the fund lies in the user's region."""
    return user.organisation_id == fund.office_id or in_region(user, fund.division_code)


@object_rule
def office_of_fund(user: Any, obj: Any) -> bool:
    return operator_runs(user, fund_of(obj))


@object_rule
def fund_in_region(user: Any, obj: Any) -> bool:
    return in_region(user, fund_of(obj).division_code)


@object_rule
def manager_of_fund(user: Any, obj: Any) -> bool:
    return user.organisation_id is not None and user.organisation_id == fund_of(obj).manager_id


@object_rule
def lender_of_application(user: Any, app: Any) -> bool:
    return user.organisation_id is not None and app.institution_id == user.organisation_id


@object_rule
def application_in_region(user: Any, app: Any) -> bool:
    return in_region(user, app.entity.division_code)


may_read_fund = (
    (is_operator_admin & office_of_fund)
    | (is_auditor & fund_in_region)
    | (is_fund_approver & manager_of_fund)
)

declare(
    "riskfund.rules_view",
    may_read_fund,
    label=_("查看风险补偿规则及其版本"),
    objects=_("运营方看本辖区基金；财政部门看本部门管理的基金；审计看本辖区"),
)
declare(
    "riskfund.rules_manage",
    is_operator_admin & office_of_fund,
    label=_("设定风险补偿规则的新版本"),
    objects=_("本机构受理或本辖区内的基金；版本一经设定不再修改"),
)
declare(
    "riskfund.breaker_view",
    may_read_fund,
    label=_("查看各金融机构的熔断情况"),
    objects=_("运营方看本辖区基金；财政部门看本部门管理的基金；审计看本辖区"),
)
declare(
    "riskfund.breaker_own",
    is_lender,
    label=_("查看本机构的熔断情况"),
    objects=_("本机构在各基金下的平台贷款不良率与熔断记录"),
)
declare(
    "riskfund.coverage_view",
    (is_lender & lender_of_application)
    | ((is_operator_admin | is_auditor) & application_in_region),
    label=_("查看贷款申请能否纳入风险补偿"),
    objects=_("本机构收到的贷款申请；运营方与审计看本辖区；企业不可见"),
)
