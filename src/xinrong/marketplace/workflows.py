"""The marketplace's workflows, declared once as data on the workflow kernel.

Four stateful objects move here: a product (草稿 → 待审核 → 已上架 → 已下架, with versions reviewed
while the live one stays), a financing demand (征集中 → 已关闭/已撤回, taken and released by
institutions while open), a loan application (from submission to the loan's end; the loan's own
status follows the application's repayment actions) and a capital-market reserve entry. Each
action says from which statuses it leaves, where it goes, who may take it (the permission layer's
predicates from ``accounts.permissions`` and ``marketplace.rules``), which event it writes and
who is told. Services move objects only through :func:`xinrong.workflows.kernel.transition_apply`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import rules
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xinrong.accounts.models import Organisation
from xinrong.accounts.permissions import is_central_operator_admin
from xinrong.common.errors import ApplicationError, ConflictError
from xinrong.marketplace import rules as market_rules
from xinrong.marketplace.choices import (
    ApplicationEventKind,
    ApplicationStatus,
    DemandEventKind,
    DemandStatus,
    EventKind,
    GuaranteeRequestEventKind,
    GuaranteeRequestStatus,
    ProductStatus,
    ReserveEventKind,
    ReserveStatus,
)
from xinrong.marketplace.models import (
    ApplicationEvent,
    Demand,
    DemandEvent,
    GuaranteeRequest,
    GuaranteeRequestEvent,
    LoanApplication,
    Product,
    ProductEvent,
    ReserveCandidate,
    ReserveEvent,
)
from xinrong.marketplace.transitions import (
    demand_held_by_actor,
    demand_not_held_by_other,
    demand_region_covered,
    enterprise_of,
    institution_staff,
    product_staff,
    provider_staff,
)
from xinrong.workflows.kernel import Action, Deadline, Notice, Workflow, register

S = ApplicationStatus
nobody = rules.always_deny  # actions only the platform takes (sweeps), never a person

# ---------------------------------------------------------------- products

P = ProductStatus
LIVE_OR_NOT = (P.DRAFT, P.PUBLISHED, P.WITHDRAWN)  # a product not under review may be edited
PRODUCT_APPROVED = Notice(
    product_staff, gettext_lazy("产品审核通过，已上架：{obj}"), "{note}", kind="product"
)
PRODUCT_RETURNED = Notice(
    product_staff,
    gettext_lazy("产品被退回修改：{obj}"),
    gettext_lazy("退回原因：{note}"),
    kind="product",
)

PRODUCT = register(
    Workflow(
        name="marketplace.product",
        label=gettext_lazy("金融产品"),
        model=Product,
        event_model=ProductEvent,
        event_fk="product",
        statuses=ProductStatus,
        link=lambda p: reverse("marketplace:manage", args=[p.pk]),
        actions=(
            Action(
                "edit",
                LIVE_OR_NOT,
                None,
                market_rules.own_institution_officer,
                gettext_lazy("修改条款"),
                event=EventKind.EDITED,
            ),
            Action(
                "submit",
                (P.DRAFT, P.WITHDRAWN),
                P.IN_REVIEW,
                market_rules.own_institution_officer,
                gettext_lazy("提交审核"),
                event=EventKind.SUBMITTED,
            ),
            # A live product's new version is reviewed while the live version stays on sale.
            Action(
                "submit_version",
                (P.PUBLISHED,),
                None,
                market_rules.own_institution_officer,
                gettext_lazy("提交新版本审核"),
                event=EventKind.SUBMITTED,
            ),
            Action(
                "approve",
                (P.IN_REVIEW,),
                P.PUBLISHED,
                is_central_operator_admin,
                gettext_lazy("审核通过"),
                event=EventKind.APPROVED,
                notices=(PRODUCT_APPROVED,),
            ),
            Action(
                "approve_version",
                (P.PUBLISHED,),
                None,
                is_central_operator_admin,
                gettext_lazy("审核通过新版本"),
                event=EventKind.APPROVED,
                notices=(PRODUCT_APPROVED,),
            ),
            Action(
                "return",
                (P.IN_REVIEW,),
                P.DRAFT,
                is_central_operator_admin,
                gettext_lazy("退回修改"),
                event=EventKind.RETURNED,
                needs_note=True,
                notices=(PRODUCT_RETURNED,),
            ),
            Action(
                "return_version",
                (P.PUBLISHED,),
                None,
                is_central_operator_admin,
                gettext_lazy("退回新版本"),
                event=EventKind.RETURNED,
                needs_note=True,
                notices=(PRODUCT_RETURNED,),
            ),
            Action(
                "withdraw",
                (P.PUBLISHED,),
                P.WITHDRAWN,
                market_rules.own_institution_officer,
                gettext_lazy("下架"),
                event=EventKind.WITHDRAWN,
            ),
        ),
    )
)


# ---------------------------------------------------------------- financing demands


D = DemandStatus
DEMAND_MOVED = gettext_lazy("您的融资需求：{label}")

DEMAND = register(
    Workflow(
        name="marketplace.demand",
        label=gettext_lazy("融资需求"),
        model=Demand,
        event_model=DemandEvent,
        event_fk="demand",
        statuses=DemandStatus,
        link=lambda d: reverse("marketplace:demand", args=[d.pk]),
        refused_code="not_open",
        actions=(
            Action(
                "withdraw",
                (D.OPEN,),
                D.WITHDRAWN,
                market_rules.own_enterprise_user,
                gettext_lazy("撤回需求"),
                event=DemandEventKind.WITHDRAWN,
                notices=(Notice(enterprise_of, DEMAND_MOVED, kind="demand.withdrawn"),),
            ),
            # 抢单: the demand stays open while one institution holds it for the hold period.
            Action(
                "take",
                (D.OPEN,),
                None,
                market_rules.lender & market_rules.institution_staff,
                gettext_lazy("承接（抢单）"),
                event=DemandEventKind.TAKEN,
                guards=(demand_region_covered, demand_not_held_by_other),
                notices=(
                    Notice(
                        enterprise_of,
                        gettext_lazy("{actor_org}承接了您的融资需求"),
                        gettext_lazy(
                            "{note}。该机构将在承接期内与您联系办理，逾期未办理需求将退回需求池。"
                        ),
                        kind="demand.taken",
                    ),
                ),
            ),
            # the holder invites the enterprise to apply for one of its products; the service
            # tells the enterprise with a link to the pre-filled application form
            Action(
                "invite",
                (D.OPEN,),
                None,
                market_rules.lender & market_rules.institution_staff,
                gettext_lazy("邀请申请"),
                event=DemandEventKind.INVITED,
                guards=(demand_held_by_actor,),
            ),
            Action(
                "release",
                (D.OPEN,),
                None,
                market_rules.lender & market_rules.institution_staff,
                gettext_lazy("放弃承接"),
                event=DemandEventKind.RELEASED,
                guards=(demand_held_by_actor,),
                notices=(
                    Notice(
                        enterprise_of,
                        gettext_lazy("{actor_org}放弃承接您的融资需求"),
                        gettext_lazy("需求已退回需求池，其他机构可以承接。{note}"),
                        kind="demand.released",
                    ),
                ),
            ),
            Action(
                "expire",
                (D.OPEN,),
                None,
                nobody,
                gettext_lazy("承接超时退回"),
                event=DemandEventKind.EXPIRED,
                system=True,
                notices=(
                    Notice(
                        enterprise_of,
                        gettext_lazy("融资需求的承接期已过，已退回需求池"),
                        gettext_lazy("{note}；其他机构现在可以承接您的需求。"),
                        kind="demand.expired",
                    ),
                ),
            ),
            # the operators of the region are told in one message per sweep (see the service)
            Action(
                "escalate",
                (D.OPEN,),
                None,
                nobody,
                gettext_lazy("提请运营方跟进"),
                event=DemandEventKind.ESCALATED,
                system=True,
            ),
            # closed by the platform when a loan applied for from the demand is disbursed
            Action(
                "close",
                (D.OPEN,),
                D.CLOSED,
                nobody,
                gettext_lazy("获得放款后关闭"),
                event=DemandEventKind.CLOSED,
                system=True,
                notices=(
                    Notice(
                        enterprise_of,
                        gettext_lazy("您的融资需求已获放款，需求已关闭"),
                        gettext_lazy("{note}"),
                        kind="demand.closed",
                    ),
                ),
            ),
        ),
    )
)


# ---------------------------------------------------------------- loan applications

PENDING = (S.SUBMITTED, S.ACCEPTED, S.UNDER_REVIEW)
LENT = (S.DISBURSED, S.REPAYING, S.OVERDUE, S.DEFAULTED)


def _told(title: Any, body: Any = "") -> Notice:
    """The enterprise's users are told of every move of their application."""
    return Notice(enterprise_of, title, body, kind="loan_application")


