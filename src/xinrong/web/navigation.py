"""The platform's menu, declared once per side of the platform (NetBox's ``navigation/menu.py``).

Each side (enterprise, institution, government, operator) has one :class:`Menu` of 4–6
:class:`MenuGroup` s; each :class:`MenuItem` names the permission it needs and the object the
permission is asked about, so the menu offers nothing the permission layer
(:func:`xinrong.accounts.permissions.can`) would refuse. :func:`menu_for` resolves a user's menu
for a request: the items the user may use, the current item (the one whose address is the longest
prefix of the request's path) and which group is open.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.choices import OrgGroup
from xinrong.accounts.permissions import can


@dataclass(frozen=True)
class MenuItem:
    """One menu entry and the permission it needs.

    ``on`` names the object the permission is asked about: the user's own enterprise
    (``"entity"``; its USCC is the URL's argument when ``with_uscc``) or own organisation
    (``"organisation"``; its id is the URL's argument when ``with_pk``); empty: no object (may the
    user do this at all). ``perm`` None: every logged-in user (their own inbox, the marketplace).
    ``staff``: only for Django staff (the admin site).
    """

    label: Any
    url: str
    icon: str
    perm: str | None
    on: str = ""
    with_uscc: bool = False
    with_pk: bool = False
    staff: bool = False
    # further address prefixes the item stands for (its cases' pages under a shared section)
    owns: tuple[str, ...] = ()


@dataclass(frozen=True)
class MenuGroup:
    """A titled group of items, drawn as one collapsible section of the sidebar."""

    key: str
    label: Any
    icon: str
    items: tuple[MenuItem, ...]


@dataclass(frozen=True)
class Menu:
    """The menu of one side of the platform."""

    side: str
    groups: tuple[MenuGroup, ...]


# --- the items, each declared once and placed in the menus below ----------------------------

HOME = MenuItem(_("首页"), "web:home", "house", None)
INBOX = MenuItem(_("消息通知"), "notifications:inbox", "bell", None)

ENTITY_FILE = MenuItem(
    _("本企业档案"), "enterprises:detail", "building", "credit.case_file", "entity", True
)
PORTRAIT_OWN = MenuItem(_("信用画像"), "credit:portrait_own", "person-vcard", "credit.case_file")
GRAPH_OWN = MenuItem(_("关系图谱"), "credit:graph", "diagram-3", "credit.case_file", "entity", True)
AUTHORISATIONS = MenuItem(
    _("查询授权"), "credit:authorisations", "shield-lock", "credit.consent_manage"
)
QUERY_LOG = MenuItem(_("查询记录"), "credit:query_log", "journal-text", "credit.query_log_view")
MARKETPLACE = MenuItem(_("金融产品超市"), "marketplace:list", "shop", None)
MY_DEMANDS = MenuItem(
    _("我的需求"), "marketplace:my_demands", "cash-coin", "marketplace.demand_file"
)
REGISTRY = MenuItem(_("市场主体库"), "enterprises:list", "buildings", "enterprises.registry_search")
MY_DISPUTES = MenuItem(_("我的异议"), "credit:dispute_list", "flag", "credit.case_file")
MY_REPAIRS = MenuItem(_("信用修复"), "credit:repair_list", "patch-check", "credit.case_file")
DISPUTE_QUEUE = MenuItem(_("异议处理"), "credit:dispute_list", "flag", "credit.case_queue")
REPAIR_QUEUE = MenuItem(_("修复审核"), "credit:repair_list", "patch-check", "credit.case_queue")
ALERTS = MenuItem(_("风险预警"), "credit:alerts", "exclamation-triangle", "credit.alerts_view")
DEMAND_HALL = MenuItem(
    _("需求大厅"), "marketplace:demand_hall", "megaphone", "marketplace.demand_hall_view"
)
DEMANDS_HELD = MenuItem(
    _("我承接的需求"), "marketplace:demands_held", "hand-index", "marketplace.demand_take"
)
APPLICATIONS = MenuItem(
    _("贷款申请"), "marketplace:applications", "list-check", "marketplace.applications_view"
)
# Guarantee and insurance requests on loan applications: a guarantor's or insurer's queue, the
# requests on a lender's applications, an enterprise's own.
GUARANTEES = MenuItem(
    _("担保/保险申请"),
    "marketplace:guarantees",
    "shield-check",
    "marketplace.guarantee_requests_view",
)
MY_PRODUCTS = MenuItem(_("我的产品"), "marketplace:mine", "box-seam", "marketplace.product_manage")
FIRST_LOAN = MenuItem(
    _("首贷中心"), "marketplace:first_loan", "star", "marketplace.first_loan_view"
)
RENEWAL = MenuItem(_("续贷中心"), "marketplace:renewal", "arrow-repeat", "marketplace.renewal_view")
CAPITAL_MARKET = MenuItem(
    _("上市挂牌后备库"),
    "marketplace:capital_market",
    "graph-up-arrow",
    "marketplace.capital_market_view",
)
CULTIVATION = MenuItem(_("信用培植"), "credit:cultivation", "flower1", "credit.cultivation_run")
DATAHUB = MenuItem(_("信息归集"), "datahub:home", "database-up", "datahub.hub_use")
CONFLICTS = MenuItem(_("数据冲突处理"), "datahub:conflicts", "intersect", "datahub.hub_use")
API_KEYS = MenuItem(
    _("API 密钥"), "accounts:api_key_list", "key", "accounts.apikey_manage", "organisation"
)
ORGANISATIONS = MenuItem(
    _("机构与账号"), "accounts:organisation_list", "people", "accounts.organisation_create"
)
# An institution admin's (or enterprise owner's) own users: the organisation page, where
# accounts.organisation_view lets them in and accounts.user_create lets them add logins.
OWN_USERS = MenuItem(
    _("用户管理"),
    "accounts:organisation_detail",
    "person-gear",
    "accounts.user_create",
    "organisation",
    with_pk=True,
)
# The users of the organisations the reader manages (its own for an institution admin), with
# search, filters and an export; editing and disabling are on each user's page.
USERS = MenuItem(
    _("账号管理"), "accounts:user_list", "person-lines-fill", "accounts.user_list_view"
)
DATA_SOURCES = MenuItem(_("数据来源"), "datahub:sources", "plug", "datahub.hub_use")
MODELS = MenuItem(_("评分模型"), "credit:models", "graph-up", "credit.model_view")
PROCESSES = MenuItem(
    _("流程管理"), "workflows:process_list", "diagram-2", "workflows.process_manage"
)
WARNING_RULES = MenuItem(
    _("预警规则"), "credit:warning_rules", "sliders", "credit.warning_rules_view"
)
PRODUCT_REVIEW = MenuItem(
    _("产品审核"), "marketplace:review", "clipboard-check", "marketplace.product_review"
)
DEMANDS_ESCALATED = MenuItem(
    _("无人承接的需求"),
    "marketplace:demands_escalated",
    "alarm",
    "marketplace.demands_escalated_view",
)
SECURITY_LOG = MenuItem(
    _("账号操作记录"), "accounts:security_log", "clock-history", "accounts.security_log_view"
)
AUDIT_LOG = MenuItem(_("审计日志"), "audit_log", "shield-check", "audit.view_log")
API_DOCS = MenuItem(_("接口文档"), "api:openapi-view", "braces", "accounts.api_docs_view")
ADMIN_SITE = MenuItem(_("管理后台"), "admin:index", "gear", None, staff=True)


def _group(key: str, label: Any, icon: str, *items: MenuItem) -> MenuGroup:
    return MenuGroup(key, label, icon, items)


WORKBENCH = _group("workbench", _("工作台"), "speedometer2", HOME, INBOX)
# Policy support (政策支持): the policy list and calculator for everyone; an enterprise's own
# matches, applications and grants; a department's workspace, inbox and 免申即享 lists; finance's
# payments; the evidence of whether policy lands.
POLICIES = MenuItem(_("政策"), "policies:list", "journal-bookmark", None)
CALCULATOR = MenuItem(_("政策计算器"), "policies:calculator", "calculator", None)
MY_POLICIES = MenuItem(_("我的政策"), "policies:mine", "stars", "policies.my_policies_view")
MY_POLICY_FUNDS = MenuItem(
    _("我的政策资金"),
    "policies:fund_mine",
    "piggy-bank",
    "policies.fund_mine",
    owns=("/policies/funds/",),
)
POLICY_MANAGE = MenuItem(
    _("政策管理"), "policies:workspace", "pencil-square", "policies.catalogue_workspace"
)
FUND_QUEUE = MenuItem(
    _("专项资金审批"),
    "policies:fund_queue",
    "clipboard-check",
    "policies.fund_queue",
    owns=("/policies/funds/",),
)
FUND_PAYMENTS = MenuItem(_("资金拨付"), "policies:fund_payments", "cash", "policies.fund_disburse")
AUTO_GRANTS = MenuItem(_("免申即享"), "policies:auto_measures", "gift", "policies.auto_view")
SUBSIDY = MenuItem(_("贷款贴息"), "policies:subsidy_list", "percent", "policies.subsidy_view")
PBOC = MenuItem(_("央行政策专栏"), "policies:pboc", "bank", "policies.pboc_view")
POLICY_EVIDENCE = MenuItem(
    _("政策落地成效"), "policies:evidence", "graph-up-arrow", "policies.evidence_view"
)


# Risk compensation (风险补偿, issue 15): funds and their ledger, claims and their approval,
# recoveries, the circuit breaker, guarantors' 代偿 and the sufficiency simulator
RISKFUND_HOME = MenuItem(
    _("风险补偿基金"),
    "riskfund:home",
    "safe",
    "riskfund.fund_view",
    owns=("/riskfund/funds/", "/riskfund/entries/"),
)
CLAIM_QUEUE = MenuItem(
    _("补偿审批"), "riskfund:claim_queue", "clipboard-check", "riskfund.claim_queue"
)
CLAIMS = MenuItem(
    _("风险补偿申请"),
    "riskfund:claims",
    "shield-check",
    "riskfund.claim_view",
    owns=("/riskfund/claims/", "/riskfund/recoveries/"),
)
CLAIM_STATS = MenuItem(_("补偿统计"), "riskfund:claim_stats", "bar-chart", "riskfund.claim_stats")
BREAKERS = MenuItem(_("熔断监测"), "riskfund:breakers", "speedometer", "riskfund.breaker_view")
MY_BREAKER = MenuItem(
    _("补偿熔断状态"), "riskfund:my_breaker", "speedometer", "riskfund.breaker_own"
)
PAYOUTS = MenuItem(
    _("担保代偿"),
    "riskfund:payouts",
    "cash-coin",
    "riskfund.payouts_view",
    owns=("/riskfund/payouts/",),
)
SIMULATOR = MenuItem(
    _("资金充足性测算"),
    "riskfund:simulator",
    "calculator",
    "riskfund.simulation_view",
    owns=("/riskfund/simulator/",),
)
# statistics for government and regulators (issue 16, part D)
STATISTICS = MenuItem(
    _("统计分析"),
    "insight:statistics",
    "bar-chart-line",
    "insight.statistics_view",
    owns=("/insight/statistics/",),
)
RISKFUND_ITEMS = (RISKFUND_HOME, CLAIM_QUEUE, CLAIMS, CLAIM_STATS, BREAKERS, SIMULATOR)

# white and black lists (issue 16, credit.rules_lists)
LIST_STATUS = MenuItem(
    _("名单状态"), "credit:list_status", "person-check", "credit.list_status_view", "entity"
)
PROSPECTS = MenuItem(_("白名单客户"), "credit:prospects", "person-plus", "credit.prospects_view")
FRAUD_REPORTS = MenuItem(
    _("欺诈举报"), "credit:fraud_list", "exclamation-octagon", "credit.fraud_report"
)
CREDIT_LISTS = MenuItem(_("红黑名单"), "credit:lists", "list-ul", "credit.lists_view")
FRAUD_QUEUE = MenuItem(
    _("欺诈举报核实"), "credit:fraud_list", "exclamation-octagon", "credit.lists_view"
)


# heat maps (issue 16, part C)
HEATMAP = MenuItem(
    _("信用热力地图"),
    "insight:heatmap",
    "map",
    "insight.heatmap_view",
    owns=("/insight/heatmap/", "/insight/campaigns/"),
)


# 融资评价 (issue 16, part A): rating the other side of a loan, ratings, league table, appeals
PENDING_RATINGS = MenuItem(
    _("待评价"),
    "evaluations:pending",
    "star-half",
    "evaluations.pending_view",
    owns=("/evaluations/loans/",),
)
RATINGS = MenuItem(
    _("融资评价"),
    "evaluations:ratings",
    "star",
    "evaluations.rating_view",
    owns=("/evaluations/ratings/",),
)
LEAGUE = MenuItem(_("机构评价排行"), "evaluations:league", "trophy", "evaluations.league_view")
RATING_APPEALS = MenuItem(
    _("评价申诉"), "evaluations:appeals", "megaphone", "evaluations.appeal_queue"
)


# 甘霖工程 (issue 16, grid): the field officer's visits, the gap report, the programme's loans
GRID_VISIT_NEW = MenuItem(
    _("登记走访"), "insight:grid_visit_new", "door-open", "insight.grid_visit_record"
)
GRID_VISITS = MenuItem(
    _("走访记录"), "insight:grid_visits", "house-door", "insight.grid_visits_view"
)
GRID_REPORT = MenuItem(
    _("走访建档缺口"), "insight:grid_report", "bar-chart-steps", "insight.grid_report_view"
)
GRID_LOANS = MenuItem(_("甘霖工程贷款"), "insight:grid_loans", "droplet", "insight.grid_loans_view")
GRID_ITEMS = (GRID_VISIT_NEW, GRID_VISITS, GRID_REPORT, GRID_LOANS)


def _policy_group(*items: MenuItem) -> MenuGroup:
    return _group("policies", _("政策支持"), "journal-bookmark", *items)


MENUS: dict[str, Menu] = {
    OrgGroup.ENTERPRISE: Menu(
        OrgGroup.ENTERPRISE,
        (
            WORKBENCH,
            _policy_group(MY_POLICIES, MY_POLICY_FUNDS, CALCULATOR, POLICIES),
            _group(
                "credit",
                _("我的信用"),
                "person-vcard",
                ENTITY_FILE,
                PORTRAIT_OWN,
                GRAPH_OWN,
                LIST_STATUS,
            ),
            _group(
                "financing",
                _("融资"),
                "cash-stack",
                MARKETPLACE,
                MY_DEMANDS,
                APPLICATIONS,
                GUARANTEES,
                FIRST_LOAN,
                RENEWAL,
                CAPITAL_MARKET,
                PENDING_RATINGS,
                RATINGS,
                LEAGUE,
            ),
            _group("disputes", _("异议与修复"), "flag", MY_DISPUTES, MY_REPAIRS),
            _group(
                "records",
                _("授权与记录"),
                "shield-lock",
                AUTHORISATIONS,
                QUERY_LOG,
                OWN_USERS,
                SECURITY_LOG,
                API_DOCS,
            ),
        ),
    ),
    OrgGroup.INSTITUTION: Menu(
        OrgGroup.INSTITUTION,
        (
            WORKBENCH,
            _policy_group(SUBSIDY, PBOC, POLICIES, CALCULATOR),
            _group(
                "loans",
                _("贷款业务"),
                "list-check",
                APPLICATIONS,
                GUARANTEES,
                FIRST_LOAN,
                RENEWAL,
                REGISTRY,
                QUERY_LOG,
                PENDING_RATINGS,
                RATINGS,
                LEAGUE,
                *GRID_ITEMS,
            ),
            _group(
                "products",
                _("产品与需求"),
                "shop",
                MARKETPLACE,
                MY_PRODUCTS,
                DEMAND_HALL,
                DEMANDS_HELD,
                CAPITAL_MARKET,
                PROSPECTS,
            ),
            _group(
                "risk",
                _("风险与补偿"),
                "exclamation-triangle",
                ALERTS,
                WARNING_RULES,
                CLAIMS,
                MY_BREAKER,
                PAYOUTS,
                FRAUD_REPORTS,
            ),
            _group(
                "admin",
                _("机构管理"),
                "people",
                USERS,
                API_KEYS,
                SECURITY_LOG,
                API_DOCS,
                ADMIN_SITE,
            ),
        ),
    ),
    OrgGroup.GOVERNMENT: Menu(
        OrgGroup.GOVERNMENT,
        (
            WORKBENCH,
            _policy_group(
                POLICY_MANAGE,
                FUND_QUEUE,
                FUND_PAYMENTS,
                AUTO_GRANTS,
                SUBSIDY,
                POLICY_EVIDENCE,
                PBOC,
                POLICIES,
                CALCULATOR,
            ),
            _group("data", _("数据报送"), "database-up", DATAHUB, DATA_SOURCES, CONFLICTS),
            # credit enhancement (融资增信): disputes, repair and the risk-compensation funds
            _group(
                "enhancement",
                _("融资增信"),
                "shield-check",
                DISPUTE_QUEUE,
                REPAIR_QUEUE,
                *RISKFUND_ITEMS,
            ),
            # credit cultivation and financing services share one group (the sixth is policies)
            _group(
                "financing",
                _("信用培植与融资"),
                "flower1",
                STATISTICS,
                CULTIVATION,
                REGISTRY,
                HEATMAP,
                FIRST_LOAN,
                RENEWAL,
                CAPITAL_MARKET,
                MARKETPLACE,
                APPLICATIONS,
                DEMAND_HALL,
                DEMANDS_ESCALATED,
                ALERTS,
                QUERY_LOG,
                LEAGUE,
                *GRID_ITEMS,
            ),
            _group("system", _("账号与接口"), "key", API_KEYS, SECURITY_LOG, API_DOCS),
        ),
    ),
    OrgGroup.OPERATOR: Menu(
        OrgGroup.OPERATOR,
        (
            WORKBENCH,
            _policy_group(
                POLICY_MANAGE,
                FUND_QUEUE,
                AUTO_GRANTS,
                SUBSIDY,
                POLICY_EVIDENCE,
                PBOC,
                POLICIES,
                CALCULATOR,
            ),
            _group(
                "operations",
                _("运营"),
                "activity",
                REGISTRY,
                MARKETPLACE,
                DEMAND_HALL,
                DEMANDS_ESCALATED,
                APPLICATIONS,
                FIRST_LOAN,
                RENEWAL,
                CAPITAL_MARKET,
                CULTIVATION,
                ALERTS,
                *GRID_ITEMS,
            ),
            _group(
                "review",
                _("审核与补偿"),
                "clipboard-check",
                PRODUCT_REVIEW,
                DISPUTE_QUEUE,
                REPAIR_QUEUE,
                *RISKFUND_ITEMS,
                PAYOUTS,
            ),
            # 融资评价 and the views of the whole (module 5): ratings, lists, statistics, maps
            _group(
                "evaluation",
                _("评价与统计"),
                "bar-chart-line",
                STATISTICS,
                HEATMAP,
                RATINGS,
                LEAGUE,
                RATING_APPEALS,
                CREDIT_LISTS,
                FRAUD_QUEUE,
            ),
            _group(
                "system",
                _("数据与系统"),
                "gear",
                DATAHUB,
                DATA_SOURCES,
                CONFLICTS,
                MODELS,
                WARNING_RULES,
                QUERY_LOG,
                ORGANISATIONS,
                USERS,
                API_KEYS,
                SECURITY_LOG,
                AUDIT_LOG,
                PROCESSES,
                API_DOCS,
                ADMIN_SITE,
            ),
        ),
    ),
}


def menu_of(user: Any) -> Menu:
    """Return the menu of the user's side of the platform (the operator's for a superuser)."""
    group = getattr(user, "group", None)
    return MENUS.get(group or OrgGroup.OPERATOR, MENUS[OrgGroup.OPERATOR])


# --- a user's menu, resolved ------------------------------------------------------------------


@dataclass
class Link:
    """A menu item the user may use: its label, address, icon and whether it is current."""

    label: str
    url: str
    icon: str
    active: bool = False
    owns: tuple[str, ...] = ()

    def match_length(self, path: str) -> int:
        """How closely the link stands for ``path``: the longest of its address and the
        prefixes it owns that match (0: none)."""
        return max((len(u) for u in (self.url, *self.owns) if _matches(u, path)), default=0)


@dataclass
class Section:
    """A group of links the user may use; ``open`` when it holds the current link."""

    key: str
    label: str
    icon: str
    links: list[Link] = field(default_factory=list)
    open: bool = False


def _allowed(user: Any, item: MenuItem, objects: dict[str, Any]) -> tuple[bool, Any]:
    if item.staff:
        return bool(getattr(user, "is_staff", False)), None
    obj = objects[item.on]
    if item.on and obj is None:
        return False, None
    if item.perm is not None and not can(user, item.perm, obj):
        return False, None
    return True, obj


def _url(item: MenuItem, obj: Any) -> str:
    if item.with_uscc:
        return reverse(item.url, args=[obj.uscc])
    if item.with_pk:
        return reverse(item.url, args=[obj.pk])
    return reverse(item.url)


def _matches(url: str, path: str) -> bool:
    """The link's address is the path, or (a section, not the home page) a prefix of it."""
    if url == path:
        return True
    return url != "/" and url.endswith("/") and path.startswith(url)


def menu_for(user: Any, path: str = "") -> list[Section]:
    """Return the sections and links ``user`` may use, the current one marked for ``path``.

    A group the user may use nothing of is left out; the same address is offered once.
    """
    org = getattr(user, "organisation", None)
    objects = {"": None, "organisation": org, "entity": getattr(org, "market_entity", None)}
    sections: list[Section] = []
    seen: set[str] = set()
    for group in menu_of(user).groups:
        section = Section(group.key, str(group.label), group.icon)
        for item in group.items:
            allowed, obj = _allowed(user, item, objects)
            if not allowed:
                continue
            url = _url(item, obj)
            if url in seen:
                continue
            seen.add(url)
            section.links.append(Link(str(item.label), url, item.icon, owns=item.owns))
        if section.links:
            sections.append(section)
    current = max(
        (link for s in sections for link in s.links if link.match_length(path)),
        key=lambda link: link.match_length(path),
        default=None,
    )
    if current is not None:
        current.active = True
        for section in sections:
            section.open = current in section.links
    return sections
