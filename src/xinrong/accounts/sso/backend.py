"""The relying party's authentication backend: mozilla-django-oidc, linked by USCC or ID number.

First sign-on: the provider's USCC claim (an enterprise) or ID number claim (a person) finds the
login through the registry's resolvers (``xinrong.accounts.sso.linking``) and the link
(issuer + subject) is stored; later sign-ons use the link alone. Nothing matched → the sign-on is
refused with a Chinese explanation (``request.sso_refusal``), no login is made silently.
Every sign-on, link and refusal is in the security log.
"""

from __future__ import annotations

from typing import Any, cast

import jwt
import requests
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import SuspiciousOperation
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from xinrong.accounts.auth import request_source
from xinrong.accounts.models import SecurityAction, SsoIdentity, User
from xinrong.accounts.services.security import security_event_record
from xinrong.accounts.sso.config import (
    SsoConfig,
    SsoUnavailableError,
    oidc_setting,
    sso_config,
    sso_enabled,
)
from xinrong.accounts.sso.linking import SsoMatch, sso_resolver


class SsoRefusedError(Exception):
    """A sign-on the platform refuses; ``message`` (Chinese) is shown to the person."""

    def __init__(self, code: str, message: str, user: User | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.message = message
        self.user = user


def generic_refusal() -> str:
    """Return the message of a sign-on that failed for a technical reason."""
    return _(
        "统一身份认证未能完成（认证平台无应答或返回的凭证无效）。请稍后重新点击"
        "“统一身份认证登录”，或使用平台账号密码登录；问题持续请联系平台运营方。"
    )


class SsoBackend(OIDCAuthenticationBackend):  # type: ignore[misc]
    """Authenticate at the OIDC callback only; inert when sign-on is not configured."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # mozilla's __init__ reads every endpoint now; ours are resolved per sign-on
        from django.contrib.auth import get_user_model

        self.UserModel = get_user_model()
        self._match: SsoMatch | None = None
        self._config: SsoConfig | None = None

    @staticmethod
    def get_settings(attr: str, *args: Any) -> Any:
        return oidc_setting(attr, *args)

    def get_user(self, user_id: Any) -> User | None:
        """Return the session's user only while active (ModelBackend's rule, not mozilla's)."""
        return ModelBackend.get_user(self, user_id)

    # ------------------------------------------------------------------ the sign-on

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> User | None:
        """Run the code flow at the callback (called with ``nonce``); None anywhere else."""
        if request is None or "nonce" not in kwargs or not sso_enabled():
            return None
        try:
            config = sso_config()
        except SsoUnavailableError:
            self._refuse_record(request, "provider_unavailable", generic_refusal(), None)
            return None
        self._config = config
        self.OIDC_OP_TOKEN_ENDPOINT = config.token_endpoint
        self.OIDC_OP_USER_ENDPOINT = config.userinfo_endpoint
        self.OIDC_OP_JWKS_ENDPOINT = config.jwks_endpoint
        self.OIDC_RP_CLIENT_ID = config.client_id
        self.OIDC_RP_CLIENT_SECRET = config.client_secret
        self.OIDC_RP_SIGN_ALGO = config.sign_algo
        self.OIDC_RP_IDP_SIGN_KEY = None
        try:
            user = cast("User | None", super().authenticate(request, **kwargs))
        except SsoRefusedError as exc:
            self._refuse_record(request, exc.code, exc.message, exc.user)
            return None
        except IntegrityError:
            # two first sign-ons of one identity at once: the other made the link; retrying
            # signs on through it
            self._refuse_record(
                request, "concurrent", _("登录请求重复，请重新点击“统一身份认证登录”。"), None
            )
            return None
        except (
            requests.RequestException,
            SuspiciousOperation,
            ValueError,
            KeyError,
            jwt.PyJWTError,
        ) as exc:
            self._refuse_record(request, "token_invalid", generic_refusal(), None, str(exc))
            return None
        if user is None:
            self._refuse_record(request, "token_invalid", generic_refusal(), None)
        return user

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        """Check signature and nonce (mozilla), then issuer and audience."""
        payload: dict[str, Any] = super().verify_token(token, **kwargs)
        assert self._config is not None
        if str(payload.get("iss", "")).rstrip("/") != self._config.issuer:
            raise SuspiciousOperation("id token issuer mismatch")
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self._config.client_id not in audiences:
            raise SuspiciousOperation("id token audience mismatch")
        return payload

    def get_or_create_user(
        self, access_token: str, id_token: str, payload: dict[str, Any]
    ) -> User | None:
        """Find the login by the stored link, else link it by USCC / ID number (recorded)."""
        assert self._config is not None
        userinfo: dict[str, Any] = self.get_userinfo(access_token, id_token, payload)
        subject = str(payload.get("sub") or "")
        if not subject or str(userinfo.get("sub", subject)) != subject:
            raise SuspiciousOperation("subject missing or userinfo subject differs")
        claims = {**userinfo, **payload}
        self._claims = claims
        link = (
            SsoIdentity.objects.filter(issuer=self._config.issuer, subject=subject)
            .select_related("user__organisation")
            .first()
        )
        if link is not None:
            user = link.user
            self._check_usable(user)
            self._record(SecurityAction.SSO_LOGIN, user, {"linked": "existing"})
            return user
        if not self.verify_claims(claims):
            raise SsoRefusedError(
                "no_identity_claim",
                _(
                    "认证平台没有提供统一社会信用代码（单位）或身份证号码（个人），平台无法确认"
                    "您的身份。请在认证平台完成实名或法人认证后重新登录，或使用平台账号密码登录。"
                ),
            )
        with transaction.atomic():
            users = list(self.filter_users_by_claims(claims))
            created = False
            if len(users) > 1:
                raise SsoRefusedError(
                    "ambiguous",
                    _(
                        "您的身份对应平台上的多个账号，无法自动确定登录哪一个。请以单位身份"
                        "（统一社会信用代码）登录，或使用平台账号密码登录。"
                    ),
                )
            if users:
                user = users[0]
            else:
                user = self.create_user(claims)
                created = True
            self._check_usable(user)
            SsoIdentity.objects.create(issuer=self._config.issuer, subject=subject, user=user)
            self._record(
                SecurityAction.SSO_LINK,
                user,
                {"by": self._claim_kind(claims), "created": created, "issuer": self._config.issuer},
            )
        self._record(SecurityAction.SSO_LOGIN, user, {"linked": "new"})
        return user

    # ------------------------------------------------------------------ mozilla's hooks

    def _claim_kind(self, claims: dict[str, Any]) -> str:
        assert self._config is not None
        if str(claims.get(self._config.uscc_claim) or "").strip():
            return "uscc"
        if str(claims.get(self._config.id_number_claim) or "").strip():
            return "id_number"
        return ""

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        """Accept only an identity the platform can match: a USCC or an ID number."""
        return bool(self._claim_kind(claims))

    def filter_users_by_claims(self, claims: dict[str, Any]) -> list[User]:
        """Return the logins the USCC (enterprise) or ID number (person) matches."""
        assert self._config is not None
        kind = self._claim_kind(claims)
        claim_name = self._config.uscc_claim if kind == "uscc" else self._config.id_number_claim
        resolver = sso_resolver("uscc" if kind == "uscc" else "id_number")
        if resolver is None:
            raise SsoRefusedError("no_resolver", generic_refusal())
        self._match = resolver(str(claims[claim_name]).strip())
        if self._match.refusal:
            raise SsoRefusedError("no_match", self._match.refusal)
        return self._match.users

    def create_user(self, claims: dict[str, Any]) -> User:
        """Open the login the way the registry opens an enterprise's login; never a bare one."""
        if self._match is None or self._match.create is None:
            raise SsoRefusedError("no_match", no_match_message())
        return self._match.create()

    def describe_user_by_claims(self, claims: dict[str, Any]) -> str:
        return "sso subject {}".format(claims.get("sub", ""))

    # ------------------------------------------------------------------ bookkeeping

    def _check_usable(self, user: User) -> None:
        org = user.organisation
        if not user.is_active or (org is not None and not org.is_active):
            raise SsoRefusedError(
                "account_disabled",
                _(
                    "与您的身份关联的平台账号“%(u)s”已停用，不能登录。如需恢复使用，"
                    "请联系所在机构的管理员或平台运营方。"
                )
                % {"u": user.username},
                user,
            )

    def _record(self, action: str, user: User, details: dict[str, Any]) -> None:
        ip, agent = request_source(self.request)
        security_event_record(
            action=action,
            actor=user,
            target_user=user,
            details=details,
            source_ip=ip,
            user_agent=agent,
        )

    def _refuse_record(
        self,
        request: HttpRequest,
        code: str,
        message: str,
        user: User | None,
        detail: str = "",
    ) -> None:
        request.sso_refusal = message  # type: ignore[attr-defined]
        ip, agent = request_source(request)
        details: dict[str, Any] = {"reason": code}
        if detail:
            details["detail"] = detail[:300]
        security_event_record(
            action=SecurityAction.SSO_FAILURE,
            target_user=user,
            username=user.username if user else "",
            details=details,
            source_ip=ip,
            user_agent=agent,
        )


def no_match_message() -> str:
    """Return the refusal shown when no login matches the provider's identity."""
    return _(
        "平台上没有与您的统一身份认证信息对应的账号，因此未能登录，平台也没有为您自动开立账号。"
        "企业或个体工商户请先在平台“注册账户”，或联系平台运营方核实主体登记信息；"
        "已有平台账号的，请使用账号密码登录。"
    )
