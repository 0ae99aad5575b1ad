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
    OrgKind,
    Role,
)
from xinrong.accounts.models import (
    ApiIdempotencyRecord,
    ApiKey,
    ApiNonce,
    Organisation,
    User,
    UserRole,
)
from xinrong.common.errors import ApplicationError, ConflictError
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
    permissions.require(
        actor, "accounts.user_unlock", user, message=_("只有运营管理员可以解锁账户")
    )
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
    return key, raw


@transaction.atomic
def api_key_revoke(*, key: ApiKey, actor: User) -> ApiKey:
    """Revoke an API key; it stops working at once."""
    permissions.require(
        actor, "accounts.apikey_manage", key, message=_("您无权为该机构管理 API 密钥")
    )
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
