"""Permissions of the risk fund: the sufficiency simulator (资金充足性测算).

The platform office (an operator admin of the fund's office organisation, or one whose region
holds the fund: the platform operator every fund, the Golmud sub-station the Golmud fund) and
the fund approvers of the fund's managing finance department run simulations and read them; the
auditor reads them in its region. Lending institutions, guarantors and enterprises do not.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.choices import OrgGroup, Role
from xinrong.accounts.permissions import (
    declare,
    has_role,
    in_group,
    in_region,
    is_auditor,
    is_operator_admin,
    object_rule,
    region_prefix_for,
)
from xinrong.common.access import register_scope
from xinrong.riskfund.models import Simulation

is_fund_approver = in_group(OrgGroup.GOVERNMENT) & has_role(Role.FUND_APPROVER)


def fund_of(obj: Any) -> Any:
    """The fund an object is about (a fund, or a simulation of it)."""
    return obj.fund if isinstance(obj, Simulation) else obj


def office_covers(user: Any, fund: Any) -> bool:
    """The user's organisation runs the fund, or the fund lies in the user's region."""
    return bool(
        (user.organisation_id is not None and fund.office_id == user.organisation_id)
        or in_region(user, fund.division_code)
    )


@object_rule
def office_of_fund(user: Any, obj: Any) -> bool:
    return office_covers(user, fund_of(obj))


@object_rule
def manager_of_fund(user: Any, obj: Any) -> bool:
    org = user.organisation_id
    return org is not None and fund_of(obj).manager_id == org


@object_rule
def auditor_region(user: Any, obj: Any) -> bool:
    return in_region(user, fund_of(obj).division_code)


may_simulate = (is_operator_admin & office_of_fund) | (is_fund_approver & manager_of_fund)

declare(
    "riskfund.simulate",
    may_simulate,
    label=_("进行风险补偿基金资金充足性测算"),
    objects=_("平台运营方：本机构受理或本辖区的基金；财政部门基金审批人：本部门管理的基金"),
)
declare(
    "riskfund.simulation_view",
    may_simulate | (is_auditor & auditor_region),
    label=_("查看资金充足性测算结果"),
    objects=_("可测算的基金的测算；审计人员：本辖区基金的测算"),
)


def fund_scope_q(user: Any, prefix: str = "") -> Q | None:
    """The funds (``prefix`` = the path to the fund) a user may simulate or read, as a filter."""
    from xinrong.accounts.permissions import is_superuser

    if is_superuser(user):
        return Q()
    org = user.organisation_id
    region = region_prefix_for(user)
    in_reg = Q() if region is None else Q(**{f"{prefix}division_code__startswith": region})
    if is_operator_admin(user):
        return in_reg | Q(**{f"{prefix}office_id": org})
    if is_fund_approver(user) and org is not None:
        return Q(**{f"{prefix}manager_id": org})
    if is_auditor(user):
        return in_reg
    return None


@register_scope(Simulation)
def _simulation_scope(user: Any) -> Q | None:
    """Simulations of the funds the user may simulate (or, an auditor, read)."""
    return fund_scope_q(user, "fund__")
