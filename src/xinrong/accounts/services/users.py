"""Writes of users: create, issue an enterprise login, set roles, change a password."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from xinrong.accounts import permissions
from xinrong.accounts.choices import ORG_GROUP, ROLES_BY_GROUP, OrgGroup, Role
from xinrong.accounts.models import Organisation, SecurityAction, User, UserRole
from xinrong.accounts.services.security import security_event_record
from xinrong.common.errors import ApplicationError, ConflictError, PermissionDeniedError


def _validation_to_error(exc: ValidationError, field: str) -> ApplicationError:
    messages = "；".join(str(m) for m in exc.messages)
    return ApplicationError("invalid_" + field, messages, {"field": field})


def _check_roles(organisation: Organisation | None, roles: list[str]) -> None:
    if organisation is None:
        if roles:
            raise ApplicationError(
                "roles_without_org", _("未归属机构的用户不能分配角色"), {"field": "roles"}
            )
        return
    allowed = ROLES_BY_GROUP[ORG_GROUP[organisation.kind]]
    for role in roles:
        if role not in allowed:
            raise ApplicationError(
                "role_not_allowed",
                _("角色“%(role)s”不适用于%(kind)s类机构")
                % {
                    "role": Role(role).label if role in Role.values else role,
                    "kind": organisation.get_kind_display(),
                },
                {"field": "roles"},
            )


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str = "",
    organisation: Organisation | None,
    roles: list[str],
    display_name: str = "",
    phone: str = "",
    email: str = "",
    is_staff: bool = False,
    is_superuser: bool = False,
    password_hash: str = "",
    actor: User | None = None,
    source_ip: str = "",
    user_agent: str = "",
) -> User:
    """Create a user in an organisation with roles valid for that organisation's kind.

    ``actor`` is the person adding the login (checked by the permission layer and recorded);
    None only for an enterprise's own registration, the demo seeder and the command line.
    An enterprise's logins are the enterprise's: only its own owner adds them (agents only);
    an operator opens an owner login through :func:`enterprise_login_issue`, never here.

    ``password`` is checked against the password rules and hashed; the demo seeder passes
    ``password_hash`` instead, one hash computed once for all its accounts.
    """
    if actor is not None and organisation is not None:
        _check_actor_may_add(actor, organisation, roles)
    return _user_insert(
        username=username,
        password=password,
        organisation=organisation,
        roles=roles,
        display_name=display_name,
        phone=phone,
        email=email,
        is_staff=is_staff,
        is_superuser=is_superuser,
        password_hash=password_hash,
        actor=actor,
        action=SecurityAction.USER_CREATE,
        details={},
        source_ip=source_ip,
        user_agent=user_agent,
    )


def _check_actor_may_add(actor: User, organisation: Organisation, roles: list[str]) -> None:
    """Refuse a login the actor may not open (or roles it may not give) in this organisation."""
    if ORG_GROUP[organisation.kind] == OrgGroup.ENTERPRISE:
        own_owner = organisation.pk == actor.organisation_id and permissions.is_enterprise_owner(
            actor
        )
        if not own_owner:
            raise PermissionDeniedError(
                "enterprise_login_procedure",
                _(
                    "企业的账号属于企业本身：只能由企业自行注册，或由企业主添加经办人；"
                    "运营方确需代开时，请使用“代开企业账号”程序（须登记理由并通知企业）"
                ),
                {"field": "roles"},
            )
        if set(roles) - {Role.ENTERPRISE_AGENT}:
            raise ApplicationError(
                "enterprise_owner_not_added",
                _("企业主只能添加“企业经办人”账号；企业主账号只能由企业注册时开立"),
                {"field": "roles"},
                status=403,
            )
    permissions.require(
        actor, "accounts.user_create", organisation, message=_("您无权为该机构添加用户")
    )


def _user_insert(
    *,
    username: str,
    password: str,
    organisation: Organisation | None,
    roles: list[str],
    display_name: str,
    phone: str,
    email: str,
    is_staff: bool,
    is_superuser: bool,
    password_hash: str,
    actor: User | None,
    action: str,
    details: dict[str, Any],
    source_ip: str,
    user_agent: str,
) -> User:
    username = username.strip()
    if not username:
        raise ApplicationError("invalid_username", _("用户名不能为空"), {"field": "username"})
    if User.objects.filter(username__iexact=username).exists():
        raise ApplicationError(
            "duplicate_username",
            _("用户名“%(name)s”已被使用") % {"name": username},
            {"field": "username"},
            status=409,
        )
    _check_roles(organisation, roles)
    user = User(
        username=username,
        organisation=organisation,
        display_name=display_name,
        phone=phone,
        email=email,
        is_staff=is_staff,
        is_superuser=is_superuser,
    )
    if password_hash:
        user.password = password_hash
    else:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise _validation_to_error(exc, "password") from exc
        user.set_password(password)
    user.save()
    UserRole.objects.bulk_create([UserRole(user=user, role=r) for r in sorted(set(roles))])
    if not password_hash:  # the demo seeder's bulk accounts are not events of anyone
        security_event_record(
            action=action,
            actor=actor,
            target_user=user,
            details={"roles": sorted(set(roles)), **details},
            source_ip=source_ip,
            user_agent=user_agent,
        )
    return user


ISSUE_REASON_MIN = 15


@transaction.atomic
def enterprise_login_issue(
    *,
    organisation: Organisation,
    username: str,
    display_name: str,
    phone: str,
    contact: str,
    reason: str,
    actor: User,
    source_ip: str = "",
    user_agent: str = "",
) -> tuple[User, str]:
    """Open an enterprise's owner login for it (operator procedure); return it and its password.

    Only where the enterprise cannot register itself, and only while it has no owner login: the
    operator states a reason and the contact who asked, the login gets a random one-time
    password (shown once, to be handed to that contact) that must be replaced at first login,
    and the event is recorded. Telling the enterprise is the caller's part
    (``enterprises.services.entity_login_issue``: notifications sit beside accounts, not below).
    The login is the enterprise's own: it reads the enterprise's archive as the enterprise,
    under the same consent and query-log rules as a self-registered login.
    """
    permissions.require(
        actor,
        "accounts.enterprise_login_issue",
        organisation,
        message=_("只有全省运营管理员可以代开企业账号"),
    )
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    reason, contact = reason.strip(), contact.strip()
    if len(reason) < ISSUE_REASON_MIN:
        raise ApplicationError(
            "reason_too_short",
            _("请写明代开理由（至少 %(n)s 个字）：谁提出、为何企业不能自行注册、核验了哪些材料")
            % {"n": ISSUE_REASON_MIN},
            {"field": "reason"},
        )
    if len(contact) < 2:
        raise ApplicationError(
            "contact_required", _("请填写提出申请的企业联系人及联系方式"), {"field": "contact"}
        )
    existing = list(organisation.users.filter(is_active=True))
    if any(Role.ENTERPRISE_OWNER in u.role_codes for u in existing):
        raise ConflictError(
            "enterprise_has_owner",
            _("该企业已有企业主账号，不能代开；请由企业主为经办人添加账号"),
            {"field": "username"},
        )
    password = _one_time_password()
    user = _user_insert(
        username=username,
        password=password,
        organisation=organisation,
        roles=[Role.ENTERPRISE_OWNER],
        display_name=display_name,
        phone=phone,
        email="",
        is_staff=False,
        is_superuser=False,
        password_hash="",
        actor=actor,
        action=SecurityAction.ENTERPRISE_LOGIN_ISSUE,
        details={"reason": reason[:1000], "contact": contact[:200]},
        source_ip=source_ip,
        user_agent=user_agent,
    )
    # the operator saw the one-time password: the enterprise must replace it before anything else
    User.objects.filter(pk=user.pk).update(must_change_password=True)
    user.must_change_password = True
    return user, password


def _one_time_password() -> str:
    """Return a random password that passes the password rules."""
    while True:
        candidate = "-".join(secrets.token_urlsafe(5) for _i in range(3))
        try:
            validate_password(candidate)
        except ValidationError:
            continue
        return candidate


@transaction.atomic
def user_roles_set(
    *, user: User, roles: list[str], actor: User, source_ip: str = "", user_agent: str = ""
) -> User:
    """Replace a user's roles (checked like adding a login to its organisation) and record it."""
    organisation = user.organisation
    if organisation is None:
        raise ApplicationError(
            "roles_without_org", _("未归属机构的用户不能分配角色"), {"field": "roles"}
        )
    _check_roles(organisation, roles)
    _check_actor_may_add(actor, organisation, roles)
    before = sorted(user.role_codes)
    after = sorted(set(roles))
    if before != after:
        UserRole.objects.filter(user=user).exclude(role__in=after).delete()
        UserRole.objects.bulk_create(
            [UserRole(user=user, role=r) for r in after if r not in before]
        )
        if hasattr(user, "_role_codes"):
            del user._role_codes
        security_event_record(
            action=SecurityAction.USER_ROLES_CHANGE,
            actor=actor,
            target_user=user,
            details={"before": before, "after": after},
            source_ip=source_ip,
            user_agent=user_agent,
        )
    return user


