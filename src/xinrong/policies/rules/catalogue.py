"""Policy permissions: catalogue (declared with xinrong.accounts.permissions.declare).

A policy document and its measures belong to the document's ``department`` (a government
organisation). A policy publisher manages the documents and measures of their own department;
the operator's staff see every department's documents (drafts included) read-only; anyone
(logged in or not) reads what is published — the public pages check that a document or measure
is published, nothing else.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from xinrong.accounts.choices import OrgGroup, Role
from xinrong.accounts.permissions import (
    declare,
    has_role,
    in_group,
    is_active_user,
    is_operator_staff,
    object_rule,
)

is_policy_publisher = in_group(OrgGroup.GOVERNMENT) & has_role(Role.POLICY_PUBLISHER)


def department_of(obj: Any) -> int | None:
    """Return the id of the department a document, measure or version belongs to."""
    if hasattr(obj, "department_id") and not hasattr(obj, "document_id"):
        return int(obj.department_id)
    if hasattr(obj, "document"):
        return int(obj.document.department_id)
    if hasattr(obj, "measure"):
        return int(obj.measure.document.department_id)
    return None


@object_rule
def own_department(user: Any, obj: Any) -> bool:
    """The document or measure is of the user's own department."""
    return user.organisation_id is not None and department_of(obj) == user.organisation_id


declare(
    "policies.catalogue_manage",
    is_policy_publisher & own_department,
    label=_("录入、修改、发布和撤回政策文件与支持措施"),
    objects=_("政府部门的政策发布员：本部门的政策文件和支持措施"),
)
declare(
    "policies.catalogue_workspace",
    is_policy_publisher | is_operator_staff,
    label=_("使用政策管理工作台"),
    objects=_("政策发布员：本部门的文件和措施（含草稿）；运营方：所有部门的（只读）"),
)
declare(
    "policies.catalogue_read",
    is_active_user,
    label=_("通过接口查询已发布的政策"),
    objects=_("所有登录用户：已发布的政策文件和支持措施"),
)
