"""The sections of each role's workbench, built from the apps' workbench selectors."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts import members
from xinrong.accounts import selectors as account_selectors
from xinrong.accounts.choices import INSTITUTION_KINDS, OrgKind, Role
from xinrong.accounts.models import User
from xinrong.accounts.permissions import can
from xinrong.audit import selectors as audit_selectors
from xinrong.credit.models import Authorisation
from xinrong.credit.scorecard import BANKABLE_GRADE, DEFAULT_BANDS
from xinrong.credit.selectors import workbench as credit_wb
from xinrong.credit.selectors.lists import lists_card
from xinrong.datahub import deliveries as datahub_wb
from xinrong.enterprises import presenters
from xinrong.enterprises.models import MarketEntity
from xinrong.evaluations.selectors.workbench import ratings_card
from xinrong.insight.selectors.grid import grid_card
from xinrong.insight.selectors.statistics import statistics_card
from xinrong.marketplace.choices import GuaranteeRequestStatus, InterestStatus, ProductStatus
from xinrong.marketplace.rules import guarantee_provider, lender
from xinrong.marketplace.selectors import capital_market as reserve_selectors
from xinrong.marketplace.selectors import guarantees as guarantee_selectors
from xinrong.marketplace.selectors import workbench as market_wb
from xinrong.notifications.selectors import notification_list
from xinrong.policies.selectors import evidence as policy_wb
from xinrong.policies.selectors import workbench as policy_cards
from xinrong.reference import divisions
from xinrong.riskfund.selectors.workbench import riskfund_cards
from xinrong.web.workbench.registry import registry_figures

GRADE_ORDER = [g for g, _floor in DEFAULT_BANDS]  # best first
# The registry facts an enterprise can complete, with how they are named on its record.
ENTITY_DATA_FIELDS = ("established_on", "address", "employees", "annual_revenue", "total_assets")


def _region_name(user: User) -> str:
    region = user.organisation.region_code if user.organisation else ""
    return divisions.full_name(region) if region else ""


def _notifications(user: User, limit: int = 5) -> dict[str, Any]:
    unread = notification_list(user=user, unread_only=True)
    return {"unread": unread.count(), "rows": list(unread[:limit])}


def monthly_chart(rows: list[market_wb.Month]) -> list[dict[str, Any]]:
    """Return the monthly figures as the chart script reads them (amounts in 万元, as text)."""
    return [
        {
            "month": r.month,
            "applications": r.applications,
            "approvals": r.approvals,
            "disbursed": r.disbursed,
            "amount_wan": str((r.disbursed_amount / 10000).quantize(Decimal("0.01"))),
            "overdue": r.overdue,
            "avg_days": str(r.avg_days_to_decide) if r.avg_days_to_decide is not None else None,
        }
        for r in rows
    ]


# ---------------------------------------------------------------- enterprise


def _missing_data(entity: MarketEntity) -> list[str]:
    return [
        str(getattr(MarketEntity._meta.get_field(name), "verbose_name", name))
        for name in ENTITY_DATA_FIELDS
        if getattr(entity, name) in (None, "")
    ]


def _live_authorisations(entity: MarketEntity, now: dt.datetime) -> int:
    return Authorisation.objects.filter(
        entity=entity, revoked_at__isnull=True, expires_at__gt=now
    ).count()


def enterprise(user: User) -> dict[str, Any]:
    """The enterprise's workbench: grade, applications, demands, matches, cases, what to do."""
    org = user.organisation
    entity: MarketEntity | None = getattr(org, "market_entity", None) if org else None
    context: dict[str, Any] = {"entity": None}
    if entity is None:
        return context
    now = timezone.now()
    trend = credit_wb.grade_trend(entity=entity)
    applications, applications_total = market_wb.enterprise_open_applications(user=user)
    demands, demands_total = market_wb.enterprise_demands(user=user)
    demand, matches = market_wb.enterprise_matches(user=user)
    first_loan = [] if demand else market_wb.enterprise_first_loan_products(user=user)
    missing = _missing_data(entity)
    authorised = _live_authorisations(entity, now)
    todo: list[dict[str, str]] = []
    if missing:
        todo.append(
            {
                "key": "data",
                "title": _("完善企业信息"),
                "text": _("登记档案缺少：%(f)s。信息越完整，评分和产品匹配越准确。")
                % {"f": "、".join(missing)},
                "url": "enterprises:detail",
                "arg": entity.uscc,
                "button": _("查看登记档案"),
            }
        )
    if not authorised:
        todo.append(
            {
                "key": "authorise",
                "title": _("授权金融机构查询"),
                "text": _("目前没有有效的查询授权；授权后银行可以查看您的信用信息并更快审批。"),
                "url": "credit:authorisations",
                "arg": "",
                "button": _("管理查询授权"),
            }
        )
    if trend.grade and (trend.grade not in GRADE_ORDER or GRADE_ORDER.index(trend.grade) > 0):
        bankable = trend.grade in GRADE_ORDER and GRADE_ORDER.index(
            trend.grade
        ) <= GRADE_ORDER.index(BANKABLE_GRADE)
        todo.append(
            {
                "key": "grade",
                "title": _("提升信用等级"),
                "text": (
                    _("当前等级 %(g)s，查看改进建议，了解每项改进能加多少分。")
                    if bankable
                    else _("当前等级 %(g)s，低于银行通常放贷的 %(b)s 级；查看改进建议。")
                )
                % {"g": trend.grade, "b": BANKABLE_GRADE},
                "url": "credit:portrait_own",
                "arg": "",
                "button": _("查看改进建议"),
            }
        )
    if not demands_total and not applications_total:
        todo.append(
            {
                "key": "demand",
                "title": _("发布融资需求"),
                "text": _("写下金额、期限和可接受的利率，平台为您匹配产品，银行也可以主动承接。"),
                "url": "marketplace:demand_new",
                "arg": "",
                "button": _("发布融资需求"),
            }
        )
    context.update(
        {
            "entity": presenters.entity_row(entity),
            "uscc": entity.uscc,
            "trend": trend,
            "trend_points": trend.points,
            "applications": applications,
            "applications_total": applications_total,
            "demands": demands,
            "demands_total": demands_total,
            "match_demand": demand,
            "matches": matches,
            "first_loan": first_loan,
            "cases": credit_wb.cases_in_progress(user=user),
            "notifications": _notifications(user),
            "todo": todo,
            "today": timezone.localdate(),
            "can_file_demand": can(user, "marketplace.demand_file"),
            "policy_card": policy_cards.enterprise_card(user=user),
            "lists_card": lists_card(user),  # white/black lists (issue 16)
            **ratings_card(user),  # 融资评价 (issue 16): loans to rate, own reputation
        }
    )
    return context