@transaction.atomic
def user_password_change(
    *, user: User, old_password: str, new_password: str, source_ip: str = "", user_agent: str = ""
) -> User:
    """Change a user's password after checking the old one and the password rules."""
    if not user.check_password(old_password):
        raise ApplicationError("wrong_password", _("原密码不正确"), {"field": "old_password"})
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        raise _validation_to_error(exc, "new_password") from exc
    if new_password == old_password:
        raise ApplicationError(
            "same_password", _("新密码不能与原密码相同"), {"field": "new_password"}
        )
    user.set_password(new_password)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    security_event_record(
        action=SecurityAction.PASSWORD_CHANGE,
        actor=user,
        target_user=user,
        source_ip=source_ip,
        user_agent=user_agent,
    )
    return user


@transaction.atomic
def user_update(
    *,
    user: User,
    display_name: str,
    phone: str,
    roles: list[str] | None,
    actor: User,
    source_ip: str = "",
    user_agent: str = "",
) -> User:
    """Correct a user's name and phone, and (when given) replace its roles; record the change."""
    from xinrong.common.validators import validate_phone

    permissions.require(actor, "accounts.user_edit", user, message=_("您无权修改该账号"))
    display_name = display_name.strip()
    if not display_name:
        raise ApplicationError("name_required", _("姓名不能为空"), {"field": "display_name"})
    try:
        phone = validate_phone(phone)
    except ValidationError as exc:
        raise _validation_to_error(exc, "phone") from exc
    if roles is not None:
        if not roles:
            raise ApplicationError(
                "roles_required", _("角色至少选择一项；不再使用的账号请停用"), {"field": "roles"}
            )
        user_roles_set(
            user=user, roles=roles, actor=actor, source_ip=source_ip, user_agent=user_agent
        )
    changes = {
        key: ["", ""] if key == "phone" else [getattr(user, key), value]
        for key, value in (("display_name", display_name), ("phone", phone))
        if getattr(user, key) != value
    }
    if changes:
        user.display_name, user.phone = display_name, phone
        user.save(update_fields=["display_name", "phone"])
        security_event_record(
            action=SecurityAction.USER_UPDATE,
            actor=actor,
            target_user=user,
            details={"changes": changes},  # a phone's digits are not shown to auditors
            source_ip=source_ip,
            user_agent=user_agent,
        )
    return user


