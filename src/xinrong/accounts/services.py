"""Writes for accounts: organisations, users, roles, logins, API keys."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts import permissions, signing
from xinrong.accounts.choices import (
    API_KEY_KINDS,
    ORG_GROUP,
    ROLES_BY_GROUP,
    SERVICE_ROLES,
    OrgGroup,
    OrgKind,
    Role,
)
from xinrong.accounts.models import (
    ApiIdempotencyRecord,
    ApiKey,
    ApiNonce,
    LoginThrottle,
    Organisation,
    SecurityAction,
    SecurityEvent,
    User,
    UserRole,
)
from xinrong.common.errors import ApplicationError, ConflictError, PermissionDeniedError
from xinrong.reference import divisions

API_KEY_PREFIX = "xr"


def _validation_to_error(exc: ValidationError, field: str) -> ApplicationError:
    messages = "；".join(str(m) for m in exc.messages)
    return ApplicationError("invalid_" + field, messages, {"field": field})


def security_event_record(
    *,
    action: str,
    actor: User | None = None,
    target_user: User | None = None,
    target_organisation: Organisation | None = None,
    target_api_key: ApiKey | None = None,
    username: str = "",
    details: dict[str, Any] | None = None,
    source_ip: str = "",
    user_agent: str = "",
) -> SecurityEvent:
    """Append one security event: who did what to which account, role, login or key, from where.

    Never pass a secret in ``details``: the record is shown to auditors.
    """
    if target_organisation is None and target_user is not None:
        target_organisation = target_user.organisation
    if target_organisation is None and target_api_key is not None:
        target_organisation = target_api_key.organisation
    actor_org = None
    if actor is not None and actor.organisation_id is not None:
        actor_org = actor.organisation
    return SecurityEvent.objects.create(
        action=action,
        actor=actor,
        actor_organisation=actor_org,
        target_user=target_user,
        target_organisation=target_organisation,
        target_api_key=target_api_key,
        username=(username or (target_user.username if target_user else ""))[:150],
        details=details or {},
        ip_address=source_ip or None,
        user_agent=user_agent[:300],
    )


@transaction.atomic
def organisation_create(
    *,
    name: str,
    kind: str,
    uscc: str | None = None,
    region_code: str = "",
    actor: User | None = None,
    source_ip: str = "",
    user_agent: str = "",
) -> Organisation:
    """Create an organisation after checking its kind, code and region.

    ``actor`` is the operator doing it (checked and recorded); None for the enterprise's own
    registration and the command line.
    """
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
    if actor is not None:
        permissions.require(
            actor,
            "accounts.organisation_create",
            org,
            message=_("您无权在该区划创建机构：子站只能在本区划内创建"),
        )
    try:
        org.full_clean()
    except ValidationError as exc:
        field = next(iter(exc.message_dict), "name")
        raise ApplicationError(
            "invalid_" + field, "；".join(exc.message_dict[field]), {"field": field}
        ) from exc
    org.save()
    security_event_record(
        action=SecurityAction.ORGANISATION_CREATE,
        actor=actor,
        target_organisation=org,
        details={"name": org.name, "kind": org.kind, "region_code": org.region_code},
        source_ip=source_ip,
        user_agent=user_agent,
    )
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


# ---------------------------------------------------------------- login lockout
# Failures are counted per (username, source address), for usernames that exist and those that
# do not alike: a lock says nothing about which accounts exist, and an attacker locks an account
# only for its own address. Each further lock of the same pair lasts twice as long (capped).


def _login_name(username: str) -> str:
    return username.strip().lower()[:150]


def _login_ip(source_ip: str) -> str:
    return source_ip or "0.0.0.0"  # noqa: S104 (a missing address is one shared bucket)


def login_throttle_locked(*, username: str, source_ip: str) -> LoginThrottle | None:
    """Return the lock in force on this username from this address, if any."""
    throttle = LoginThrottle.objects.filter(
        username=_login_name(username), source_ip=_login_ip(source_ip)
    ).first()
    return throttle if throttle is not None and throttle.is_locked() else None


def _lock_seconds(lockouts: int) -> int:
    base = int(settings.LOGIN_LOCKOUT_SECONDS)
    cap = int(getattr(settings, "LOGIN_LOCKOUT_MAX_SECONDS", 24 * 3600))
    return min(base * (2 ** min(lockouts, 20)), max(cap, base))


def login_failure_record(*, username: str, source_ip: str, user_agent: str = "") -> LoginThrottle:
    """Count a failed login of ``username`` from ``source_ip``; lock the pair at the limit."""
    name, ip = _login_name(username), _login_ip(source_ip)
    now = timezone.now()
    window = timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)
    with transaction.atomic():
        LoginThrottle.objects.get_or_create(username=name, source_ip=ip)
        throttle = LoginThrottle.objects.select_for_update().get(username=name, source_ip=ip)
        if throttle.last_failure_at and now - throttle.last_failure_at > window:
            throttle.failures = 0
        if throttle.locked_until and now - throttle.locked_until > timedelta(days=1):
            throttle.lockouts = 0  # a day of quiet forgives earlier locks
        throttle.failures += 1
        throttle.last_failure_at = now
        user = User.objects.filter(username__iexact=name).select_related("organisation").first()
        security_event_record(
            action=SecurityAction.LOGIN_FAILURE,
            target_user=user,
            username=name,
            details={"failures": throttle.failures},
            source_ip=source_ip,
            user_agent=user_agent,
        )
        if throttle.failures >= settings.LOGIN_FAILURE_LIMIT:
            seconds = _lock_seconds(throttle.lockouts)
            throttle.locked_until = now + timedelta(seconds=seconds)
            throttle.lockouts += 1
            throttle.failures = 0
            security_event_record(
                action=SecurityAction.LOGIN_LOCKOUT,
                target_user=user,
                username=name,
                details={"seconds": seconds, "lockouts": throttle.lockouts},
                source_ip=source_ip,
                user_agent=user_agent,
            )
        throttle.save()
        return throttle


def login_success_record(*, user: User, source_ip: str, user_agent: str = "") -> None:
    """Clear the failures of this username from this address and record the login."""
    LoginThrottle.objects.filter(
        username=_login_name(user.username), source_ip=_login_ip(source_ip)
    ).delete()
    security_event_record(
        action=SecurityAction.LOGIN_SUCCESS,
        actor=user,
        target_user=user,
        source_ip=source_ip,
        user_agent=user_agent,
    )


def logout_record(*, user: User, source_ip: str, user_agent: str = "") -> None:
    """Record a logout."""
    security_event_record(
        action=SecurityAction.LOGOUT,
        actor=user,
        target_user=user,
        source_ip=source_ip,
        user_agent=user_agent,
    )


@transaction.atomic
def user_unlock(*, user: User, actor: User, source_ip: str = "", user_agent: str = "") -> User:
    """Lift every lockout of a user's username, from all addresses (operator action)."""
    permissions.require(
        actor, "accounts.user_unlock", user, message=_("只有运营管理员可以解锁账户")
    )
    cleared = LoginThrottle.objects.filter(username=_login_name(user.username)).delete()[0]
    security_event_record(
        action=SecurityAction.USER_UNLOCK,
        actor=actor,
        target_user=user,
        details={"cleared": cleared},
        source_ip=source_ip,
        user_agent=user_agent,
    )
    return user


