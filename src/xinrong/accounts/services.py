"""Writes for accounts: organisations, users, roles, logins, API keys."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts.choices import (
    API_KEY_KINDS,
    ORG_GROUP,
    ROLES_BY_GROUP,
    SERVICE_ROLE,
    OrgKind,
    Role,
)
from xinrong.accounts.models import ApiKey, Organisation, User, UserRole
from xinrong.accounts.selectors import can_manage_api_keys
from xinrong.common.errors import ApplicationError, PermissionDeniedError
from xinrong.reference import divisions

API_KEY_PREFIX = "xr"


def _validation_to_error(exc: ValidationError, field: str) -> ApplicationError:
    messages = "；".join(str(m) for m in exc.messages)
    return ApplicationError("invalid_" + field, messages, {"field": field})


@transaction.atomic
def organisation_create(
    *, name: str, kind: str, uscc: str | None = None, region_code: str = ""
) -> Organisation:
    """Create an organisation after checking its kind, code and region."""
    if kind not in OrgKind.values:
        raise ApplicationError(
            "invalid_kind", _("机构类型“%(kind)s”不存在") % {"kind": kind}, {"field": "kind"}
        )
    if region_code and divisions.get(region_code) is None:
        raise ApplicationError(
            "invalid_region_code",
            _("行政区划代码“%(code)s”不存在") % {"code": region_code},
            {"field": "region_code"},
        )
    if kind == OrgKind.SUBSTATION and not region_code:
        raise ApplicationError(
            "region_required", _("子站必须指定所辖行政区划"), {"field": "region_code"}
        )
    if uscc:
        from xinrong.reference import uscc as uscc_codec

        uscc = uscc_codec.parse(uscc).code
        if Organisation.objects.filter(uscc=uscc).exists():
            raise ApplicationError(
                "duplicate_uscc",
                _("统一社会信用代码 %(code)s 已被其他机构使用") % {"code": uscc},
                {"field": "uscc"},
                status=409,
            )
    org = Organisation(name=name.strip(), kind=kind, uscc=uscc or None, region_code=region_code)
    try:
        org.full_clean()
    except ValidationError as exc:
        field = next(iter(exc.message_dict), "name")
        raise ApplicationError(
            "invalid_" + field, "；".join(exc.message_dict[field]), {"field": field}
        ) from exc
    org.save()
    return org


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
) -> User:
    """Create a user in an organisation with roles valid for that organisation's kind.

    ``password`` is checked against the password rules and hashed; the demo seeder passes
    ``password_hash`` instead, one hash computed once for all its accounts.
    """
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
    return user


@transaction.atomic
def user_password_change(*, user: User, old_password: str, new_password: str) -> User:
    """Change a user's password after checking the old one and the password rules."""
    if not user.check_password(old_password):
        raise ApplicationError("wrong_password", _("原密码不正确"), {"field": "old_password"})
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        raise _validation_to_error(exc, "new_password") from exc
    user.set_password(new_password)
    user.save(update_fields=["password"])
    return user


def login_failure_record(*, username: str) -> User | None:
    """Count a failed login; lock the account when the limit is reached within the window."""
    with transaction.atomic():
        user = User.objects.select_for_update().filter(username__iexact=username).first()
        if user is None:
            return None
        now = timezone.now()
        window = timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)
        if user.last_failed_login_at and now - user.last_failed_login_at > window:
            user.failed_login_count = 0
        user.failed_login_count += 1
        user.last_failed_login_at = now
        if user.failed_login_count >= settings.LOGIN_FAILURE_LIMIT:
            user.locked_until = now + window
            user.failed_login_count = 0
        user.save(update_fields=["failed_login_count", "last_failed_login_at", "locked_until"])
        return user


def login_success_record(*, user: User) -> None:
    """Clear the failure counter after a successful login."""
    if user.failed_login_count or user.locked_until:
        User.objects.filter(pk=user.pk).update(failed_login_count=0, locked_until=None)


def user_unlock(*, user: User, actor: User) -> User:
    """Lift a lockout (operator action)."""
    if not (actor.is_superuser or actor.has_role(Role.OPERATOR_ADMIN)):
        raise PermissionDeniedError("forbidden", _("只有运营管理员可以解锁账户"))
    User.objects.filter(pk=user.pk).update(failed_login_count=0, locked_until=None)
    user.refresh_from_db()
    return user


def _hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode("ascii")).hexdigest()


@transaction.atomic
def api_key_create(*, organisation: Organisation, name: str, actor: User) -> tuple[ApiKey, str]:
    """Issue an API key for an institution; return it with the raw secret (shown once)."""
    if organisation.kind not in API_KEY_KINDS:
        raise ApplicationError(
            "api_key_kind", _("只有金融机构和政府部门可以申请 API 密钥"), {"field": "organisation"}
        )
    if not can_manage_api_keys(actor, organisation):
        raise PermissionDeniedError("forbidden", _("您无权为该机构管理 API 密钥"))
    name = name.strip()
    if not name:
        raise ApplicationError("invalid_name", _("请填写密钥用途"), {"field": "name"})
    prefix = secrets.token_hex(6)
    raw = f"{API_KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    service_user = User(
        username=f"api-{prefix}",
        organisation=organisation,
        display_name=_("接口调用：%(name)s") % {"name": name[:40]},
    )
    service_user.set_unusable_password()
    service_user.save()
    UserRole.objects.create(user=service_user, role=SERVICE_ROLE[organisation.group])
    key = ApiKey.objects.create(
        organisation=organisation,
        name=name[:100],
        prefix=prefix,
        key_hash=_hash_key(raw),
        created_by=actor,
        service_user=service_user,
    )
    return key, raw


@transaction.atomic
def api_key_revoke(*, key: ApiKey, actor: User) -> ApiKey:
    """Revoke an API key; it stops working at once."""
    if not can_manage_api_keys(actor, key.organisation):
        raise PermissionDeniedError("forbidden", _("您无权为该机构管理 API 密钥"))
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.revoked_by = actor
        key.save(update_fields=["revoked_at", "revoked_by", "updated_at"])
        User.objects.filter(pk=key.service_user_id).update(is_active=False)
    return key


def api_key_authenticate(raw: str) -> ApiKey | None:
    """Return the live key matching ``raw`` (constant-time compare), recording its use."""
    parts = raw.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX:
        return None
    key = (
        ApiKey.objects.select_related("organisation", "service_user__organisation")
        .filter(prefix=parts[1], revoked_at__isnull=True, organisation__is_active=True)
        .first()
    )
    if key is None or not secrets.compare_digest(key.key_hash, _hash_key(raw.strip())):
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key
