"""Who may see and change the platform's approval processes."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from xinrong.accounts.permissions import (
    declare,
    is_central_operator_admin,
    is_central_operator_staff,
)

declare(
    "workflows.process_view",
    is_central_operator_staff,
    label=_("查看审批流程"),
    objects=_("全部审批流程及其版本"),
)
declare(
    "workflows.process_manage",
    is_central_operator_admin,
    label=_("编辑和启用审批流程"),
    objects=_("全部审批流程（仅省级运营管理员）"),
)
