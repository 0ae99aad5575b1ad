"""Who may use the marketplace's pages: products, demands, applications and the columns.

The marketplace part of the permission layer (xinrong.accounts.permissions). Who may take which
action of a product, demand, application or reserve entry is declared in ``marketplace.workflows``
from the predicates here; which rows a user sees is decided by the marketplace selectors from
the same predicates.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.choices import OrgKind, Role
from xinrong.accounts.models import Organisation
from xinrong.accounts.permissions import (
    declare,
    has_role,
    is_central_operator_admin,
    is_central_operator_staff,
    is_enterprise_user,
    is_institution,
    is_operator_staff,
    object_rule,
    org_kind_in,
    predicate,
    region_q,
)
from xinrong.common.access import register_scope
from xinrong.marketplace.choices import (
    GUARANTEE_KINDS,
    GUARANTEE_OPEN_STATUSES,
    LENDER_KINDS,
    PRODUCT_KINDS,
)
from xinrong.marketplace.models import GuaranteeRequest


@predicate
def has_market_entity(user: Any) -> bool:
    """The user's enterprise is in the registry (it can ask for loans)."""
    org = user.organisation
    return org is not None and hasattr(org, "market_entity")


@object_rule
def own_institution(user: Any, obj: Any) -> bool:
    """The institution (or the product's institution) is the user's own."""
    institution_id = obj.pk if isinstance(obj, Organisation) else obj.institution_id
    return user.organisation_id is not None and institution_id == user.organisation_id


@object_rule
def own_entity(user: Any, entity: Any) -> bool:
    """The market entity is the user's own enterprise."""
    return entity.organisation_id is not None and entity.organisation_id == user.organisation_id


@object_rule
def own_enterprise_of(user: Any, obj: Any) -> bool:
    """The object (an application, demand or reserve entry) belongs to the user's enterprise."""
    org_id = obj.entity.organisation_id
    return org_id is not None and org_id == user.organisation_id


@object_rule
def holds_demand(user: Any, demand: Any) -> bool:
    """The user's institution holds the demand now (抢单, within the hold period)."""
    from django.utils import timezone

    return (
        user.organisation_id is not None
        and demand.held_by_id == user.organisation_id
        and demand.held_until is not None
        and demand.held_until > timezone.now()
    )


@object_rule
def authorised_by_demand_entity(user: Any, demand: Any) -> bool:
    """The demand's enterprise has a live authorisation for the user's institution (it agreed
    to be known to it: a consent given when applying, or by hand)."""
    from xinrong.credit.selectors.archive import authorisation_live

    org_id = user.organisation_id
    return (
        org_id is not None
        and authorisation_live(entity=demand.entity, organisation_id=org_id) is not None
    )


enterprise_with_entity = is_enterprise_user & has_market_entity
institution_staff = has_role(Role.INSTITUTION_ADMIN, Role.LOAN_OFFICER)
product_institution = is_institution & org_kind_in(*PRODUCT_KINDS)
lender = is_institution & org_kind_in(*LENDER_KINDS)
investor = is_institution & org_kind_in(OrgKind.INVESTOR)
# Guarantors and insurers: credit enhancement attached to loans (担保、保证保险).
guarantee_provider = is_institution & org_kind_in(*GUARANTEE_KINDS)


@predicate
def has_capital_market_access(user: Any) -> bool:
    """The operator opened the capital-market reserve to the user's institution."""
    org = getattr(user, "organisation", None)
    return org is not None and bool(getattr(org, "capital_market_access", False))


# An institution other than an investor, to which the operator opened the reserve.
reserve_institution = is_institution & lender & has_capital_market_access
# The lending institution's staff: the officer takes the file, the reviewer decides (审贷分离).
loan_officer = has_role(Role.LOAN_OFFICER, Role.INSTITUTION_ADMIN)
loan_reviewer = has_role(Role.REVIEWER, Role.INSTITUTION_ADMIN)
# Products, applications and loans of the user's own institution (the object's ``institution_id``).
own_institution_officer = is_institution & loan_officer & own_institution
own_institution_reviewer = is_institution & loan_reviewer & own_institution
own_institution_staff = is_institution & (loan_officer | loan_reviewer) & own_institution
own_institution_user = is_institution & own_institution
# Applications, demands and reserve entries of the user's own enterprise.
own_enterprise_user = is_enterprise_user & own_enterprise_of

