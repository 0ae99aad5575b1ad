"""Policy permissions: funds — special-fund applications, their approval and payment, 免申即享.

A measure belongs to its document's department. The department's policy publishers receive and
review its applications and draw and confirm its 免申即享 lists; the fund approvers of a finance
department (an organisation named 财政…, e.g. 青海省财政厅) approve and disburse across
departments, a department's own fund approvers see its applications; the enterprise sees its own
applications; the operator sees everything (a sub-station its region), the auditor reads.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from xinrong.accounts.choices import OrgGroup, Role
from xinrong.accounts.permissions import (
    declare,
    has_role,
    in_finance_department,
    in_group,
    in_region,
    is_auditor,
    is_enterprise_user,
    is_operator_admin,
    object_rule,
    predicate,
)

is_publisher = in_group(OrgGroup.GOVERNMENT) & has_role(Role.POLICY_PUBLISHER)
is_fund_approver = in_group(OrgGroup.GOVERNMENT) & has_role(Role.FUND_APPROVER)
# finance: the fund approvers of a finance department, across every department's measures
is_finance = is_fund_approver & in_finance_department


def measure_of(obj: Any) -> Any:
    """Return the measure an object is about (a measure, an application, a 免申即享 list)."""
    from xinrong.policies.models import Measure

    return obj if isinstance(obj, Measure) else obj.measure


def department_id_of(obj: Any) -> int:
    """Return the id of the department a measure (or its application, list) belongs to."""
    return int(measure_of(obj).document.department_id)


def own_department(user: Any, obj: Any) -> bool:
    """The measure is of the user's own department."""
    return user.organisation_id is not None and department_id_of(obj) == user.organisation_id


def is_entity_member(user: Any, entity: Any) -> bool:
    """The user is the market entity's own owner or agent."""
    return bool(
        is_enterprise_user(user)
        and entity.organisation_id is not None
        and entity.organisation_id == user.organisation_id
    )


def operator_covers(user: Any, obj: Any) -> bool:
    """An operator admin or auditor covers the object in their region: the entity's division, or
    (a measure, a 免申即享 list) the region of the measure's document."""
    entity = getattr(obj, "entity", None)
    if entity is not None:
        return in_region(user, entity.division_code)
    measure = measure_of(obj) if hasattr(obj, "document") or hasattr(obj, "measure") else None
    return measure is None or in_region(user, measure.document.region_code)


@predicate
def has_market_entity(user: Any) -> bool:
    """The user's enterprise is in the registry (it can apply)."""
    org = user.organisation
    return org is not None and hasattr(org, "market_entity")


@object_rule
def own_application(user: Any, application: Any) -> bool:
    return is_entity_member(user, application.entity)


@object_rule
def department_holds(user: Any, obj: Any) -> bool:
    return own_department(user, obj)


@object_rule
def in_operator_region(user: Any, obj: Any) -> bool:
    return operator_covers(user, obj)


may_view_application = (
    (is_enterprise_user & own_application)
    | ((is_publisher | is_fund_approver) & department_holds)
    | is_finance
    | ((is_operator_admin | is_auditor) & in_operator_region)
)
may_manage_auto = (is_publisher & department_holds) | (is_operator_admin & in_operator_region)

declare(
    "policies.fund_apply",
    is_enterprise_user & has_market_entity,
    label=_("申请专项资金"),
    objects=_("已发布、可申请、在申报期内的资金类措施"),
)
declare(
    "policies.fund_mine",
    is_enterprise_user & has_market_entity,
    label=_("查看本企业的专项资金申请与兑现"),
)
declare(
    "policies.fund_view",
    may_view_application,
    label=_("查看专项资金申请"),
    objects=_("本企业的申请；本部门措施的申请；财政部门可看全部；运营方看本辖区"),
)
declare(
    "policies.fund_queue",
    is_publisher | is_fund_approver | is_operator_admin | is_auditor,
    label=_("查看专项资金审批工作台"),
)
declare(
    "policies.fund_disburse",
    is_finance,
    label=_("登记专项资金拨付"),
    objects=_("已批准待拨付的申请"),
)
declare(
    "policies.auto_manage",
    may_manage_auto,
    label=_("生成、审核并确认免申即享名单"),
    objects=_("本部门的免申即享措施"),
)
declare(
    "policies.auto_view",
    may_manage_auto | is_finance | is_auditor,
    label=_("查看免申即享名单"),
    objects=_("本部门的免申即享措施；财政部门与审计可看全部"),
)