def _hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode("ascii")).hexdigest()


@transaction.atomic
def api_key_create(
    *,
    organisation: Organisation,
    name: str,
    actor: User,
    source_ip: str = "",
    user_agent: str = "",
) -> tuple[ApiKey, str]:
    """Issue an API key for an institution; return it with the raw secret (shown once)."""
    if organisation.kind not in API_KEY_KINDS:
        raise ApplicationError(
            "api_key_kind", _("只有金融机构和政府部门可以申请 API 密钥"), {"field": "organisation"}
        )
    permissions.require(
        actor, "accounts.apikey_manage", organisation, message=_("您无权为该机构管理 API 密钥")
    )
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
    UserRole.objects.bulk_create(
        UserRole(user=service_user, role=role) for role in SERVICE_ROLES[organisation.group]
    )
    key = ApiKey.objects.create(
        organisation=organisation,
        name=name[:100],
        prefix=prefix,
        key_hash=_hash_key(raw),
        signing_secret=raw,
        created_by=actor,
        service_user=service_user,
    )
    security_event_record(
        action=SecurityAction.API_KEY_ISSUE,
        actor=actor,
        target_api_key=key,
        target_organisation=organisation,
        details={"prefix": prefix, "name": key.name, "service_user": service_user.username},
        source_ip=source_ip,
        user_agent=user_agent,
    )
    return key, raw


@transaction.atomic
def api_key_revoke(
    *, key: ApiKey, actor: User, source_ip: str = "", user_agent: str = ""
) -> ApiKey:
    """Revoke an API key; it stops working at once."""
    permissions.require(
        actor, "accounts.apikey_manage", key, message=_("您无权为该机构管理 API 密钥")
    )
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.revoked_by = actor
        key.save(update_fields=["revoked_at", "revoked_by", "updated_at"])
        User.objects.filter(pk=key.service_user_id).update(is_active=False)
        security_event_record(
            action=SecurityAction.API_KEY_REVOKE,
            actor=actor,
            target_api_key=key,
            target_organisation=key.organisation,
            details={"prefix": key.prefix, "name": key.name},
            source_ip=source_ip,
            user_agent=user_agent,
        )
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