declare(
    "marketplace.product_manage",
    product_institution & institution_staff & own_institution,
    label=_("发布和维护金融产品"),
    objects=_("银行、小贷、担保、保险机构的机构管理员和客户经理：本机构的产品"),
)
declare(
    "marketplace.loan_history_import",
    lender & loan_officer & loan_reviewer,
    label=_("导入本机构的历史贷款"),
    objects=_("银行、小额贷款公司的机构管理员（或机构系统密钥）：本机构的存量贷款"),
)
declare(
    "marketplace.product_review",
    is_central_operator_admin,
    label=_("审核金融产品"),
    objects=_("全省运营管理员"),
)
declare(
    "marketplace.demand_file",
    enterprise_with_entity & own_entity,
    label=_("发布和撤回融资需求"),
    objects=_("企业主、企业经办人：本企业的需求"),
)
declare(
    "marketplace.demand_hall_view",
    product_institution,
    label=_("浏览需求大厅"),
    objects=_("银行、小贷、担保、保险机构：服务区域内公开的需求"),
)
declare(
    "marketplace.demand_take",
    lender & institution_staff,
    label=_("承接（抢单）融资需求"),
    objects=_("银行、小额贷款公司的机构管理员和客户经理"),
)
declare(
    "marketplace.demand_contact_view",
    lender & institution_staff & holds_demand,
    label=_("查看承接需求的企业联系方式"),
    objects=_("承接（抢单）该需求的机构的管理员和客户经理，承接期内；手机号脱敏"),
)
declare(
    "marketplace.demand_contact_full",
    lender & institution_staff & holds_demand & authorised_by_demand_entity,
    label=_("查看承接需求的企业完整手机号"),
    objects=_("承接机构，且企业已授权该机构查询其信息"),
)
declare(
    "marketplace.demands_escalated_view",
    is_operator_staff,
    label=_("查看无人承接的需求"),
    objects=_("运营方：本区划的需求"),
)
declare(
    "marketplace.applications_view",
    enterprise_with_entity | is_institution | is_operator_staff,
    label=_("查看贷款申请"),
    objects=_("企业：本企业的；机构：向本机构提交的；运营方：本区划的"),
)
declare(
    "marketplace.first_loan_view",
    enterprise_with_entity | product_institution | is_operator_staff,
    label=_("使用首贷中心"),
    objects=_("企业；放贷和担保机构：提出首贷需求的企业；运营方：本区划"),
)
declare(
    "marketplace.renewal_view",
    enterprise_with_entity | product_institution,
    label=_("使用续贷中心"),
    objects=_("企业：本企业的贷款；机构：本机构发放的贷款"),
)
declare(
    "marketplace.capital_market_view",
    enterprise_with_entity | investor | reserve_institution | is_operator_staff,
    label=_("使用上市挂牌后备库"),
    objects=_("企业；投资机构及运营方开放后备库的银行、小贷公司：入库企业；运营方：本区划"),
)
declare(
    "marketplace.reserve_interest",
    investor & institution_staff,
    label=_("向后备库企业表达投资意向"),
    objects=_("投资机构的机构管理员和客户经理"),
)
declare(
    "marketplace.reserve_manage",
    is_central_operator_admin,
    label=_("登记入库或移出上市挂牌后备库"),
    objects=_("全省运营管理员"),
)


@object_rule
def lending_institution(user: Any, obj: Any) -> bool:
    """The organisation is a bank or microloan company (the reserve switch applies to them)."""
    return isinstance(obj, Organisation) and obj.kind in LENDER_KINDS


declare(
    "marketplace.capital_market_grant",
    is_central_operator_admin & lending_institution,
    label=_("向银行、小贷公司开放或关闭上市挂牌后备库"),
    objects=_("全省运营管理员：银行、小额贷款公司"),
)


# ---------------------------------------------------------------- guarantee / insurance requests


@object_rule
def own_provider(user: Any, obj: Any) -> bool:
    """The guarantee request is addressed to the user's institution."""
    return user.organisation_id is not None and obj.provider_id == user.organisation_id


@object_rule
def own_application_lender(user: Any, obj: Any) -> bool:
    """The guarantee request backs an application made to the user's institution."""
    return user.organisation_id is not None and obj.institution_id == user.organisation_id


# The provider's people who handle requests (business staff, reviewers, admins).
guarantee_handler = guarantee_provider & has_role(
    Role.INSTITUTION_ADMIN, Role.LOAN_OFFICER, Role.REVIEWER
)
own_provider_staff = guarantee_handler & own_provider

declare(
    "marketplace.guarantee_requests_view",
    enterprise_with_entity | guarantee_provider | lender | is_operator_staff,
    label=_("查看担保/保险申请"),
    objects=_(
        "担保、保险机构：向本机构提出的；企业：本企业的；银行、小贷公司：本机构贷款申请附带的；"
        "运营方：本区划的"
    ),
)
declare(
    "marketplace.guarantee_request_file",
    enterprise_with_entity & own_enterprise_of,
    label=_("为贷款申请申请担保或保险"),
    objects=_("企业主、企业经办人：本企业处于办理中的贷款申请"),
)


@register_scope(GuaranteeRequest)
def _guarantee_request_scope(user: Any) -> Q | None:
    """The provider sees the requests addressed to it; the lender those on its applications;
    the enterprise its own; the operator all (a sub-station its region's)."""
    if is_central_operator_staff(user):
        return Q()
    if is_operator_staff(user):
        return region_q(user, "application__entity__division_code")
    if user.organisation_id is None:
        return None
    if guarantee_provider(user):
        return Q(provider_id=user.organisation_id)
    if is_institution(user):
        return Q(application__institution_id=user.organisation_id)
    if is_enterprise_user(user):
        return Q(application__entity__organisation_id=user.organisation_id)
    return None


def guarantee_backed_q(user: Any) -> Q | None:
    """The loan applications a guarantor or insurer may open because a guarantee request on them
    is addressed to its institution and still open (pending, approved or issued): it judges the
    loan before approving and follows it after issuing. None for anyone else.

    A subquery on the requests (``pk IN (…)``), not a join: an application with several requests
    to the same provider (one declined, a new one filed) is still one row, without ``distinct()``.
    Seeing is all it gives: the application's actions ask the lender-side rules
    (``own_institution``), which a provider never meets.
    """
    if user.organisation_id is None or not guarantee_provider(user):
        return None
    return Q(
        pk__in=GuaranteeRequest.objects.filter(
            provider_id=user.organisation_id, status__in=GUARANTEE_OPEN_STATUSES
        ).values("application_id")
    )