REASON_MIN = 4


@transaction.atomic
def user_active_set(
    *,
    user: User,
    active: bool,
    reason: str,
    actor: User,
    source_ip: str = "",
    user_agent: str = "",
) -> User:
    """Disable or re-enable a login with a reason, recorded in the security log.

    A disabled user cannot log in (its open sessions end at the next request) nor act through
    an API key whose service account it is.
    """
    permissions.require(actor, "accounts.user_disable", user, message=_("您无权停用或启用该账号"))
    reason = reason.strip()
    if len(reason) < REASON_MIN:
        raise ApplicationError(
            "reason_required",
            _("理由必须填写（至少 %(n)s 个字）：将记入安全日志") % {"n": REASON_MIN},
            {"field": "reason"},
        )
    if active and user.organisation is not None and not user.organisation.is_active:
        raise ApplicationError(
            "organisation_disabled",
            _("该账号所属机构已停用，请先启用机构"),
            {"field": "reason"},
            status=409,
        )
    if user.is_active == active:
        raise ApplicationError(
            "no_change",
            _("该账号已是启用状态") if active else _("该账号已是停用状态"),
            {"field": "reason"},
            status=409,
        )
    user.is_active = active
    user.save(update_fields=["is_active"])
    security_event_record(
        action=SecurityAction.USER_ENABLE if active else SecurityAction.USER_DISABLE,
        actor=actor,
        target_user=user,
        details={"reason": reason[:500]},
        source_ip=source_ip,
        user_agent=user_agent,
    )
    return user