# ---------------------------------------------------------------- signed requests
# How an institution's system proves who it is (an HMAC over the request), that the request is
# fresh (timestamp within the window, nonce not seen before) and that a retried write applies once
# (idempotency key). The scheme is described in accounts/signing.py and docs/bank-api.md.


def _unauthorised(code: str, message: str, **extra: Any) -> ApplicationError:
    return ApplicationError(code, message, extra, status=401)


def api_clock_skew() -> int:
    """Return how many seconds a request's timestamp may differ from the server's clock."""
    return int(getattr(settings, "XINRONG_API_CLOCK_SKEW_SECONDS", 300))


def _signed_key(key_id: str) -> ApiKey:
    key = (
        ApiKey.objects.select_related("organisation", "service_user__organisation")
        .filter(prefix=key_id.strip()[:16])
        .first()
    )
    if key is None or not key.organisation.is_active:
        raise _unauthorised(
            "unknown_key", _("API 密钥不存在：请检查请求头 %(h)s") % {"h": signing.HEADER_KEY}
        )
    if key.revoked_at is not None:
        raise _unauthorised("key_revoked", _("该 API 密钥已被吊销，请使用新的密钥"))
    if not key.signing_secret:
        raise _unauthorised(
            "signing_not_enabled",
            _("该 API 密钥签发于签名接口上线之前，不能签名；请机构管理员重新申请密钥"),
        )
    return key


def api_request_verify(
    *,
    key_id: str,
    timestamp: str,
    nonce: str,
    signature_method: str,
    signature: str,
    http_method: str,
    path: str,
    body: bytes,
    now: dt.datetime | None = None,
) -> ApiKey:
    """Check a signed request and record its nonce; return the calling key or raise a 401/409.

    The order matters: cheap format checks first, then the signature, and only a correctly
    signed request may spend a nonce (so nobody can burn another system's nonces).
    """
    headers = {
        signing.HEADER_KEY: key_id,
        signing.HEADER_TIMESTAMP: timestamp,
        signing.HEADER_NONCE: nonce,
        signing.HEADER_METHOD: signature_method,
        signing.HEADER_SIGNATURE: signature,
    }
    missing = [name for name, value in headers.items() if not value]
    if missing:
        raise _unauthorised(
            "signature_missing",
            _("缺少签名请求头：%(h)s") % {"h": "、".join(missing)},
            field=missing[0],
        )
    if signature_method not in signing.SIGNATURE_METHODS:
        raise _unauthorised(
            "signature_method",
            _("不支持的签名算法“%(m)s”，可选：%(c)s")
            % {"m": signature_method[:32], "c": "、".join(signing.SIGNATURE_METHODS)},
            field=signing.HEADER_METHOD,
        )
    moment = now or timezone.now()
    if not timestamp.isdigit() or len(timestamp) > 12:
        raise _unauthorised(
            "invalid_timestamp",
            _("请求头 %(h)s 应为 Unix 时间戳（秒）") % {"h": signing.HEADER_TIMESTAMP},
            field=signing.HEADER_TIMESTAMP,
        )
    skew = api_clock_skew()
    sent = int(timestamp)
    drift = sent - int(moment.timestamp())
    if abs(drift) > skew:
        raise _unauthorised(
            "timestamp_out_of_window",
            _("请求时间戳与服务器时间相差 %(d)s 秒，超过允许的 ±%(s)s 秒；请校准时钟后重新签名")
            % {"d": drift, "s": skew},
            field=signing.HEADER_TIMESTAMP,
            server_time=int(moment.timestamp()),
        )
    if (
        not signing.NONCE_MIN <= len(nonce) <= signing.NONCE_MAX
        or re.fullmatch(signing.TOKEN_PATTERN, nonce) is None
    ):
        raise _unauthorised(
            "invalid_nonce",
            _("请求头 %(h)s 应为 %(lo)s–%(hi)s 个字母、数字或 - _ . : 字符")
            % {"h": signing.HEADER_NONCE, "lo": signing.NONCE_MIN, "hi": signing.NONCE_MAX},
            field=signing.HEADER_NONCE,
        )
    key = _signed_key(key_id)
    expected = signing.hmac_hex(
        algorithm=signature_method,
        secret=key.signing_secret,
        message=signing.canonical_string(
            method=http_method, path=path, timestamp=timestamp, nonce=nonce, body=body
        ),
    )
    if not secrets.compare_digest(expected, signature.strip().lower()):
        raise _unauthorised(
            "bad_signature",
            _("签名校验失败：请按文档对“方法、路径、时间戳、随机串、请求体摘要”重新签名"),
            field=signing.HEADER_SIGNATURE,
        )
    api_nonce_record(
        key=key, nonce=nonce, expires_at=dt.datetime.fromtimestamp(sent + skew, tz=dt.UTC)
    )
    if key.last_used_at is None or moment - key.last_used_at > timedelta(minutes=1):
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=moment)
    return key


