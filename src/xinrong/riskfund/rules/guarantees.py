"""Permissions of the risk fund: guarantors' and insurers' 代偿/理赔 and their own recoveries.

A guarantor or insurer records its 代偿 on a defaulted loan it backed (an issued guarantee request
addressed to it), reverses a wrong one, and records what it recovers afterwards. The lender sees
the 代偿 on its own loans (its claim's base is computed after it); the operator sees its region's,
the auditor reads everything; enterprises see nothing here.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.choices import Role
from xinrong.accounts.permissions import (
    declare,
    has_role,
    in_region,
    is_central_operator_staff,
    is_institution,
    is_operator_staff,
    object_rule,
    region_q,
)
from xinrong.common.access import register_scope
from xinrong.marketplace.rules import guarantee_provider, lender
from xinrong.riskfund.models import GuarantorPayout


def _provider_id(obj: Any) -> int | None:
    """The guarantor/insurer of a guarantee request, a 代偿 or a 代偿's recovery."""
    provider_id: int | None = getattr(obj, "provider_id", None)
    if provider_id is None and getattr(obj, "payout", None) is not None:
        provider_id = obj.payout.provider_id
    return provider_id


def _division_of(obj: Any) -> str:
    loan = getattr(obj, "loan", None) or getattr(getattr(obj, "payout", None), "loan", None)
    if loan is not None:
        return str(loan.entity.division_code or "")
    app = getattr(obj, "application", None)
    return str(app.entity.division_code or "") if app is not None else ""


def _institution_id(obj: Any) -> int | None:
    loan = getattr(obj, "loan", None) or getattr(getattr(obj, "payout", None), "loan", None)
    source = loan if loan is not None else getattr(obj, "application", None)
    institution_id: int | None = getattr(source, "institution_id", None)
    return institution_id


@object_rule
def own_backing(user: Any, obj: Any) -> bool:
    """The guarantee (or its 代偿) is the user's own institution's."""
    return user.organisation_id is not None and _provider_id(obj) == user.organisation_id


@object_rule
def own_lending(user: Any, obj: Any) -> bool:
    """The 代偿 is on a loan made by the user's institution."""
    return user.organisation_id is not None and _institution_id(obj) == user.organisation_id


@object_rule
def in_operator_region(user: Any, obj: Any) -> bool:
    return in_region(user, _division_of(obj))


# The provider's business people who record money movements (reviewers only read).
payout_handler = guarantee_provider & has_role(Role.INSTITUTION_ADMIN, Role.LOAN_OFFICER)
lender_user = is_institution & lender

declare(
    "riskfund.payouts_view",
    (guarantee_provider & own_backing)
    | (lender_user & own_lending)
    | (is_operator_staff & in_operator_region),
    label=_("查看担保代偿"),
    objects=_(
        "担保、保险机构：本机构承保的贷款；银行、小贷公司：本机构放出的贷款；运营方、审计：本区划的"
    ),
)
declare(
    "riskfund.payout_record",
    payout_handler & own_backing,
    label=_("登记担保代偿"),
    objects=_("担保、保险机构的业务人员：本机构已出具保函/保单、且贷款已逾期或违约的"),
)
# Reversing a 代偿 and recording the guarantor's recoveries are the kernel's actions of the
# ``riskfund.payout`` workflow (``riskfund.payout.reverse``, ``riskfund.payout.recover``), declared
# when it registers from ``payout_handler & own_backing`` (riskfund/workflows/guarantees.py).


@register_scope(GuarantorPayout)
def _payout_scope(user: Any) -> Q | None:
    """The provider sees its own 代偿; the lender those on its loans; the operator its region's
    (the central operator and auditors all)."""
    if is_central_operator_staff(user):
        return Q()
    if is_operator_staff(user):
        return region_q(user, "loan__entity__division_code")
    if user.organisation_id is None:
        return None
    if guarantee_provider(user):
        return Q(provider_id=user.organisation_id)
    if is_institution(user) and lender(user):
        return Q(loan__institution_id=user.organisation_id)
    return None