# Whom each application action is for, in words (a refusal says "只有…可以…").
_OFFICERS = gettext_lazy("受理机构的客户经理、机构管理员")
APPLICATION_WHO = {
    **dict.fromkeys(
        ("accept", "review", "sign", "disburse", "repay", "settle", "overdue"), _OFFICERS
    ),
    **dict.fromkeys(("approve", "default"), gettext_lazy("受理机构的审批人员、机构管理员")),
    "reject": gettext_lazy("受理机构的客户经理、审批人员、机构管理员"),
    **dict.fromkeys(("withdraw", "refer"), gettext_lazy("申请企业的企业主或经办人")),
}

APPLICATION = register(
    Workflow(
        name="marketplace.application",
        label=gettext_lazy("贷款申请"),
        model=LoanApplication,
        event_model=ApplicationEvent,
        event_fk="application",
        statuses=ApplicationStatus,
        link=lambda a: reverse("marketplace:application_detail", args=[a.pk]),
        # the institution is reminded a day before the product's promised time runs out
        deadlines=(
            Deadline(
                "sla",
                gettext_lazy("服务时限"),
                PENDING,
                "sla_due_at",
                1,
                Notice(
                    institution_staff,
                    gettext_lazy("贷款申请即将超出服务时限：{obj}，截止 {due}"),
                    kind="loan_application",
                ),
            ),
            # the enterprise is reminded of each instalment still unpaid, three days before
            Deadline(
                "repayment",
                gettext_lazy("还款日"),
                (S.DISBURSED, S.REPAYING, S.OVERDUE),
                "loan__instalments__due_on",
                3,
                Notice(
                    enterprise_of,
                    gettext_lazy("还款日临近：{obj}，应于 {due} 还款（还剩 {days} 天）"),
                    gettext_lazy("请按期足额还款，逾期将记入信用档案。"),
                    kind="loan_application",
                ),
                where=Q(loan__instalments__paid_on__isnull=True),
            ),
        ),
        actions=(
            Action(
                "accept",
                (S.SUBMITTED,),
                S.ACCEPTED,
                market_rules.own_institution_officer,
                gettext_lazy("受理"),
                who=APPLICATION_WHO["accept"],
                event=ApplicationEventKind.ACCEPTED,
                notices=(_told(gettext_lazy("{actor_org}已受理您的贷款申请：{obj}"), "{note}"),),
            ),
            Action(
                "review",
                (S.ACCEPTED,),
                S.UNDER_REVIEW,
                market_rules.own_institution_officer,
                gettext_lazy("提交审批"),
                who=APPLICATION_WHO["review"],
                event=ApplicationEventKind.REVIEW_STARTED,
                notices=(_told(gettext_lazy("您的贷款申请已进入审批：{obj}")),),
            ),
            # Credit decisions are the reviewer's (审贷分离): the officer does not approve.
            Action(
                "approve",
                (S.UNDER_REVIEW,),
                S.APPROVED,
                market_rules.own_institution_reviewer,
                gettext_lazy("批准"),
                who=APPLICATION_WHO["approve"],
                event=ApplicationEventKind.APPROVED,
                notices=(_told(gettext_lazy("{actor_org}已批准您的贷款申请：{obj}"), "{note}"),),
            ),
            Action(
                "reject",
                PENDING,
                S.REJECTED,
                market_rules.own_institution_staff,
                gettext_lazy("拒绝"),
                who=APPLICATION_WHO["reject"],
                event=ApplicationEventKind.REJECTED,
                notices=(
                    _told(
                        gettext_lazy("您的贷款申请未获批准：{obj}"),
                        gettext_lazy(
                            "说明：{note}。可在申请详情页选择其他匹配的机构和授权范围，转介申请。"
                        ),
                    ),
                ),
            ),
            Action(
                "sign",
                (S.APPROVED,),
                S.CONTRACT_SIGNED,
                market_rules.own_institution_officer,
                gettext_lazy("登记签约"),
                who=APPLICATION_WHO["sign"],
                event=ApplicationEventKind.CONTRACT_SIGNED,
                notices=(_told(gettext_lazy("贷款合同已签订：{obj}")),),
            ),
            Action(
                "disburse",
                (S.CONTRACT_SIGNED,),
                S.DISBURSED,
                market_rules.own_institution_officer,
                gettext_lazy("登记放款"),
                who=APPLICATION_WHO["disburse"],
                event=ApplicationEventKind.DISBURSED,
                notices=(_told(gettext_lazy("贷款已放款：{obj}"), "{note}"),),
            ),
            # what remains decides the status: repaying, or still overdue / in default
            Action(
                "repay",
                LENT,
                S.REPAYING,
                market_rules.own_institution_officer,
                gettext_lazy("登记还款"),
                who=APPLICATION_WHO["repay"],
                event=ApplicationEventKind.REPAID,
                notices=(_told(gettext_lazy("已登记一笔还款：{obj}")),),
            ),
            # a repayment that pays everything off, or a renewal that replaces the loan
            Action(
                "settle",
                LENT,
                S.SETTLED,
                market_rules.own_institution_officer,
                gettext_lazy("结清"),
                who=APPLICATION_WHO["settle"],
                event=ApplicationEventKind.SETTLED,
                notices=(_told(gettext_lazy("贷款已结清：{obj}"), "{note}"),),
            ),
            Action(
                "overdue",
                (S.DISBURSED, S.REPAYING),
                S.OVERDUE,
                market_rules.own_institution_officer,
                gettext_lazy("标记逾期"),
                who=APPLICATION_WHO["overdue"],
                event=ApplicationEventKind.OVERDUE,
                system=True,
                notices=(_told(gettext_lazy("贷款已逾期，请尽快还款：{obj}"), "{note}"),),
            ),
            Action(
                "default",
                (S.OVERDUE,),
                S.DEFAULTED,
                market_rules.own_institution_reviewer,
                gettext_lazy("认定违约"),
                who=APPLICATION_WHO["default"],
                event=ApplicationEventKind.DEFAULTED,
                notices=(_told(gettext_lazy("贷款已被认定违约：{obj}"), "{note}"),),
            ),
            Action(
                "withdraw",
                PENDING,
                S.WITHDRAWN,
                market_rules.own_enterprise_user,
                gettext_lazy("撤回申请"),
                who=APPLICATION_WHO["withdraw"],
                event=ApplicationEventKind.WITHDRAWN,
                notices=(
                    Notice(
                        institution_staff,
                        gettext_lazy("贷款申请已被企业撤回：{obj}"),
                        "{note}",
                        kind="loan_application",
                    ),
                    _told(gettext_lazy("贷款申请已撤回：{obj}")),
                ),
            ),
            # 拒贷转介: the enterprise passes a rejected application on (the new ones are created)
            Action(
                "refer",
                (S.REJECTED,),
                None,
                market_rules.own_enterprise_user,
                gettext_lazy("拒贷转介"),
                who=APPLICATION_WHO["refer"],
                event=ApplicationEventKind.REFERRED,
            ),
            Action(
                "sla_breach",
                PENDING,
                None,
                nobody,
                gettext_lazy("超出服务时限"),
                event=ApplicationEventKind.SLA_BREACHED,
                system=True,
                notices=(
                    Notice(
                        institution_staff,
                        gettext_lazy("贷款申请办理超时：{obj}"),
                        "{note}",
                        kind="loan_application",
                    ),
                    _told(gettext_lazy("贷款申请办理超时：{obj}"), "{note}"),
                ),
            ),
        ),
    )
)

