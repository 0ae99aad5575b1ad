"""Where the identity provider is and what it calls things: settings plus discovery."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings
from django.core.cache import cache

DISCOVERY_PATH = "/.well-known/openid-configuration"
_DISCOVERY_SECONDS = 3600


class SsoUnavailableError(Exception):
    """The provider's discovery document could not be read (or sign-on is not configured)."""


@dataclass(frozen=True)
class SsoConfig:
    """Everything the relying party needs, with endpoints resolved."""

    issuer: str
    client_id: str
    client_secret: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_endpoint: str
    scopes: str
    sign_algo: str
    uscc_claim: str
    id_number_claim: str
    timeout: float


def sso_enabled() -> bool:
    """Return True when unified sign-on is configured (an issuer and a client id)."""
    return bool(
        getattr(settings, "XINRONG_OIDC_ISSUER", "")
        and getattr(settings, "XINRONG_OIDC_CLIENT_ID", "")
    )


def _discovery(issuer: str, timeout: float) -> dict[str, Any]:
    key = "xinrong:sso:discovery:" + issuer
    document: dict[str, Any] | None = cache.get(key)
    if document is None:
        try:
            response = requests.get(issuer + DISCOVERY_PATH, timeout=timeout)
            response.raise_for_status()
            document = dict(response.json())
        except (requests.RequestException, ValueError) as exc:
            raise SsoUnavailableError(str(exc)) from exc
        if str(document.get("issuer", "")).rstrip("/") != issuer:
            raise SsoUnavailableError("discovery issuer mismatch")
        cache.set(key, document, _DISCOVERY_SECONDS)
    return document


def sso_config() -> SsoConfig:
    """Return the resolved configuration; endpoints not set come from discovery."""
    if not sso_enabled():
        raise SsoUnavailableError("not configured")
    issuer = str(settings.XINRONG_OIDC_ISSUER).rstrip("/")
    timeout = float(getattr(settings, "XINRONG_OIDC_TIMEOUT", 10))
    explicit = {
        "authorization_endpoint": getattr(settings, "XINRONG_OIDC_AUTHORIZATION_ENDPOINT", ""),
        "token_endpoint": getattr(settings, "XINRONG_OIDC_TOKEN_ENDPOINT", ""),
        "userinfo_endpoint": getattr(settings, "XINRONG_OIDC_USERINFO_ENDPOINT", ""),
        "jwks_uri": getattr(settings, "XINRONG_OIDC_JWKS_ENDPOINT", ""),
    }
    if not all(explicit.values()):
        document = _discovery(issuer, timeout)
        explicit = {k: v or str(document.get(k, "")) for k, v in explicit.items()}
    if not all(explicit.values()):
        raise SsoUnavailableError("endpoints missing")
    return SsoConfig(
        issuer=issuer,
        client_id=str(settings.XINRONG_OIDC_CLIENT_ID),
        client_secret=str(getattr(settings, "XINRONG_OIDC_CLIENT_SECRET", "")),
        authorization_endpoint=explicit["authorization_endpoint"],
        token_endpoint=explicit["token_endpoint"],
        userinfo_endpoint=explicit["userinfo_endpoint"],
        jwks_endpoint=explicit["jwks_uri"],
        scopes=str(getattr(settings, "XINRONG_OIDC_SCOPES", "openid profile")),
        sign_algo=str(getattr(settings, "XINRONG_OIDC_SIGN_ALGO", "RS256")),
        uscc_claim=str(getattr(settings, "XINRONG_OIDC_USCC_CLAIM", "uscc")),
        id_number_claim=str(getattr(settings, "XINRONG_OIDC_ID_NUMBER_CLAIM", "id_number")),
        timeout=timeout,
    )


def oidc_setting(attr: str, *default: Any) -> Any:
    """Answer mozilla-django-oidc's settings from XINRONG_OIDC_* (its own names are not used)."""
    fixed: dict[str, Any] = {
        "OIDC_USE_PKCE": True,
        "OIDC_USE_NONCE": True,
        "OIDC_CREATE_USER": True,
        "OIDC_VERIFY_SSL": True,
        "OIDC_RP_IDP_SIGN_KEY": None,
        "OIDC_AUTHENTICATION_CALLBACK_URL": "accounts:sso_callback",
        "OIDC_REDIRECT_FIELD_NAME": "next",
        "OIDC_STORE_ACCESS_TOKEN": False,
        "OIDC_STORE_ID_TOKEN": False,
        "OIDC_TOKEN_USE_BASIC_AUTH": False,
        "OIDC_ALLOW_UNSECURED_JWT": False,
        "OIDC_VERIFY_KID": True,
        "OIDC_PROXY": None,
    }
    if attr in fixed:
        return fixed[attr]
    resolved = {
        "OIDC_OP_AUTHORIZATION_ENDPOINT": lambda c: c.authorization_endpoint,
        "OIDC_OP_TOKEN_ENDPOINT": lambda c: c.token_endpoint,
        "OIDC_OP_USER_ENDPOINT": lambda c: c.userinfo_endpoint,
        "OIDC_OP_JWKS_ENDPOINT": lambda c: c.jwks_endpoint,
        "OIDC_RP_CLIENT_ID": lambda c: c.client_id,
        "OIDC_RP_CLIENT_SECRET": lambda c: c.client_secret,
        "OIDC_RP_SIGN_ALGO": lambda c: c.sign_algo,
        "OIDC_RP_SCOPES": lambda c: c.scopes,
        "OIDC_TIMEOUT": lambda c: c.timeout,
    }
    if attr in resolved:
        return resolved[attr](sso_config())
    return getattr(settings, attr, *default) if default else getattr(settings, attr)
