"""Policy permissions: evidence (declared with xinrong.accounts.permissions.declare).

The evidence that policy lands (``/policies/evidence/``): the operator's staff see every
department, a sub-station its region, a department (policy publisher or fund approver) the
measures of its own department; finance's fund approvers see the money of every department,
because they approve and pay across departments.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from xinrong.accounts.choices import OrgGroup, Role
from xinrong.accounts.permissions import declare, has_role, in_group, is_operator_staff

is_policy_department = in_group(OrgGroup.GOVERNMENT) & has_role(
    Role.POLICY_PUBLISHER, Role.FUND_APPROVER
)

declare(
    "policies.evidence_view",
    is_operator_staff | is_policy_department,
    label=_("查看政策落地成效"),
    objects=_(
        "运营方看全部部门，子站看本辖区的市场主体，政策发布员看本部门的措施，"
        "资金审批人看全部部门的资金情况"
    ),
)
declare(
    "policies.evidence_export",
    is_operator_staff | is_policy_department,
    label=_("导出政策落地成效"),
    objects=_("与查看范围相同"),
)
