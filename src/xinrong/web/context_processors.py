"""Navigation by role for the base layout."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.permissions import can
from xinrong.notifications.selectors import notification_unread_count


@dataclass(frozen=True)
class MenuItem:
    """One menu entry and the permission it needs.

    ``on`` names the object the permission is asked about: the user's own enterprise
    (``"entity"``; its USCC is the URL's argument when ``with_uscc``) or own organisation
    (``"organisation"``); empty: no object (may the user do this at all).
    """

    label: Any
    url: str
    icon: str
    perm: str | None
    on: str = ""
    with_uscc: bool = False


# The menu, in order; each item asks the permission layer.
_MENU: list[MenuItem] = [
    MenuItem(_("本企业档案"), "enterprises:detail", "building", "credit.case_file", "entity", True),
    MenuItem(_("信用画像"), "credit:portrait_own", "person-vcard", "credit.case_file"),
    MenuItem(_("关系图谱"), "credit:graph", "diagram-3", "credit.case_file", "entity", True),
    MenuItem(_("查询授权"), "credit:authorisations", "shield-lock", "credit.consent_manage"),
    MenuItem(_("查询记录"), "credit:query_log", "journal-text", "credit.query_log_view"),
    MenuItem(_("金融产品超市"), "marketplace:list", "shop", None),
    MenuItem(_("我的需求"), "marketplace:my_demands", "cash-coin", "marketplace.demand_file"),
    MenuItem(_("市场主体库"), "enterprises:list", "buildings", "enterprises.registry_search"),
    MenuItem(_("我的异议"), "credit:dispute_list", "flag", "credit.case_file"),
    MenuItem(_("信用修复"), "credit:repair_list", "patch-check", "credit.case_file"),
    MenuItem(_("异议处理"), "credit:dispute_list", "flag", "credit.case_queue"),
    MenuItem(_("修复审核"), "credit:repair_list", "patch-check", "credit.case_queue"),
    MenuItem(_("风险预警"), "credit:alerts", "exclamation-triangle", "credit.alerts_view"),
    MenuItem(_("需求大厅"), "marketplace:demand_hall", "megaphone", "marketplace.demand_hall_view"),
    MenuItem(
        _("我承接的需求"), "marketplace:demands_held", "hand-index", "marketplace.demand_take"
    ),
    MenuItem(
        _("贷款申请"), "marketplace:applications", "list-check", "marketplace.applications_view"
    ),
    MenuItem(_("我的产品"), "marketplace:mine", "box-seam", "marketplace.product_manage"),
    MenuItem(_("首贷中心"), "marketplace:first_loan", "star", "marketplace.first_loan_view"),
    MenuItem(_("续贷中心"), "marketplace:renewal", "arrow-repeat", "marketplace.renewal_view"),
    MenuItem(
        _("上市挂牌后备库"),
        "marketplace:capital_market",
        "graph-up-arrow",
        "marketplace.capital_market_view",
    ),
    MenuItem(_("信用培植"), "credit:cultivation", "flower1", "credit.cultivation_run"),
    MenuItem(_("信息归集"), "datahub:home", "database-up", "datahub.hub_use"),
    MenuItem(_("数据冲突处理"), "datahub:conflicts", "intersect", "datahub.hub_use"),
    MenuItem(
        _("API 密钥"), "accounts:api_key_list", "key", "accounts.apikey_manage", "organisation"
    ),
    MenuItem(
        _("机构与账号"), "accounts:organisation_list", "people", "accounts.organisation_create"
    ),
    MenuItem(_("评分模型"), "credit:models", "graph-up", "credit.model_view"),
    MenuItem(_("流程管理"), "workflows:process_list", "diagram-2", "workflows.process_manage"),
    MenuItem(_("预警规则"), "credit:warning_rules", "sliders", "credit.warning_rules_view"),
    MenuItem(_("产品审核"), "marketplace:review", "clipboard-check", "marketplace.product_review"),
    MenuItem(
        _("无人承接的需求"),
        "marketplace:demands_escalated",
        "alarm",
        "marketplace.demands_escalated_view",
    ),
    MenuItem(
        _("账号操作记录"), "accounts:security_log", "journal-lock", "accounts.security_log_view"
    ),
    MenuItem(_("接口文档"), "api:openapi-view", "braces", "accounts.api_docs_view"),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Return the menu entries the current user may use, and its unread notifications."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "unread_notifications": 0}
    items: list[tuple[str, str, str]] = [(str(_("首页")), reverse("web:home"), "house")]
    org = user.organisation
    objects = {"": None, "organisation": org, "entity": getattr(org, "market_entity", None)}
    for item in _MENU:
        obj = objects[item.on]
        if item.on and obj is None:
            continue
        if item.perm is not None and not can(user, item.perm, obj):
            continue
        args = [obj.uscc] if item.with_uscc and obj is not None else []
        items.append((str(item.label), reverse(item.url, args=args), item.icon))
    if user.is_staff:
        items.append((str(_("管理后台")), reverse("admin:index"), "gear"))
    return {
        "nav_items": items,
        "unread_notifications": notification_unread_count(user=user),
    }