# ---------------------------------------------------------------- institutions


def institution(user: User) -> dict[str, Any]:
    """An institution's workbench; each section shows when the user may use its list."""
    context: dict[str, Any] = {
        "notifications": _notifications(user),
        # loan applications and the demand hall are for lenders (banks, microloan companies)
        "show_queue": can(user, "marketplace.applications_view") and lender.test(user),
        "show_hall": can(user, "marketplace.demand_hall_view") and lender.test(user),
        "show_alerts": can(user, "credit.alerts_view"),
        "show_members": can(user, "accounts.user_create", user.organisation)
        or can(user, "accounts.apikey_manage", user.organisation),
        "show_products": can(user, "marketplace.product_manage"),
        # a guarantor's or insurer's requests to decide; an investor's reserve and interests
        "show_guarantees": can(user, "marketplace.guarantee_requests_view")
        and guarantee_provider.test(user),
        "show_reserve": can(user, "marketplace.capital_market_view")
        and reserve_selectors.is_investor(user),
    }
    # 贴息 lines of the institution's loans waiting for its confirmation (issue 14)
    context["subsidy_card"] = policy_cards.lender_card(user=user)
    context["lists_card"] = lists_card(user)  # white/black lists (issue 16)
    # risk compensation (issue 15): claims, the breaker standing, a guarantor's 代偿 to record
    context |= riskfund_cards(user)
    context |= ratings_card(user)  # 融资评价 (issue 16)
    if context["show_guarantees"]:
        context["guarantees"] = _guarantee_queue(user)
    if context["show_reserve"]:
        context["reserve"] = _reserve(user)
    if context["show_queue"]:
        context["queue"] = market_wb.institution_queue(user=user)
        context["book"] = market_wb.loan_book(user=user)
    if context["show_products"]:
        context["products"] = market_wb.product_counts(user=user)
        context["products_published"] = sum(
            n for status, _label, n in context["products"] if status == ProductStatus.PUBLISHED
        )
    if context["show_alerts"]:
        context["alerts"] = credit_wb.alerts_open(user=user)
    if context["show_hall"]:
        context["hall"], context["hall_total"] = market_wb.hall_preview(user=user)
    if context["show_members"]:
        context["members"] = members.organisation_members(user=user)
        monthly = market_wb.institution_monthly(user=user)
        context["monthly"] = monthly
        context["monthly_chart"] = monthly_chart(monthly)
    context["registry"] = registry_figures(user)
    context["grid"] = grid_card(user=user)  # 甘霖工程 (issue 16, grid)
    return context


