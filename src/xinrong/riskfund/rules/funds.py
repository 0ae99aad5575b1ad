"""Permissions of the risk fund: funds and their ledger.

- ``riskfund.fund_view``: the operator's administrators and auditors whose region covers the
  fund (the central operator: every fund; the 格尔木 sub-station: the 格尔木 fund only), the
  administrators of the fund's own office (受理机构), and the fund approvers of the fund's
  manager (财政). Lending institutions do not see funds: they see a coverage verdict.
- ``riskfund.fund_manage``: an operator administrator sets up a fund in its region.
- ``riskfund.fund_post``: a fund approver of the fund's manager (财政) records injections,
  adjustments and reversals.

The rows a user may see are registered here too (``Fund.objects.restrict(user)``,
``LedgerEntry.objects.restrict(user)``).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.choices import OrgGroup, Role
from xinrong.accounts.permissions import (
    declare,
    has_role,
    in_finance_department,
    in_group,
    in_region,
    is_auditor,
    is_operator_admin,
    object_rule,
    region_prefix_for,
)
from xinrong.common.access import register_scope
from xinrong.riskfund.models import Fund, LedgerEntry

is_fund_approver = in_group(OrgGroup.GOVERNMENT) & has_role(Role.FUND_APPROVER)
# a fund approver of a finance department: the only government users of this app's funds
is_fund_finance = is_fund_approver & in_finance_department


def fund_of(obj: Any) -> Fund:
    """Return the fund an object is about (a fund, a ledger entry)."""
    return obj if isinstance(obj, Fund) else obj.fund


def operator_covers_fund(user: Any, fund: Fund) -> bool:
    """The fund's region lies inside the user's region, or the fund is run by the user's org."""
    if user.organisation_id is not None and fund.office_id == user.organisation_id:
        return True
    return in_region(user, fund.division_code)


@object_rule
def fund_in_region(user: Any, obj: Any) -> bool:
    return operator_covers_fund(user, fund_of(obj))


@object_rule
def manages_fund(user: Any, obj: Any) -> bool:
    return user.organisation_id is not None and fund_of(obj).manager_id == user.organisation_id


may_view_fund = ((is_operator_admin | is_auditor) & fund_in_region) | (
    is_fund_approver & manages_fund
)

declare(
    "riskfund.fund_view",
    may_view_fund,
    label=_("查看风险补偿基金及其资金台账"),
    objects=_("运营方看本辖区的基金（子站只看本区域的基金）；财政部门看本部门管理的基金"),
)
declare(
    "riskfund.fund_manage",
    is_operator_admin & fund_in_region,
    label=_("设立风险补偿基金"),
    objects=_("本辖区内的基金"),
)
declare(
    "riskfund.fund_post",
    is_fund_finance & manages_fund,
    label=_("登记基金注资、调整与冲销"),
    objects=_("本财政部门管理的基金"),
)


def fund_scope_q(user: Any) -> Q | None:
    """The funds a user may see, as a filter on ``Fund`` (None: none)."""
    if is_operator_admin(user) or is_auditor(user):
        prefix = region_prefix_for(user)
        if prefix is None:
            return Q()
        q = Q(division_code__startswith=prefix)
        if user.organisation_id is not None:
            q |= Q(office_id=user.organisation_id)
        return q
    if is_fund_approver(user) and user.organisation_id is not None:
        return Q(manager_id=user.organisation_id)
    return None


@register_scope(Fund)
def _fund_scope(user: Any) -> Q | None:
    return fund_scope_q(user)


@register_scope(LedgerEntry)
def _entry_scope(user: Any) -> Q | None:
    q = fund_scope_q(user)
    if q is None:
        return None
    return Q(fund__in=Fund.objects.filter(q).values("pk"))