# Who may take each application action, in words (for refusals; the predicates above decide).
# The actions the lending institution takes (the bank API's ``next_actions``).
LENDER_ACTIONS = frozenset(
    {"accept", "review", "approve", "reject", "sign", "disburse", "repay", "overdue", "default"}
)


# ---------------------------------------------------------------- capital-market reserve

R = ReserveStatus


def _reserve_link(candidate: Any) -> str:
    return reverse("marketplace:capital_market")


def _entry_told(title: Any, body: Any = "{note}") -> Notice:
    return Notice(enterprise_of, title, body, link=_reserve_link, kind="capital_market")


RESERVE_ADDED_TITLE = gettext_lazy("贵企业已纳入上市挂牌后备库")
RESERVE_ADDED_BODY = gettext_lazy(
    "投资机构可在后备库中看到贵企业的公开登记信息并表达投资意向，由贵企业决定是否接受。"
)

RESERVE = register(
    Workflow(
        name="marketplace.reserve",
        label=gettext_lazy("上市挂牌后备库"),
        model=ReserveCandidate,
        event_model=ReserveEvent,
        event_fk="candidate",
        statuses=ReserveStatus,
        link=lambda c: reverse("marketplace:reserve_detail", args=[c.pk]),
        refused_code="not_active",
        actions=(
            # an entry that was removed may be added again (a new entry is created as active)
            Action(
                "add",
                (R.REMOVED,),
                R.ACTIVE,
                is_central_operator_admin,
                gettext_lazy("纳入后备库"),
                event=ReserveEventKind.ADDED,
                notices=(_entry_told(RESERVE_ADDED_TITLE, RESERVE_ADDED_BODY),),
            ),
            Action(
                "list",
                (R.ACTIVE,),
                R.LISTED,
                is_central_operator_admin,
                gettext_lazy("登记上市挂牌"),
                event=ReserveEventKind.LISTED,
                needs_note=True,
                notices=(
                    _entry_told(gettext_lazy("贵企业在上市挂牌后备库中的状态已变更为“已上市挂牌”")),
                ),
            ),
            Action(
                "remove",
                (R.ACTIVE,),
                R.REMOVED,
                is_central_operator_admin,
                gettext_lazy("移出后备库"),
                event=ReserveEventKind.REMOVED,
                needs_note=True,
                notices=(
                    _entry_told(gettext_lazy("贵企业在上市挂牌后备库中的状态已变更为“已移出”")),
                ),
            ),
            Action(
                "interest",
                (R.ACTIVE,),
                None,
                market_rules.investor & market_rules.institution_staff,
                gettext_lazy("表达投资意向"),
                event=ReserveEventKind.INTEREST,
                # the event's note names the investor: "<机构>：<说明>"
                notices=(_entry_told(gettext_lazy("收到投资意向：{note}"), ""),),
            ),
            Action(
                "accept",
                (R.ACTIVE,),
                None,
                market_rules.own_enterprise_user,
                gettext_lazy("接受投资意向"),
                event=ReserveEventKind.ACCEPTED,
            ),
            Action(
                "decline",
                (R.ACTIVE,),
                None,
                market_rules.own_enterprise_user,
                gettext_lazy("婉拒投资意向"),
                event=ReserveEventKind.DECLINED,
            ),
            Action(
                "intro",
                (R.ACTIVE, R.LISTED, R.REMOVED),
                None,
                market_rules.own_enterprise_user,
                gettext_lazy("更新展示信息"),
                event=ReserveEventKind.INTRO,
            ),
        ),
    )
)


