"""Workflows of the policy module: funds — special-fund applications and 免申即享 lists.

A special-fund application stays 审批中 while its case moves through the active version of the
``policies.special_fund_approval`` BPMN process (受理部门 → 财政部门); each completed step is a
kernel action, so the application's timeline and the enterprise's notices follow the process:

- ``review``: a step agreed and the case moves on;
- ``approve``: the process ended approved (the grant is committed against the budget);
- ``reject``: a step refused and the process ended;
- ``disburse``: finance recorded the payment (with its voucher number);
- ``withdraw``: the enterprise withdrew before a decision.

A 免申即享 list is drawn as 待确认, then confirmed (grants committed for every entity not
excluded) or discarded by the measure's department.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.choices import Role
from xinrong.accounts.models import User
from xinrong.accounts.permissions import FINANCE_MARK, can, is_operator_admin
from xinrong.credit.recipients import entity_users
from xinrong.marketplace.transitions import staff_of
from xinrong.policies.choices import AutoListStatus, FundApplicationStatus
from xinrong.policies.models import AutoGrantList, AutoListEvent, FundApplication, FundEvent
from xinrong.policies.rules.funds import (
    is_entity_member,
    is_finance,
    is_fund_approver,
    is_publisher,
    operator_covers,
    own_department,
)
from xinrong.workflows import engine
from xinrong.workflows.kernel import Action, Notice, Workflow, register

PROCESS_KEY = "policies.special_fund_approval"
S = FundApplicationStatus
L = AutoListStatus


# the default process's finance lane: only finance (财政) takes its step, whatever the role map
FINANCE_LANE = "Lane_finance"


def fund_may(user: Any, application: FundApplication, task: Any = None) -> bool:
    """The object check under the lane mapping: a publisher only for the measure's department;
    finance across departments; a department's own fund approver its department's cases but
    never the finance step; an operator admin within its region."""
    if is_publisher(user):
        return own_department(user, application)
    if is_finance(user):
        return True
    if is_fund_approver(user):
        if task is not None and getattr(task, "lane_id", "") == FINANCE_LANE:
            return False
        return own_department(user, application)
    if is_operator_admin(user):
        return operator_covers(user, application)
    return True


# the events a completed approval step writes (review, approve or reject)
STEP_EVENTS = ("reviewed", "approved", "rejected")


def takes_part(user: Any, application: FundApplication | None) -> bool:
    """The user completes a step of this application's approval process (or just did)."""
    if application is None:
        return bool(is_publisher(user) or is_fund_approver(user) or is_operator_admin(user))
    return engine.takes_part(
        user,
        engine.instance_for(application),
        # one decision event per completed step: once it is written, the right ends with it
        steps_applied=FundEvent.objects.filter(
            application=application, kind__in=STEP_EVENTS
        ).count(),
        may_at=steps_of(application),
    )


def holds_step(user: Any, application: FundApplication, instance: Any = None) -> bool:
    """The user may complete one of the application's open approval steps."""
    return engine.holds_step(
        user, instance or engine.instance_for(application), steps_of(application)
    )


def steps_of(application: FundApplication) -> Callable[[Any], Callable[[Any], bool]]:
    """The object check of each open step (finance's step is finance's alone)."""
    return lambda task: lambda user: fund_may(user, application, task)


def _may_withdraw(user: Any, application: FundApplication | None) -> bool:
    return application is None or is_entity_member(user, application.entity)


def _may_disburse(user: Any, application: FundApplication | None) -> bool:
    return bool(is_finance(user))


def _link(application: FundApplication) -> str:
    return reverse("policies:fund_detail", args=[application.pk])


def department_users(measure: Any) -> list[User]:
    """The policy publishers of the measure's department."""
    return staff_of(measure.document.department_id, (Role.POLICY_PUBLISHER,))


def finance_users() -> list[User]:
    """The fund approvers (finance) of the platform's government side."""
    return list(
        User.objects.filter(
            is_active=True,
            api_key__isnull=True,
            roles__role=Role.FUND_APPROVER,
            organisation__kind="government",
            organisation__name__contains=FINANCE_MARK,
        ).distinct()
    )


def _enterprise(application: FundApplication) -> list[User]:
    return entity_users(entity=application.entity)


def _department(application: FundApplication) -> list[User]:
    return department_users(application.measure)