def _guarantee_queue(user: User, limit: int = 5) -> dict[str, Any]:
    """The guarantee/insurance requests a provider has received: counts by status, the oldest
    pending ones first (they wait longest)."""
    counts = guarantee_selectors.guarantee_status_counts(user=user)
    pending = guarantee_selectors.guarantee_requests_visible(
        user=user, status=GuaranteeRequestStatus.PENDING
    ).order_by("created_at", "id")
    return {
        "pending": counts.get(GuaranteeRequestStatus.PENDING, 0),
        "by_status": [
            (s, str(label), counts.get(s, 0)) for s, label in GuaranteeRequestStatus.choices
        ],
        "rows": list(pending[:limit]),
    }


def _reserve(user: User, limit: int = 5) -> dict[str, Any]:
    """An investor's view of the reserve: how many firms it holds, the newest, and the
    interests the investor has expressed (how many still wait for the firm's answer)."""
    entries = reserve_selectors.reserve_visible(user=user)
    interests = reserve_selectors.investor_interests(user=user)
    return {
        "total": entries.count(),
        "rows": list(entries[:limit]),
        "interests": interests.count(),
        "interests_pending": interests.filter(status=InterestStatus.PENDING).count(),
    }


# ---------------------------------------------------------------- government departments


def government(user: User) -> dict[str, Any]:
    """A department's workbench: deliveries and their errors, cases awaiting it."""
    context: dict[str, Any] = {
        "region_name": _region_name(user),
        "notifications": _notifications(user),
        "deliveries": datahub_wb.deliveries(user=user),
        "conflicts_open": datahub_wb.open_conflicts(user=user),
        "show_cases": can(user, "credit.case_queue"),
        "show_cultivation": can(user, "credit.cultivation_run"),
        "today": timezone.localdate(),
    }
    if context["show_cases"]:
        context["cases"] = credit_wb.cases_in_progress(user=user)
    if context["show_cultivation"]:
        context["cultivation"] = credit_wb.cultivation_counts(user=user)
    # policy support (issue 14): the publisher's and the fund approver's cards
    roles = user.role_codes
    if Role.POLICY_PUBLISHER in roles and can(user, "policies.evidence_view"):
        context["policy"] = policy_wb.publisher_card(user=user)
    if Role.FUND_APPROVER in roles and can(user, "policies.evidence_view"):
        context["funds"] = policy_wb.fund_card(user=user)
    # risk compensation (issue 15): finance's funds and the claim steps it holds
    context |= riskfund_cards(user)
    context["registry"] = registry_figures(user)
    context["grid"] = grid_card(user=user)  # 甘霖工程 (issue 16, grid)
    context["stats_card"] = statistics_card(user)  # statistics (issue 16)
    return context


# ---------------------------------------------------------------- operator and sub-stations


def operator(user: User) -> dict[str, Any]:
    """The operator's (a sub-station's: its region's) figures and what needs action."""
    counts = account_selectors.organisation_counts(user=user)
    attention = market_wb.operator_attention(user=user)
    cases = credit_wb.cases_in_progress(user=user)
    monthly = market_wb.institution_monthly(user=user)
    lending = market_wb.operator_lending(user=user)
    balance = lending.get("balance") or Decimal("0.00")
    assert isinstance(balance, Decimal)
    lending["balance_wan"] = (balance / 10000).quantize(Decimal("0.01"))
    return {
        "region_name": _region_name(user),
        "registry": registry_figures(user),
        "org_counts": {
            "institutions": sum(counts.get(k, 0) for k in INSTITUTION_KINDS),
            "banks": counts.get(OrgKind.BANK, 0),
            "government": counts.get(OrgKind.GOVERNMENT, 0),
            "registered_enterprises": counts.get(OrgKind.ENTERPRISE, 0)
            + counts.get(OrgKind.INDIVIDUAL_BUSINESS, 0),
            "users": counts.get("users", 0),
        },
        "attention": attention,
        "conflicts_open": datahub_wb.open_conflicts(user=user),
        "cases": cases,
        "lending": lending,
        "monthly": monthly,
        "monthly_chart": monthly_chart(monthly),
        "can_review": can(user, "marketplace.product_review"),
        "can_escalated": can(user, "marketplace.demands_escalated_view"),
        "notifications": _notifications(user),
        "today": timezone.localdate(),
        # risk compensation (issue 15): the funds run, the claim steps and recoveries waiting
        **riskfund_cards(user),
        "lists_card": lists_card(user),  # white/black lists (issue 16)
        **ratings_card(user),  # 融资评价 (issue 16): appeals waiting
        "grid": grid_card(user=user),  # 甘霖工程 (issue 16, grid)
        "stats_card": statistics_card(user),  # statistics (issue 16)
        "audit_card": audit_card(user),  # the audit trail (issue 17), for its readers
    }


def audit_card(user: User) -> dict[str, Any] | None:
    """Today's (Beijing) audit entries by kind, for those who may read the audit trail."""
    if not can(user, "audit.view_log"):
        return None
    today = timezone.localdate()
    start = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    return {"today": today, "counts": audit_selectors.audit_day_counts(user=user, since=start)}