# ---------------------------------------------------------------- guarantee / insurance requests

G = GuaranteeRequestStatus
GUARANTEE_WHO = {
    **dict.fromkeys(
        ("approve", "decline", "issue"), gettext_lazy("受理申请的担保、保险机构的业务人员")
    ),
    "withdraw": gettext_lazy("申请企业的企业主或经办人"),
}


def _guarantee_fee_given(request: Any, ctx: Mapping[str, Any]) -> None:
    """Guard: an approval records the fee (rate and amount); the service validates them."""
    data = ctx["data"]
    missing = [f for f in ("fee_rate", "fee_amount") if data.get(f) in (None, "")]
    if missing:
        raise ApplicationError(
            "fee_required",
            _("同意承保须登记费率（%/年）和担保/保险费（元）"),
            {"field": missing[0]},
        )


def _guarantee_letter_given(request: Any, ctx: Mapping[str, Any]) -> None:
    """Guard: issuing records the letter's or policy's number."""
    if not str(ctx["data"].get("letter_no") or "").strip():
        raise ApplicationError("letter_required", _("请填写保函/保单编号"), {"field": "letter_no"})


# An application in one of these statuses ended without a loan: nothing is left to back.
APPLICATION_STOPPED = (ApplicationStatus.REJECTED, ApplicationStatus.WITHDRAWN)


