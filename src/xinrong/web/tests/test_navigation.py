"""The menu declared once per side of the platform: what each role sees, and the current item."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from xinrong.web.navigation import MENUS, menu_for

pytestmark = pytest.mark.django_db

# role fixture or (kind, roles) → the groups and items its menu shows, in order
EXPECTED: dict[str, list[tuple[str, list[str]]]] = {
    "enterprise_user": [
        ("工作台", ["首页", "消息通知"]),
        ("政策支持", ["我的政策", "我的政策资金", "政策计算器", "政策"]),
        ("我的信用", ["本企业档案", "信用画像", "关系图谱", "名单状态"]),
        (
            "融资",
            [
                "金融产品超市",
                "我的需求",
                "贷款申请",
                "担保/保险申请",
                "首贷中心",
                "续贷中心",
                "上市挂牌后备库",
                "待评价",
                "融资评价",
                "机构评价排行",
            ],
        ),
        ("异议与修复", ["我的异议", "信用修复"]),
        ("授权与记录", ["查询授权", "查询记录", "用户管理", "账号操作记录"]),
    ],
    "bank_admin": [
        ("工作台", ["首页", "消息通知"]),
        ("政策支持", ["贷款贴息", "央行政策专栏", "政策", "政策计算器"]),
        (
            "贷款业务",
            [
                "贷款申请",
                "担保/保险申请",
                "首贷中心",
                "续贷中心",
                "市场主体库",
                "待评价",
                "融资评价",
                "机构评价排行",
                "走访记录",
                "走访建档缺口",
            ],
        ),
        ("产品与需求", ["金融产品超市", "我的产品", "需求大厅", "我承接的需求", "白名单客户"]),
        ("风险与补偿", ["风险预警", "风险补偿申请", "补偿熔断状态", "担保代偿", "欺诈举报"]),
        ("机构管理", ["账号管理", "API 密钥", "账号操作记录", "接口文档"]),
    ],
    "bank_officer": [
        ("工作台", ["首页", "消息通知"]),
        ("政策支持", ["贷款贴息", "央行政策专栏", "政策", "政策计算器"]),
        (
            "贷款业务",
            [
                "贷款申请",
                "担保/保险申请",
                "首贷中心",
                "续贷中心",
                "市场主体库",
                "待评价",
                "融资评价",
                "机构评价排行",
            ],
        ),
        ("产品与需求", ["金融产品超市", "我的产品", "需求大厅", "我承接的需求", "白名单客户"]),
        ("风险与补偿", ["风险预警", "风险补偿申请", "补偿熔断状态", "担保代偿", "欺诈举报"]),
        ("机构管理", ["接口文档"]),
    ],
    "gov_reviewer": [
        ("工作台", ["首页", "消息通知"]),
        (
            "政策支持",
            ["专项资金审批", "贷款贴息", "政策落地成效", "央行政策专栏", "政策", "政策计算器"],
        ),
        (
            "融资增信",
            ["风险补偿基金", "补偿审批", "风险补偿申请", "补偿统计", "熔断监测", "资金充足性测算"],
        ),
        (
            "信用培植与融资",
            [
                "统计分析",
                "信用培植",
                "市场主体库",
                "信用热力地图",
                "金融产品超市",
                "机构评价排行",
                "走访建档缺口",
                "甘霖工程贷款",
            ],
        ),
        ("账号与接口", ["接口文档"]),
    ],
    "operator": [
        ("工作台", ["首页", "消息通知"]),
        (
            "政策支持",
            [
                "政策管理",
                "专项资金审批",
                "免申即享",
                "贷款贴息",
                "政策落地成效",
                "央行政策专栏",
                "政策",
                "政策计算器",
            ],
        ),
        (
            "运营",
            [
                "市场主体库",
                "金融产品超市",
                "无人承接的需求",
                "贷款申请",
                "首贷中心",
                "上市挂牌后备库",
                "走访记录",
                "走访建档缺口",
                "甘霖工程贷款",
            ],
        ),
        (
            "审核与补偿",
            [
                "产品审核",
                "异议处理",
                "修复审核",
                "风险补偿基金",
                "补偿审批",
                "风险补偿申请",
                "补偿统计",
                "熔断监测",
                "资金充足性测算",
                "担保代偿",
            ],
        ),
        (
            "评价与统计",
            [
                "统计分析",
                "信用热力地图",
                "融资评价",
                "机构评价排行",
                "评价申诉",
                "红黑名单",
                "欺诈举报核实",
            ],
        ),
        (
            "数据与系统",
            [
                "信息归集",
                "数据来源",
                "数据冲突处理",
                "评分模型",
                "预警规则",
                "机构与账号",
                "账号管理",
                "账号操作记录",
                "审计日志",
                "流程管理",
                "接口文档",
            ],
        ),
    ],
}


def _menu(user, path: str = "/") -> list[tuple[str, list[str]]]:
    return [(s.label, [link.label for link in s.links]) for s in menu_for(user, path)]


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_each_role_sees_its_groups_and_items(request, role):
    user = request.getfixturevalue(role)
    assert _menu(user) == EXPECTED[role]


def test_a_department_data_clerk_sees_data_delivery_and_the_case_queues(make_user):
    clerk = make_user("government", ["data_provider"])
    menu = dict(_menu(clerk))
    assert menu["数据报送"] == ["信息归集", "数据来源", "数据冲突处理"]
    assert menu["融资增信"][:2] == ["异议处理", "修复审核"]
    assert menu["账号与接口"] == ["API 密钥", "接口文档"]


def test_a_policy_publisher_sees_the_policy_workspace(make_user):
    publisher = make_user("government", ["policy_publisher"])
    assert dict(_menu(publisher))["政策支持"][0] == "政策管理"


def test_each_side_has_four_to_six_groups_and_every_item_is_placed():
    from xinrong.web import navigation

    for menu in MENUS.values():
        assert 4 <= len(menu.groups) <= 6, menu.side
    placed = {item for menu in MENUS.values() for g in menu.groups for item in g.items}
    declared = {v for v in vars(navigation).values() if isinstance(v, navigation.MenuItem)}
    assert declared <= placed


@pytest.mark.parametrize(
    "role", ["enterprise_user", "bank_admin", "bank_officer", "gov_reviewer", "operator"]
)
def test_no_menu_item_is_refused_by_the_permission_layer(request, role, client):
    """Every page the menu offers opens for its user (the permission layer lets it in)."""
    user = request.getfixturevalue(role)
    client.force_login(user)
    home = client.get("/")
    assert home.status_code == 200
    for label, url, _icon in home.context["nav_items"]:
        if url.startswith("/admin/"):
            continue
        status = client.get(url).status_code
        assert status in (200, 302), (role, label, url, status)


def test_enterprise_users_are_not_offered_the_api_documentation(client, enterprise_user, make_user):
    agent = make_user(
        "enterprise", ["enterprise_agent"], org=enterprise_user.organisation, username="agent1"
    )
    for user in (enterprise_user, agent):
        client.force_login(user)
        body = client.get("/").content.decode()
        assert "接口文档" not in body
        assert reverse("api:openapi-view") not in body


def test_institution_admin_reaches_user_management_of_its_own_organisation(client, bank_admin):
    client.force_login(bank_admin)
    users = reverse("accounts:user_list")
    body = client.get("/").content.decode()
    assert re.search(rf'href="{users}"[^>]*>.*?账号管理', body, re.S)
    page = client.get(users)
    assert page.status_code == 200
    # only its own organisation's users are listed
    assert {u.organisation_id for u in page.context["page"].object_list} == {
        bank_admin.organisation_id
    }


def test_the_current_item_is_the_longest_prefix_of_the_path_and_its_group_is_open(
    client, bank_officer
):
    sections = menu_for(bank_officer, "/marketplace/applications/SQ1/")
    active = [(s.key, link.label) for s in sections for link in s.links if link.active]
    assert active == [("loans", "贷款申请")]
    assert [s.key for s in sections if s.open] == ["loans"]
    # the marketplace's own address (/marketplace/) is a shorter prefix: not current
    assert not any(
        link.active for s in sections for link in s.links if link.label == "金融产品超市"
    )
    # the home page is current only on itself
    assert [link.label for s in menu_for(bank_officer, "/") for link in s.links if link.active] == [
        "首页"
    ]
    assert not any(
        link.active for s in menu_for(bank_officer, "/accounts/password/") for link in s.links
    )

    client.force_login(bank_officer)
    body = client.get(reverse("marketplace:applications")).content.decode()
    current = re.findall(r'<a class="nav-link active" aria-current="page" href="([^"]+)"', body)
    assert current == [reverse("marketplace:applications")]
    assert re.search(r'class="xr-nav-group xr-nav-current" data-group="loans"', body)


def test_the_menu_is_a_sidebar_that_is_a_drawer_on_phones(client, bank_officer):
    client.force_login(bank_officer)
    body = client.get("/").content.decode()
    assert re.search(r'<aside class="offcanvas-lg offcanvas-start xr-sidebar" id="mainnav"', body)
    assert 'data-bs-toggle="offcanvas" data-bs-target="#mainnav"' in body
    # the bell is in the header, not inside the drawer
    header = body.split('<div class="xr-shell">')[0]
    assert 'id="notification-bell"' in header


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_language_selector_names_each_language_in_itself(client, operator, lang):
    client.force_login(operator)
    client.cookies["django_language"] = lang
    body = client.get("/").content.decode()
    options = re.findall(r'<option value="([^"]+)" lang="[^"]+"( selected)?>([^<]+)</option>', body)
    assert [(code, label) for code, _sel, label in options] == [
        ("zh-hans", "中文"),
        ("en", "English"),
    ]
    assert [code for code, sel, _label in options if sel] == [lang]


def test_language_selector_on_the_login_page(client):
    body = Client().get(reverse("accounts:login")).content.decode()
    assert ">中文</option>" in body and ">English</option>" in body


def test_the_layout_needs_no_inline_script_or_style(client, bank_officer):
    """The Content-Security-Policy forbids inline script; the layout uses neither it nor style=."""
    client.force_login(bank_officer)
    for url in ("/", "/no-such-page/"):
        body = client.get(url).content.decode()
        layout = body.split("<main", 1)[0] + body.split("</main>", 1)[1]
        assert " style=" not in layout, url
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", layout), url
        assert " onclick=" not in body and " onchange=" not in body, url


def test_a_guarantor_finds_its_requests_and_not_the_reserve(make_user):
    guarantor = make_user("guarantor", ["loan_officer"])
    menu = dict(_menu(guarantor))
    assert "担保/保险申请" in menu["贷款业务"]
    assert not any("上市挂牌后备库" in items for items in menu.values())


def test_a_case_page_highlights_the_item_that_owns_it(make_user, enterprise_user):
    """An application's page under /policies/funds/ is the enterprise's 我的政策资金 and the
    department's 专项资金审批, not the public 政策 list whose address is a shorter prefix."""

    def current(user) -> str:
        return next(
            link.label
            for s in menu_for(user, "/policies/funds/12/")
            for link in s.links
            if link.active
        )

    assert current(enterprise_user) == "我的政策资金"
    assert current(make_user("government", ["policy_publisher"])) == "专项资金审批"
