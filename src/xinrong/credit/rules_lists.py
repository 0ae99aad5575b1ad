"""Who may see and act on the white and black lists, fraud reports, consent and prospects."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.permissions import (
    declare,
    in_region,
    is_central_operator_admin,
    is_enterprise_user,
    is_institution,
    is_operator_admin,
    is_operator_staff,
    object_rule,
    region_q,
)
from xinrong.common.access import register_scope
from xinrong.credit.models import BlacklistEntry, FraudReport, WhitelistEntry
from xinrong.credit.rules import own_entity


@object_rule
def own_report(user: Any, report: Any) -> bool:
    """The fraud report was filed by the user's institution."""
    return user.organisation_id is not None and report.institution_id == user.organisation_id


@object_rule
def report_in_region(user: Any, report: Any) -> bool:
    """The reported entity lies in the user's region."""
    return in_region(user, report.entity.division_code)


declare(
    "credit.lists_view",
    is_operator_staff,
    label=_("查看红黑名单及其历史"),
    objects=_("运营方：本区划的主体"),
)
declare(
    "credit.lists_sweep",
    is_operator_admin,
    label=_("立即重算红黑名单"),
    objects=_("运营管理员"),
)
declare(
    "credit.whitelist_criteria_change",
    is_central_operator_admin,
    label=_("设置白名单条件"),
    objects=_("全省运营管理员（子站不能）"),
)
declare(
    "credit.list_status_view",
    is_enterprise_user & own_entity,
    label=_("查看本企业的红黑名单状态"),
    objects=_("企业主、企业经办人：本企业"),
)
declare(
    "credit.recommend_consent",
    is_enterprise_user & own_entity,
    label=_("同意或撤回推荐给金融机构"),
    objects=_("企业主、企业经办人：本企业"),
)
declare(
    "credit.prospects_view",
    is_institution,
    label=_("查看白名单推荐客户"),
    objects=_("金融机构：同意推荐的白名单企业（名称和等级）"),
)
declare(
    "credit.fraud_report",
    is_institution,
    label=_("举报企业欺诈"),
    objects=_("金融机构的业务人员"),
)
declare(
    "credit.fraud_view",
    (is_institution & own_report) | (is_operator_staff & report_in_region),
    label=_("查看欺诈举报"),
    objects=_("举报机构：本机构的举报；运营方：本区划主体的举报"),
)


@register_scope(BlacklistEntry)
@register_scope(WhitelistEntry)
def _list_scope(user: Any) -> Q | None:
    if is_operator_staff(user):
        return region_q(user, "entity__division_code")
    if is_institution(user):
        # prospects: the institution's region (province-wide institutions: everything)
        return region_q(user, "entity__division_code")
    return None


@register_scope(FraudReport)
def _fraud_scope(user: Any) -> Q | None:
    if is_operator_staff(user):
        return region_q(user, "entity__division_code")
    if is_institution(user) and user.organisation_id is not None:
        return Q(institution_id=user.organisation_id)
    return None
