"""Signed API requests: signature and freshness, nonces, idempotent writes, purging."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts import signing
from xinrong.accounts.models import ApiIdempotencyRecord, ApiKey, ApiNonce
from xinrong.common.errors import ApplicationError, ConflictError

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
    if key.revoked_at is not None:  # revoking also disables its service account: said first
        raise _unauthorised("key_revoked", _("该 API 密钥已被吊销，请使用新的密钥"))
    if not key.service_user.is_active:
        raise _unauthorised(
            "key_account_disabled", _("该 API 密钥所属的账号已停用，请联系机构管理员")
        )
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
