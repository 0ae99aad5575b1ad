"""The two pages of unified sign-on: start (to the provider) and callback (back from it)."""

from __future__ import annotations

from typing import Any

from django.contrib import auth
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

from xinrong.accounts.auth import request_source
from xinrong.accounts.models import SecurityAction
from xinrong.accounts.services.security import security_event_record
from xinrong.accounts.sso.backend import generic_refusal
from xinrong.accounts.sso.config import (
    SsoUnavailableError,
    oidc_setting,
    sso_config,
    sso_enabled,
)


def refusal_page(request: HttpRequest, message: str, status: int = 403) -> HttpResponse:
    """Render the Chinese page of a sign-on that did not happen, with the ways forward."""
    return render(request, "accounts/sso/refused.html", {"message": message}, status=status)


def _failure_record(request: HttpRequest, reason: str, detail: str = "") -> None:
    ip, agent = request_source(request)
    details = {"reason": reason}
    if detail:
        details["detail"] = detail[:300]
    security_event_record(
        action=SecurityAction.SSO_FAILURE, details=details, source_ip=ip, user_agent=agent
    )


class SsoStartView(OIDCAuthenticationRequestView):  # type: ignore[misc]
    """Send the browser to the provider (authorization code + PKCE, state and nonce)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # mozilla reads the endpoint here; ours is resolved per request (discovery may fail)
        super(OIDCAuthenticationRequestView, self).__init__(*args, **kwargs)

    @staticmethod
    def get_settings(attr: str, *args: Any) -> Any:
        return oidc_setting(attr, *args)

    def get(self, request: HttpRequest) -> HttpResponseBase:
        if not sso_enabled():
            raise Http404
        try:
            config = sso_config()
        except SsoUnavailableError as exc:
            _failure_record(request, "provider_unavailable", str(exc))
            return refusal_page(request, generic_refusal(), status=503)
        self.OIDC_OP_AUTH_ENDPOINT = config.authorization_endpoint
        self.OIDC_RP_CLIENT_ID = config.client_id
        response: HttpResponseBase = super().get(request)
        return response


class SsoCallbackView(OIDCAuthenticationCallbackView):  # type: ignore[misc]
    """Finish the sign-on; a refusal gets the Chinese page saying why and what to do."""

    @staticmethod
    def get_settings(attr: str, *args: Any) -> Any:
        return oidc_setting(attr, *args)

    def get(self, request: HttpRequest) -> HttpResponseBase:
        if not sso_enabled():
            raise Http404
        if request.GET.get("error"):
            _failure_record(request, "provider_error", str(request.GET.get("error")))
        try:
            response: HttpResponseBase = super().get(request)
        except SuspiciousOperation as exc:  # state not issued by this browser's session
            _failure_record(request, "state_mismatch", str(exc))
            return refusal_page(request, generic_refusal(), status=400)
        return response

    def login_failure(self) -> HttpResponse:
        message = getattr(self.request, "sso_refusal", "") or generic_refusal()
        if self.request.user.is_authenticated:
            auth.logout(self.request)
        return refusal_page(self.request, message)


sso_start = login_not_required(SsoStartView.as_view())
sso_callback = login_not_required(SsoCallbackView.as_view())
