"""Navigation by role for the base layout."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from xinrong.accounts import permissions
from xinrong.accounts.choices import API_KEY_KINDS, KEY_MANAGER_ROLES, OrgGroup, OrgKind, Role
from xinrong.marketplace.choices import LENDER_KINDS, PRODUCT_KINDS
from xinrong.notifications.selectors import notification_unread_count


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Return the menu entries the current user may use, and its unread notifications."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "unread_notifications": 0}
    items: list[tuple[str, str, str]] = [(str(_("首页")), reverse("web:home"), "house")]
    group = user.group
    if group == OrgGroup.ENTERPRISE:
        if user.organisation and hasattr(user.organisation, "market_entity"):
            items.append(
                (
                    str(_("本企业档案")),
                    reverse("enterprises:detail", args=[user.organisation.market_entity.uscc]),
                    "building",
                )
            )
            items.append((str(_("信用画像")), reverse("credit:portrait_own"), "person-vcard"))
            items.append(
                (
                    str(_("关系图谱")),
                    reverse("credit:graph", args=[user.organisation.market_entity.uscc]),
                    "diagram-3",
                )
            )
            items.append((str(_("查询授权")), reverse("credit:authorisations"), "shield-lock"))
            items.append((str(_("查询记录")), reverse("credit:query_log"), "journal-text"))
            items.append((str(_("我的异议")), reverse("credit:dispute_list"), "flag"))
            items.append((str(_("信用修复")), reverse("credit:repair_list"), "patch-check"))
        items.append((str(_("金融产品超市")), reverse("marketplace:list"), "shop"))
        if user.organisation and hasattr(user.organisation, "market_entity"):
            items.append((str(_("我的需求")), reverse("marketplace:my_demands"), "cash-coin"))
            items.append((str(_("我的申请")), reverse("marketplace:applications"), "list-check"))
            items.append((str(_("首贷中心")), reverse("marketplace:first_loan"), "star"))
            items.append((str(_("续贷中心")), reverse("marketplace:renewal"), "arrow-repeat"))
            items.append(
                (str(_("上市挂牌后备库")), reverse("marketplace:capital_market"), "graph-up-arrow")
            )
    else:
        items.append((str(_("市场主体库")), reverse("enterprises:list"), "buildings"))
    if group != OrgGroup.ENTERPRISE and (
        user.is_superuser
        or user.has_role(Role.DATA_PROVIDER)
        or (group == OrgGroup.OPERATOR and user.has_role(Role.OPERATOR_ADMIN, Role.AUDITOR))
    ):
        items.append((str(_("异议处理")), reverse("credit:dispute_list"), "flag"))
        items.append((str(_("修复审核")), reverse("credit:repair_list"), "patch-check"))
    if group == OrgGroup.INSTITUTION:
        items.append((str(_("风险预警")), reverse("credit:alerts"), "exclamation-triangle"))
        items.append((str(_("需求大厅")), reverse("marketplace:demand_hall"), "megaphone"))
        if user.organisation and user.organisation.kind in LENDER_KINDS:
            items.append(
                (str(_("我承接的需求")), reverse("marketplace:demands_held"), "hand-index")
            )
        items.append((str(_("贷款申请")), reverse("marketplace:applications"), "list-check"))
        if user.organisation and user.organisation.kind in PRODUCT_KINDS:
            items.append((str(_("我的产品")), reverse("marketplace:mine"), "box-seam"))
            items.append((str(_("首贷中心")), reverse("marketplace:first_loan"), "star"))
            items.append((str(_("续贷中心")), reverse("marketplace:renewal"), "arrow-repeat"))
        if user.organisation and user.organisation.kind == OrgKind.INVESTOR:
            items.append(
                (str(_("上市挂牌后备库")), reverse("marketplace:capital_market"), "graph-up-arrow")
            )
    if group == OrgGroup.GOVERNMENT:
        items.append((str(_("信用培植")), reverse("credit:cultivation"), "flower1"))
    if (
        user.is_superuser
        or user.has_role(Role.DATA_PROVIDER)
        or (group == OrgGroup.OPERATOR and user.has_role(Role.OPERATOR_ADMIN, Role.AUDITOR))
    ):
        items.append((str(_("信息归集")), reverse("datahub:home"), "database-up"))
        items.append((str(_("数据冲突处理")), reverse("datahub:conflicts"), "intersect"))
    if (
        user.organisation
        and user.organisation.kind in API_KEY_KINDS
        and user.has_role(*KEY_MANAGER_ROLES)
    ):
        items.append((str(_("API 密钥")), reverse("accounts:api_key_list"), "key"))
    if user.is_superuser or (group == OrgGroup.OPERATOR and user.has_role(Role.OPERATOR_ADMIN)):
        items.append((str(_("机构与账号")), reverse("accounts:organisation_list"), "people"))
    if user.is_superuser or group == OrgGroup.OPERATOR:
        items.append((str(_("评分模型")), reverse("credit:models"), "graph-up"))
        items.append((str(_("预警规则")), reverse("credit:warning_rules"), "sliders"))
        items.append((str(_("贷款申请")), reverse("marketplace:applications"), "list-check"))
    if user.is_superuser or (
        user.organisation
        and user.organisation.kind == OrgKind.OPERATOR
        and user.has_role(Role.OPERATOR_ADMIN)
    ):
        items.append((str(_("产品审核")), reverse("marketplace:review"), "clipboard-check"))
    if user.is_superuser or (
        group == OrgGroup.OPERATOR and user.has_role(Role.OPERATOR_ADMIN, Role.AUDITOR)
    ):
        items.append((str(_("首贷中心")), reverse("marketplace:first_loan"), "star"))
        items.append(
            (str(_("上市挂牌后备库")), reverse("marketplace:capital_market"), "graph-up-arrow")
        )
        items.append((str(_("无人承接的需求")), reverse("marketplace:demands_escalated"), "alarm"))
    if permissions.can(user, "accounts.security_log_view"):
        items.append((str(_("账号操作记录")), reverse("accounts:security_log"), "journal-lock"))
    if user.is_staff:
        items.append((str(_("管理后台")), reverse("admin:index"), "gear"))
    items.append((str(_("接口文档")), reverse("api:openapi-view"), "braces"))
    return {
        "nav_items": items,
        "unread_notifications": notification_unread_count(user=user),
    }
