"""Authentication of institutions' systems by API key: plain (X-API-Key) or signed requests."""

from __future__ import annotations

from collections.abc import Iterable

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.security import APIKeyHeader

from xinrong.accounts import signing
from xinrong.accounts.choices import OrgGroup
from xinrong.accounts.models import ApiKey, User
from xinrong.accounts.services.api_keys import api_key_authenticate
from xinrong.accounts.services.api_requests import api_request_verify
from xinrong.common.errors import ApplicationError, PermissionDeniedError
from xinrong.common.http import client_address


class ApiKeyAuth(APIKeyHeader):
    """Accept ``X-API-Key: xr_<prefix>_<secret>``; the caller acts as the key's service user."""

    param_name = "X-API-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> ApiKey | None:
        if not key:
            return None  # no key sent: the next method (the login session) may answer
        api_key = api_key_authenticate(key)
        if api_key is None:
            # A key was sent and is not valid: refuse, never fall back to a session cookie
            # that happens to ride along (the caller meant to act as the key).
            raise ApplicationError(
                "invalid_api_key",
                _("请求头 X-API-Key 中的 API 密钥无效或已吊销"),
                {"field": "X-API-Key"},
                status=401,
            )
        request.user = api_key.service_user
        return api_key


class SignedRequestAuth(APIKeyHeader):
    """Accept a request signed with an API key's secret (HMAC-SHA256 or HMAC-SM3).

    Every refusal is a 401 with its own code (``signature_missing``, ``unknown_key``,
    ``key_revoked``, ``timestamp_out_of_window``, ``bad_signature``…) or 409 ``nonce_reused``.
    The caller acts as the key's service user.
    """

    param_name = signing.HEADER_SIGNATURE
    openapi_description = (
        "对“方法\\n路径（含查询串）\\n时间戳\\n随机串\\nSHA-256(请求体) 的十六进制”"
        "做 HMAC-SHA256 或 HMAC-SM3（密钥为完整的 API 密钥字符串），以小写十六进制放在 "
        "X-Xinrong-Signature；同时发送 X-Xinrong-Key（密钥前缀）、X-Xinrong-Timestamp（Unix 秒）、"
        "X-Xinrong-Nonce（16–64 位随机串）、X-Xinrong-Signature-Method。详见 docs/bank-api.md。"
    )

    def __init__(self, groups: Iterable[str] = (OrgGroup.INSTITUTION,)) -> None:
        """Accept keys of organisations on these sides (the bank API: institutions only)."""
        super().__init__()
        self.groups = frozenset(groups)

    def __call__(self, request: HttpRequest) -> ApiKey | None:
        # Missing headers are refused with a precise code rather than the generic 401.
        return self.authenticate(request, request.headers.get(self.param_name, ""))

    def authenticate(self, request: HttpRequest, key: str | None) -> ApiKey | None:
        h = request.headers
        api_key = api_request_verify(
            key_id=h.get(signing.HEADER_KEY, ""),
            timestamp=h.get(signing.HEADER_TIMESTAMP, "").strip(),
            nonce=h.get(signing.HEADER_NONCE, "").strip(),
            signature_method=h.get(signing.HEADER_METHOD, "").strip().upper(),
            signature=key or "",
            http_method=request.method or "GET",
            path=request.get_full_path(),
            body=request.body,
        )
        org = api_key.organisation
        if org.group not in self.groups:
            raise PermissionDeniedError(
                "api_key_kind",
                _("该 API 密钥属于%(kind)s“%(org)s”，只有金融机构的密钥可以调用本接口")
                % {"kind": org.get_kind_display(), "org": org.name},
                {"field": signing.HEADER_KEY},
            )
        request.user = api_key.service_user
        return api_key


def request_user(request: HttpRequest) -> User:
    """Return the logged-in platform user of a view guarded by ``login_required``."""
    user = request.user
    assert isinstance(user, User), "view must require login"
    return user


def request_source(request: HttpRequest) -> tuple[str, str]:
    """Return the client's address (``common.http.client_address``) and user agent."""
    return client_address(request), request.META.get("HTTP_USER_AGENT", "")[:300]
