"""Who may manage organisations, logins, roles and API keys: the accounts permissions."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.choices import API_KEY_KINDS, ORG_GROUP, OrgGroup
from xinrong.accounts.models import ApiKey, Organisation, SecurityEvent, User
from xinrong.accounts.permissions import (
    declare,
    in_region,
    is_active_user,
    is_central_operator_admin,
    is_data_provider,
    is_department,
    is_enterprise_owner,
    is_institution,
    is_institution_admin,
    is_operator_admin,
    is_operator_staff,
    is_superuser,
    object_rule,
    region_q,
)
from xinrong.common.access import register_scope


def _org_of(obj: Any) -> Any:
    """Return the organisation an object belongs to (an organisation is its own)."""
    if isinstance(obj, ApiKey | User):
        return obj.organisation
    return obj


@object_rule
def org_in_region(user: Any, obj: Any) -> bool:
    """The organisation (or the key's organisation) lies in the user's region."""
    return in_region(user, _org_of(obj).region_code)


@object_rule
def own_org(user: Any, obj: Any) -> bool:
    """The organisation (or the key's organisation) is the user's own."""
    return user.organisation_id is not None and _org_of(obj).pk == user.organisation_id


@object_rule
def holds_api_keys(user: Any, obj: Any) -> bool:
    """Institutions and departments hold API keys; enterprises and the operator do not."""
    return _org_of(obj).kind in API_KEY_KINDS


@object_rule
def not_enterprise(user: Any, obj: Any) -> bool:
    """The organisation is not an enterprise (enterprise logins have their own procedure)."""
    return ORG_GROUP[_org_of(obj).kind] != OrgGroup.ENTERPRISE


@object_rule
def is_enterprise_org(user: Any, obj: Any) -> bool:
    """The organisation is an enterprise or an individual business."""
    return ORG_GROUP[_org_of(obj).kind] == OrgGroup.ENTERPRISE


@object_rule
def not_own_org(user: Any, obj: Any) -> bool:
    """The organisation is not the user's own (nobody disables the organisation it acts for)."""
    return bool(_org_of(obj).pk != user.organisation_id)


@object_rule
def manageable_login(user: Any, obj: Any) -> bool:
    """The login belongs to an organisation, and only a superuser manages a superuser."""
    if not isinstance(obj, User):
        return False
    return obj.organisation_id is not None and (not obj.is_superuser or user.is_superuser)


@object_rule
def not_self(user: Any, obj: Any) -> bool:
    """The login is not the user's own (nobody disables itself)."""
    return bool(obj.pk != user.pk)


login_editor = manageable_login & (
    (is_operator_admin & org_in_region) | (is_institution_admin & own_org)
)

key_manager = (is_institution_admin | is_data_provider) & own_org & holds_api_keys

declare(
    "accounts.organisation_view",
    (is_operator_staff & org_in_region) | (is_active_user & own_org),
    label=_("查看机构及其账号"),
    objects=_("运营方：本区划的机构；其他人：本机构"),
)
declare(
    "accounts.organisation_create",
    is_operator_admin & org_in_region,
    label=_("创建金融机构、政府部门和子站"),
    objects=_("子站只能在本区划内创建"),
)
declare(
    "accounts.user_create",
    (is_operator_admin & org_in_region & not_enterprise)
    | (is_institution_admin & own_org)
    | (is_enterprise_owner & own_org),
    label=_("为机构添加账号"),
    objects=_(
        "运营管理员：本区划的非企业机构；机构管理员、企业主：本机构。"
        "企业主账号只能由企业自行注册，或经“代开企业账号”程序开立"
    ),
)
declare(
    "accounts.enterprise_login_issue",
    is_central_operator_admin & is_enterprise_org,
    label=_("代开企业账号（须填写理由并通知企业）"),
    objects=_("全省运营管理员；企业尚无账号时；登记理由、通知企业并留痕"),
)
declare(
    "accounts.apikey_manage",
    (is_operator_admin & org_in_region & holds_api_keys) | key_manager,
    label=_("签发、查看和吊销 API 密钥"),
    objects=_("运营管理员：本区划的机构；机构管理员、数据报送员：本机构"),
)
declare(
    "accounts.api_docs_view",
    is_superuser | is_operator_staff | is_institution | is_department,
    label=_("查看接口文档"),
    objects=_("金融机构、政府部门和运营方（对接其系统）"),
)
declare(
    "accounts.user_unlock",
    is_operator_admin & org_in_region,
    label=_("解除账号的登录锁定"),
    objects=_("运营管理员：本区划机构的账号"),
)
declare(
    "accounts.security_log_view",
    is_operator_staff | is_institution_admin | is_enterprise_owner,
    label=_("查看账号与密钥的操作记录"),
    objects=_("运营管理员与审计员：本区划机构的记录；机构管理员、企业主：本机构账号与密钥的记录"),
)


@register_scope(Organisation)
def _organisation_scope(user: Any) -> Q | None:
    if is_operator_staff(user):
        return region_q(user, "region_code")
    if user.organisation_id is None:
        return None
    return Q(pk=user.organisation_id)


@register_scope(ApiKey)
def _api_key_scope(user: Any) -> Q | None:
    if is_operator_admin(user):
        return region_q(user, "organisation__region_code") & Q(organisation__kind__in=API_KEY_KINDS)
    if key_manager(user):
        return Q(organisation_id=user.organisation_id)
    return None


@register_scope(SecurityEvent)
def _security_event_scope(user: Any) -> Q | None:
    if is_operator_staff(user):
        return region_q(user, "target_organisation__region_code") | region_q(
            user, "actor_organisation__region_code"
        )
    if (is_institution_admin | is_enterprise_owner)(user) and user.organisation_id:
        return Q(target_organisation_id=user.organisation_id)
    return None


declare(
    "accounts.organisation_edit",
    is_operator_admin & org_in_region & not_enterprise,
    label=_("修改机构的名称、联系人和区划"),
    objects=_("运营管理员：本区划的金融机构、政府部门和子站（企业信息来自登记）"),
)
declare(
    "accounts.organisation_disable",
    is_operator_admin & org_in_region & not_own_org,
    label=_("停用或启用机构（须填写理由）"),
    objects=_("运营管理员：本区划的其他机构；停用后其账号不能登录、API 密钥不能使用"),
)
declare(
    "accounts.user_list_view",
    is_operator_staff | is_institution_admin,
    label=_("查看和导出账号名单"),
    objects=_("运营方：本区划机构的账号；机构管理员：本机构的账号"),
)
declare(
    "accounts.user_edit",
    login_editor,
    label=_("修改账号的姓名、电话和角色"),
    objects=_("运营管理员：本区划机构的账号；机构管理员：本机构的账号"),
)
declare(
    "accounts.user_disable",
    login_editor & not_self,
    label=_("停用或启用账号（须填写理由）"),
    objects=_("运营管理员：本区划机构的账号；机构管理员：本机构的账号；不能停用自己"),
)

declare(
    "accounts.second_factor_manage",
    is_active_user,
    label=_("开启、查看和重置自己的两步验证"),
    objects=_("每个账号：自己的验证器和恢复码"),
)
declare(
    "accounts.user_otp_reset",
    is_operator_admin & org_in_region & not_self,
    label=_("重置他人的两步验证（丢失手机时）"),
    objects=_("运营管理员：本区划机构的账号；须由本人重新开启"),
)