def api_nonce_record(*, key: ApiKey, nonce: str, expires_at: dt.datetime) -> ApiNonce:
    """Spend a nonce of ``key``; a second use while it is kept is refused (unique constraint)."""
    try:
        with transaction.atomic():
            return ApiNonce.objects.create(api_key=key, nonce=nonce, expires_at=expires_at)
    except IntegrityError:
        raise ConflictError(
            "nonce_reused",
            _("随机串 %(n)s 已被使用过：每个请求须使用新的随机串，疑似重放的请求已拒绝")
            % {"n": nonce},
            {"field": signing.HEADER_NONCE},
        ) from None


@dataclass(frozen=True)
class IdempotentResult:
    """What a write returned, and whether it is the stored answer to an earlier identical one."""

    status: int
    body: Any
    replayed: bool


class _Duplicate(Exception):
    """Another request with the same idempotency key committed first."""


def _idempotent_stored(key: ApiKey, idempotency_key: str, fingerprint: str) -> IdempotentResult:
    record = ApiIdempotencyRecord.objects.filter(api_key=key, key=idempotency_key).first()
    if record is None:
        raise ConflictError(
            "idempotency_in_progress",
            _("同一幂等键的请求正在处理，请稍后重试"),
            {"field": signing.HEADER_IDEMPOTENCY},
        )
    if record.fingerprint != fingerprint:
        raise ApplicationError(
            "idempotency_mismatch",
            _("幂等键 %(k)s 已用于另一个请求（%(m)s %(p)s）；请求内容不同的报文须使用新的幂等键")
            % {"k": idempotency_key, "m": record.method, "p": record.path},
            {"field": signing.HEADER_IDEMPOTENCY},
            status=422,
        )
    return IdempotentResult(status=record.status, body=record.response, replayed=True)


def idempotent_run(
    *,
    key: ApiKey,
    idempotency_key: str,
    method: str,
    path: str,
    body: bytes,
    run: Callable[[], tuple[int, Any]],
) -> IdempotentResult:
    """Apply a write once per idempotency key: run it and store its answer in one transaction.

    ``run`` returns (HTTP status, JSON-ready body). A retry with the same key and the same
    request gets the stored answer without running again; the same key with another request is
    refused (422 ``idempotency_mismatch``). Two concurrent twins meet at the unique constraint:
    the second waits for the first and then returns its answer. A write that fails (raises)
    stores nothing and changes nothing, so it may be retried with the same key.
    """
    if (
        not signing.IDEMPOTENCY_MIN <= len(idempotency_key) <= signing.IDEMPOTENCY_MAX
        or re.fullmatch(signing.TOKEN_PATTERN, idempotency_key) is None
    ):
        raise ApplicationError(
            "invalid_idempotency_key",
            _("请求头 %(h)s 应为 %(lo)s–%(hi)s 个字母、数字或 - _ . : 字符")
            % {
                "h": signing.HEADER_IDEMPOTENCY,
                "lo": signing.IDEMPOTENCY_MIN,
                "hi": signing.IDEMPOTENCY_MAX,
            },
            {"field": signing.HEADER_IDEMPOTENCY},
            status=422,
        )
    fingerprint = signing.request_fingerprint(method=method, path=path, body=body)
    if ApiIdempotencyRecord.objects.filter(api_key=key, key=idempotency_key).exists():
        return _idempotent_stored(key, idempotency_key, fingerprint)
    try:
        with transaction.atomic():
            try:
                record = ApiIdempotencyRecord.objects.create(
                    api_key=key,
                    key=idempotency_key,
                    fingerprint=fingerprint,
                    method=method.upper()[:8],
                    path=path[:500],
                    status=0,
                )
            except IntegrityError:
                raise _Duplicate from None
            status, out = run()
            record.status, record.response = status, out
            record.save(update_fields=["status", "response"])
    except _Duplicate:
        return _idempotent_stored(key, idempotency_key, fingerprint)
    return IdempotentResult(status=status, body=out, replayed=False)


def api_replay_purge(*, now: dt.datetime | None = None) -> tuple[int, int]:
    """Delete nonces whose window has passed and idempotency records past their retention.

    Returns (nonces, records) deleted. Run daily (``xinrong apikeys purge`` or the task
    ``xinrong.accounts.tasks.api_replay_purge_task``); a nonce outlives its timestamp's window,
    so purging never lets a replayed request through.
    """
    moment = now or timezone.now()
    days = int(getattr(settings, "XINRONG_API_IDEMPOTENCY_DAYS", 30))
    nonces, _detail = ApiNonce.objects.filter(expires_at__lt=moment).delete()
    records, _detail = ApiIdempotencyRecord.objects.filter(
        created_at__lt=moment - timedelta(days=days)
    ).delete()
    return nonces, records