def _application_not_stopped(request: Any, ctx: Mapping[str, Any]) -> None:
    """Guard: a provider neither approves nor issues on an application that was rejected or
    withdrawn (declining it stays possible)."""
    app = LoanApplication.objects.only("status", "number").get(pk=request.application_id)
    if app.status in APPLICATION_STOPPED:
        verb = _("出具保函/保单") if ctx["action"] == "issue" else _("同意承保")
        raise ConflictError(
            "application_stopped",
            _("贷款申请 %(n)s 当前状态为「%(s)s」，不能再%(v)s")
            % {"n": app.number, "s": app.get_status_display(), "v": verb},
            {"field": "application", "status": app.status},
        )


def _guarantee_letter_unique(request: Any, ctx: Mapping[str, Any]) -> None:
    """Guard: a provider's letter (policy) numbers are unique among its guarantees. The
    provider's row is locked first, so two letters issued at once cannot both take a number."""
    letter_no = str(ctx["data"].get("letter_no") or "").strip()
    if not letter_no:
        return
    Organisation.objects.select_for_update().filter(pk=request.provider_id).exists()
    other = (
        GuaranteeRequest.objects.filter(provider_id=request.provider_id, letter_no=letter_no)
        .exclude(pk=request.pk)
        .select_related("application")
        .first()
    )
    if other is not None:
        raise ApplicationError(
            "letter_no_taken",
            _("保函/保单编号「%(no)s」已用于本机构的另一笔担保/保险（贷款申请 %(app)s），请核对")
            % {"no": letter_no, "app": other.application.number},
            {"field": "letter_no"},
            status=422,
        )


