"""Words for audit entries: an action's Chinese name, never its stored code."""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext_lazy as _

from xinrong.audit.models import AuditEntry

ACTION_LABELS: dict[str, object] = {
    "download": _("下载文件"),
    "credit.query.page": _("查询信用信息（网页）"),
    "credit.query.api": _("查询信用信息（接口）"),
    "credit.query.export": _("导出信用信息"),
    "bpmn.task_complete": _("办理审批任务"),
    "bpmn.version_activate": _("启用审批流程版本"),
    "credit.model_activate": _("启用评分模型"),
    "credit.whitelist_criteria_set": _("设置白名单条件"),
    "credit.warning_rule_update": _("修改预警规则"),
    "riskfund.rule_set_create": _("设定风险补偿规则"),
    "policies.measure_update": _("修改政策措施条款"),
}


def action_label(entry: AuditEntry, extra: Mapping[str, object] | None = None) -> str:
    """Return the entry's action in words (``extra``: labels known to the caller's layer)."""
    label = ACTION_LABELS.get(entry.action) or (extra or {}).get(entry.action)
    if label is None and isinstance(entry.details, dict):
        label = entry.details.get("label")
    return str(label or _("其他操作"))
