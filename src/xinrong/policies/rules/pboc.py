"""Policy permissions: the PBoC column (央行政策专栏) and interest subsidies (贴息).

Declared with ``xinrong.accounts.permissions.declare``. Who may move a 贴息 batch is declared by
its workflow (``policies.workflows.subsidy``) from the predicates here.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from xinrong.accounts.choices import OrgKind, Role
from xinrong.accounts.permissions import (
    declare,
    has_role,
    is_active_user,
    is_central_operator_admin,
    is_department,
    is_institution,
    is_operator_admin,
    is_operator_staff,
    object_rule,
    org_kind_in,
    predicate,
)

# the central bank's branch: a government department whose name says so (人民银行…分行)
PBOC_NAME_MARK = "人民银行"


@predicate
def is_pboc_branch(user: Any) -> bool:
    """The user works at the central bank's branch (a government department named 人民银行…)."""
    org = getattr(user, "organisation", None)
    return (
        org is not None
        and org.kind == OrgKind.GOVERNMENT
        and PBOC_NAME_MARK in (org.name or "")
        and bool(user.role_codes & {Role.POLICY_PUBLISHER, Role.FUND_APPROVER, Role.DATA_PROVIDER})
    )


def _measure_of(obj: Any) -> Any:
    """The measure an object (a measure, a 贴息 batch or line) belongs to."""
    if hasattr(obj, "batch"):
        obj = obj.batch
    return getattr(obj, "measure", obj)


@object_rule
def own_department_measure(user: Any, obj: Any) -> bool:
    """The measure (of the batch) belongs to the user's department."""
    measure = _measure_of(obj)
    return user.organisation_id is not None and (
        measure.document.department_id == user.organisation_id
    )


@object_rule
def own_institution_line(user: Any, obj: Any) -> bool:
    """The 贴息 line is on a loan of the user's institution."""
    return user.organisation_id is not None and obj.institution_id == user.organisation_id


subsidy_department = (
    org_kind_in(OrgKind.GOVERNMENT)
    & has_role(Role.POLICY_PUBLISHER, Role.FUND_APPROVER)
    & own_department_measure
)
# the platform operator (not a sub-station: a batch spans the province) or the department
subsidy_manager = is_central_operator_admin | subsidy_department

declare(
    "policies.subsidy_view",
    is_operator_staff | is_department | is_institution,
    label=_("查看贷款贴息批次"),
    objects=_("运营方和政府部门看全部批次，金融机构看本机构贷款的贴息明细"),
)
declare(
    "policies.subsidy_calculate",
    subsidy_manager,
    label=_("测算贷款贴息"),
    objects=_("本部门发布的贴息措施（运营管理员：全部）"),
)
declare(
    "policies.subsidy_line_confirm",
    is_institution & has_role(Role.INSTITUTION_ADMIN, Role.REVIEWER) & own_institution_line,
    label=_("确认或异议贴息明细"),
    objects=_("本机构贷款的贴息明细"),
)
declare(
    "policies.pboc_view",
    is_active_user,
    label=_("查看央行政策专栏"),
    objects=_("央行政策文件和普惠小微贷款支持情况；额度明细：机构看本机构，政府和运营方看全部"),
)
declare(
    "policies.pboc_quota_view",
    is_operator_staff | is_department | is_institution,
    label=_("查看再贷款、再贴现额度"),
    objects=_("机构看本机构的额度，政府部门和运营方看全部"),
)
declare(
    "policies.pboc_record",
    is_operator_admin | is_pboc_branch,
    label=_("登记再贷款、再贴现额度及使用"),
    objects=_("全部金融机构的额度（运营管理员、人民银行分行）"),
)