def _guarantee_told(recipients: Any, title: Any, body: Any = "{note}") -> Notice:
    return Notice(recipients, title, body, kind="guarantee_request")


GUARANTEE_REQUEST = register(
    Workflow(
        name="marketplace.guarantee_request",
        label=gettext_lazy("担保/保险申请"),
        model=GuaranteeRequest,
        event_model=GuaranteeRequestEvent,
        event_fk="request",
        statuses=GuaranteeRequestStatus,
        link=lambda r: reverse("marketplace:guarantee_detail", args=[r.pk]),
        refused_code="guarantee_not_open",
        actions=(
            Action(
                "approve",
                (G.PENDING,),
                G.APPROVED,
                market_rules.own_provider_staff,
                gettext_lazy("同意承保"),
                who=GUARANTEE_WHO["approve"],
                event=GuaranteeRequestEventKind.APPROVED,
                guards=(_application_not_stopped, _guarantee_fee_given),
                notices=(
                    _guarantee_told(enterprise_of, gettext_lazy("{actor_org}同意为您承保：{obj}")),
                    _guarantee_told(
                        institution_staff, gettext_lazy("贷款申请的担保/保险已获同意：{obj}")
                    ),
                ),
            ),
            Action(
                "decline",
                (G.PENDING,),
                G.DECLINED,
                market_rules.own_provider_staff,
                gettext_lazy("拒绝承保"),
                who=GUARANTEE_WHO["decline"],
                event=GuaranteeRequestEventKind.DECLINED,
                needs_note=True,
                notices=(
                    _guarantee_told(
                        enterprise_of,
                        gettext_lazy("{actor_org}未同意为您承保：{obj}"),
                        gettext_lazy("说明：{note}"),
                    ),
                    _guarantee_told(
                        institution_staff, gettext_lazy("贷款申请的担保/保险未获同意：{obj}")
                    ),
                ),
            ),
            Action(
                "issue",
                (G.APPROVED,),
                G.ISSUED,
                market_rules.own_provider_staff,
                gettext_lazy("出具保函/保单"),
                who=GUARANTEE_WHO["issue"],
                event=GuaranteeRequestEventKind.ISSUED,
                guards=(
                    _application_not_stopped,
                    _guarantee_letter_given,
                    _guarantee_letter_unique,
                ),
                notices=(
                    _guarantee_told(enterprise_of, gettext_lazy("保函/保单已出具：{obj}")),
                    _guarantee_told(
                        institution_staff, gettext_lazy("贷款申请的保函/保单已出具：{obj}")
                    ),
                ),
            ),
            Action(
                "withdraw",
                (G.PENDING, G.APPROVED),
                G.WITHDRAWN,
                market_rules.own_enterprise_user,
                gettext_lazy("撤回担保/保险申请"),
                who=GUARANTEE_WHO["withdraw"],
                event=GuaranteeRequestEventKind.WITHDRAWN,
                notices=(
                    _guarantee_told(
                        provider_staff, gettext_lazy("担保/保险申请已被企业撤回：{obj}")
                    ),
                ),
            ),
        ),
    )
)