FUND = register(
    Workflow(
        name="policies.fund",
        label=_("专项资金申请"),
        model=FundApplication,
        event_model=FundEvent,
        event_fk="application",
        statuses=FundApplicationStatus,
        link=_link,
        actions=(
            Action(
                "review",
                (S.SUBMITTED, S.IN_REVIEW),
                S.IN_REVIEW,
                takes_part,
                _("审核同意"),
                event="reviewed",
                who=_("本环节的审批人"),
                notices=(
                    Notice(
                        _enterprise,
                        _("专项资金申请已通过「{step_name}」，进入下一环节"),
                        "{note}",
                        kind="policies.fund_reviewed",
                    ),
                ),
            ),
            Action(
                "approve",
                (S.SUBMITTED, S.IN_REVIEW),
                S.APPROVED,
                takes_part,
                _("审批通过"),
                event="approved",
                who=_("本环节的审批人"),
                notices=(
                    Notice(
                        _enterprise,
                        _("专项资金申请已批准：核定金额 {approved} 元，等待拨付"),
                        "{note}",
                        kind="policies.fund_approved",
                    ),
                    Notice(
                        _department,
                        _("专项资金申请已批准：{obj}"),
                        "{note}",
                        kind="policies.fund_approved",
                    ),
                ),
            ),
            Action(
                "reject",
                (S.SUBMITTED, S.IN_REVIEW),
                S.REJECTED,
                takes_part,
                _("审批不通过"),
                event="rejected",
                needs_note=True,
                who=_("本环节的审批人"),
                notices=(
                    Notice(
                        _enterprise,
                        _("专项资金申请未通过（{step_name}）"),
                        "{note}",
                        kind="policies.fund_rejected",
                    ),
                ),
            ),
            Action(
                "disburse",
                (S.APPROVED,),
                S.DISBURSED,
                _may_disburse,
                _("登记拨付"),
                event="disbursed",
                who=_("财政部门的资金审批人"),
                notices=(
                    Notice(
                        _enterprise,
                        _("专项资金已拨付：{amount} 元（凭证号 {voucher_no}）"),
                        "{note}",
                        kind="policies.fund_disbursed",
                    ),
                    Notice(
                        _department,
                        _("专项资金已拨付：{obj}"),
                        "{note}",
                        kind="policies.fund_disbursed",
                    ),
                ),
            ),
            Action(
                "withdraw",
                (S.SUBMITTED, S.IN_REVIEW),
                S.WITHDRAWN,
                _may_withdraw,
                _("撤回申请"),
                event="withdrawn",
                who=_("申请企业"),
                notices=(
                    Notice(
                        _department,
                        _("企业撤回了专项资金申请：{obj}"),
                        "{note}",
                        kind="policies.fund_withdrawn",
                    ),
                ),
            ),
        ),
    )
)


def _may_manage_list(user: Any, auto_list: AutoGrantList | None) -> bool:
    return can(user, "policies.auto_manage", auto_list)


def _list_link(auto_list: AutoGrantList) -> str:
    return reverse("policies:auto_list", args=[auto_list.measure_id])


def _list_finance(auto_list: AutoGrantList) -> list[User]:
    return finance_users()


AUTO_LIST = register(
    Workflow(
        name="policies.auto_list",
        label=_("免申即享名单"),
        model=AutoGrantList,
        event_model=AutoListEvent,
        event_fk="auto_list",
        statuses=AutoListStatus,
        link=_list_link,
        actions=(
            Action(
                "exclude",
                (L.DRAFT,),
                None,
                _may_manage_list,
                _("排除企业"),
                event="excluded",
                needs_note=True,
                who=_("措施所属部门的政策发布员或辖区内的运营管理员"),
            ),
            Action(
                "include",
                (L.DRAFT,),
                None,
                _may_manage_list,
                _("恢复企业"),
                event="included",
                who=_("措施所属部门的政策发布员或辖区内的运营管理员"),
            ),
            Action(
                "confirm",
                (L.DRAFT,),
                L.CONFIRMED,
                _may_manage_list,
                _("确认名单并兑现"),
                event="confirmed",
                who=_("措施所属部门的政策发布员或辖区内的运营管理员"),
                notices=(
                    Notice(
                        _list_finance,
                        _("免申即享名单已确认，待拨付：{obj}"),
                        _("共 {count} 户，合计 {total} 元"),
                        kind="policies.auto_confirmed",
                    ),
                ),
            ),
            Action(
                "discard",
                (L.DRAFT,),
                L.DISCARDED,
                _may_manage_list,
                _("作废名单"),
                event="discarded",
                needs_note=True,
                who=_("措施所属部门的政策发布员或辖区内的运营管理员"),
            ),
        ),
    )
)
