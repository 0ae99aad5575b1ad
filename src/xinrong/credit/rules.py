"""Who may read credit information and act on consent, disputes, repair, cultivation and models.

The credit part of the permission layer (xinrong.accounts.permissions). Reading an enterprise's
non-public data additionally needs its live authorisation and is logged (credit.selectors); the
rules here decide who may ask at all.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.permissions import (
    declare,
    in_region,
    is_central_operator_admin,
    is_data_provider,
    is_department,
    is_enterprise_user,
    is_institution,
    is_operator_admin,
    is_operator_staff,
    object_rule,
    region_q,
)
from xinrong.common.access import register_scope
from xinrong.credit.models import CultivationCase, Dispute, RepairApplication
from xinrong.datahub.models import Source
from xinrong.enterprises.models import MarketEntity


def _entity_of(obj: Any) -> MarketEntity:
    return obj if isinstance(obj, MarketEntity) else obj.entity


def is_entity_member(user: Any, entity: MarketEntity) -> bool:
    """Return True for the enterprise's own owner and agents."""
    return bool(
        is_enterprise_user(user)
        and entity.organisation_id is not None
        and user.organisation_id == entity.organisation_id
    )


def is_source_handler(user: Any, source: Source) -> bool:
    """Return True for the data providers of the department that delivered the information."""
    return bool(
        is_data_provider(user)
        and user.organisation_id is not None
        and user.organisation_id == source.organisation_id
    )


def operator_covers(user: Any, entity: MarketEntity) -> bool:
    """Return True if an operator admin may act for this entity (sub-stations: their region)."""
    return bool(is_operator_admin(user) and in_region(user, entity.division_code))


def can_handle(user: Any, *, source: Source, entity: MarketEntity) -> bool:
    """Return True if the user may answer a dispute or decide a repair about this information."""
    return is_source_handler(user, source) or operator_covers(user, entity)


@object_rule
def own_entity(user: Any, obj: Any) -> bool:
    """The enterprise (of the case) is the user's own."""
    return is_entity_member(user, _entity_of(obj))


@object_rule
def entity_in_region(user: Any, obj: Any) -> bool:
    """The enterprise (of the case) lies in the user's region."""
    return in_region(user, _entity_of(obj).division_code)


@object_rule
def handles_case(user: Any, case: Any) -> bool:
    """The user's department delivered the information, or an operator admin covers the entity."""
    return can_handle(user, source=case.source, entity=case.entity)


@object_rule
def own_cultivation_case(user: Any, case: Any) -> bool:
    """The case is run by the user's department."""
    return user.organisation_id is not None and case.authority_id == user.organisation_id


declare(
    "credit.consent_manage",
    is_enterprise_user & own_entity,
    label=_("授权或撤销机构查询本企业信息"),
    objects=_("企业主、企业经办人：本企业"),
)
declare(
    "credit.query_log_view",
    is_enterprise_user & own_entity,
    label=_("查看谁查询了本企业的信息"),
    objects=_("企业主、企业经办人：本企业"),
)
declare(
    "credit.case_file",
    is_enterprise_user & own_entity,
    label=_("提出异议或申请信用修复"),
    objects=_("企业主、企业经办人：本企业的信息"),
)
declare(
    "credit.case_view",
    (is_enterprise_user & own_entity)
    | (is_data_provider & handles_case)
    | (is_operator_staff & entity_in_region),
    label=_("查看异议与信用修复"),
    objects=_("本企业；报送该信息的部门；运营方：本区划的主体"),
)
declare(
    "credit.case_queue",
    is_data_provider | is_operator_staff,
    label=_("查看异议与修复的办理队列"),
    objects=_("数据报送员：本部门报送的信息；运营方：本区划的主体"),
)
declare(
    "credit.case_handle",
    (is_data_provider | is_operator_admin) & handles_case,
    label=_("答复异议、审核信用修复"),
    objects=_("报送该信息部门的数据报送员；运营管理员：本区划的主体"),
)
declare(
    "credit.report_generate",
    (is_enterprise_user & own_entity) | is_institution,
    label=_("生成信用报告"),
    objects=_("本企业；金融机构须持有企业有效的非公开信息授权"),
)
declare(
    "credit.alerts_view",
    is_institution,
    label=_("查看风险预警"),
    objects=_("金融机构：持有授权或贷款在身的企业"),
)


@object_rule
def alert_of_own_institution(user: Any, alert: Any) -> bool:
    """The alert was sent to the user's institution."""
    return user.organisation_id is not None and alert.institution_id == user.organisation_id


declare(
    "credit.alert_handle",
    is_institution & alert_of_own_institution,
    label=_("处理风险预警"),
    objects=_("金融机构：本机构收到的预警"),
)
declare(
    "credit.warning_rules_view",
    is_operator_staff,
    label=_("查看预警规则"),
    objects=_("运营方"),
)
declare(
    "credit.warning_rules_change",
    is_central_operator_admin,
    label=_("修改预警规则"),
    objects=_("全省运营管理员（子站不能）"),
)
declare(
    "credit.model_view",
    is_operator_staff,
    label=_("查看评分模型"),
    objects=_("运营方"),
)
declare(
    "credit.model_manage",
    is_central_operator_admin,
    label=_("训练和启用评分模型"),
    objects=_("全省运营管理员（子站、审计员不能）"),
)
declare(
    "credit.cultivation_run",
    is_department,
    label=_("开展信用培植"),
    objects=_("行业主管部门：本区划、本行业门类的企业"),
)
declare(
    "credit.cultivation_view",
    (is_department & own_cultivation_case) | (is_operator_staff & entity_in_region),
    label=_("查看信用培植记录"),
    objects=_("本部门办理的培植；运营方：本区划主体的培植"),
)


@register_scope(Dispute)
@register_scope(RepairApplication)
def _case_scope(user: Any) -> Q | None:
    if user.is_superuser:
        return Q()
    if is_enterprise_user(user):
        return Q(entity__organisation_id=user.organisation_id)
    if is_operator_staff(user):
        return region_q(user, "entity__division_code")
    if is_data_provider(user) and user.organisation_id is not None:
        return Q(source__organisation_id=user.organisation_id)
    return None


@register_scope(CultivationCase)
def _cultivation_scope(user: Any) -> Q | None:
    if is_operator_staff(user):
        return region_q(user, "entity__division_code")
    if is_department(user) and user.organisation_id is not None:
        return Q(authority_id=user.organisation_id)
    return None
