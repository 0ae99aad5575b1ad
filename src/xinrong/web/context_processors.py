"""Navigation by role for the base layout."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.permissions import can
from xinrong.notifications.selectors import notification_unread_count

# Items needing the user's own enterprise take its USCC as their argument.
_OWN_ENTITY = object()

# The menu, in order: (label, URL name, icon, the permission it needs). Each item asks the
# permission layer; items of the user's own enterprise take its USCC.
_MENU: list[tuple[Any, str, str, Any]] = [
    (_("本企业档案"), "enterprises:detail", "building", _OWN_ENTITY),
    (_("信用画像"), "credit:portrait_own", "person-vcard", "credit.case_file"),
    (_("关系图谱"), "credit:graph", "diagram-3", _OWN_ENTITY),
    (_("查询授权"), "credit:authorisations", "shield-lock", "credit.consent_manage"),
    (_("查询记录"), "credit:query_log", "journal-text", "credit.query_log_view"),
    (_("金融产品超市"), "marketplace:list", "shop", None),
    (_("我的需求"), "marketplace:my_demands", "cash-coin", "marketplace.demand_file"),
    (_("市场主体库"), "enterprises:list", "buildings", "enterprises.registry_search"),
    (_("我的异议"), "credit:dispute_list", "flag", "credit.case_file"),
    (_("信用修复"), "credit:repair_list", "patch-check", "credit.case_file"),
    (_("异议处理"), "credit:dispute_list", "flag", "credit.case_queue"),
    (_("修复审核"), "credit:repair_list", "patch-check", "credit.case_queue"),
    (_("风险预警"), "credit:alerts", "exclamation-triangle", "credit.alerts_view"),
    (_("需求大厅"), "marketplace:demand_hall", "megaphone", "marketplace.demand_hall_view"),
    (_("我承接的需求"), "marketplace:demands_held", "hand-index", "marketplace.demand_take"),
    (_("贷款申请"), "marketplace:applications", "list-check", "marketplace.applications_view"),
    (_("我的产品"), "marketplace:mine", "box-seam", "marketplace.product_manage"),
    (_("首贷中心"), "marketplace:first_loan", "star", "marketplace.first_loan_view"),
    (_("续贷中心"), "marketplace:renewal", "arrow-repeat", "marketplace.renewal_view"),
    (
        _("上市挂牌后备库"),
        "marketplace:capital_market",
        "graph-up-arrow",
        "marketplace.capital_market_view",
    ),
    (_("信用培植"), "credit:cultivation", "flower1", "credit.cultivation_run"),
    (_("信息归集"), "datahub:home", "database-up", "datahub.hub_use"),
    (_("数据冲突处理"), "datahub:conflicts", "intersect", "datahub.hub_use"),
    (_("API 密钥"), "accounts:api_key_list", "key", "accounts.apikey_manage"),
    (_("机构与账号"), "accounts:organisation_list", "people", "accounts.organisation_create"),
    (_("评分模型"), "credit:models", "graph-up", "credit.model_view"),
    (_("预警规则"), "credit:warning_rules", "sliders", "credit.warning_rules_view"),
    (_("产品审核"), "marketplace:review", "clipboard-check", "marketplace.product_review"),
    (
        _("无人承接的需求"),
        "marketplace:demands_escalated",
        "alarm",
        "marketplace.demands_escalated_view",
    ),
    (_("账号操作记录"), "accounts:security_log", "journal-lock", "accounts.security_log_view"),
    (_("接口文档"), "api:openapi-view", "braces", "accounts.api_docs_view"),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Return the menu entries the current user may use, and its unread notifications."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "unread_notifications": 0}
    items: list[tuple[str, str, str]] = [(str(_("首页")), reverse("web:home"), "house")]
    entity = getattr(user.organisation, "market_entity", None) if user.organisation else None
    for label, url, icon, perm in _MENU:
        if perm is _OWN_ENTITY:
            if entity is None or not can(user, "credit.case_file", entity):
                continue
            items.append((str(label), reverse(url, args=[entity.uscc]), icon))
            continue
        obj = user.organisation if perm == "accounts.apikey_manage" else None
        if perm == "accounts.apikey_manage" and obj is None:
            continue
        if perm is None or can(user, perm, obj):
            items.append((str(label), reverse(url), icon))
    if user.is_staff:
        items.append((str(_("管理后台")), reverse("admin:index"), "gear"))
    return {
        "nav_items": items,
        "unread_notifications": notification_unread_count(user=user),
    }
