"""Two-factor login: until a logged-in user has given its second factor, only that step is open."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from xinrong.accounts import signing

# Session key of the login's second-factor state: "verified" once the code was given (or none is
# owed: "none"); "verify" or "enrol" while it is owed. A new login starts a new session.
SESSION_KEY = "xinrong_second_factor"
VERIFIED = "verified"


def session_verified(request: HttpRequest) -> None:
    """Mark this login as having given its second factor."""
    request.session[SESSION_KEY] = VERIFIED


def session_state(request: HttpRequest, user: Any) -> str:
    """This login's second-factor state, worked out once per login and kept in the session."""
    state = request.session.get(SESSION_KEY)
    if state is None:
        from xinrong.accounts.services.twofactor import second_factor_state

        state = second_factor_state(user)
        request.session[SESSION_KEY] = state
    return str(state)


def second_factor_owed(request: HttpRequest) -> bool:
    """True while this login still owes its second factor (the menu stays hidden meanwhile)."""
    return request.session.get(SESSION_KEY) in ("verify", "enrol")


class SecondFactorRequiredMiddleware:
    """Lead a logged-in user who owes a code to the second step, or to enrolment.

    Every page except those steps, logging out and static files redirects there; the JSON API,
    when called with this session, answers 401 ``second_factor_required``. API-key requests carry
    no session and are not affected. The state is computed once per login and kept in the session.
    """

    ALLOWED = (
        "/accounts/two-factor/verify/",
        "/accounts/two-factor/enrol/",
        "/accounts/logout/",
        "/static/",
        "/i18n/",
    )

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or request.path.startswith(self.ALLOWED):
            return self.get_response(request)
        state = session_state(request, user)
        if state in (VERIFIED, "none"):
            return self.get_response(request)
        if request.path.startswith("/api/") and (
            "X-API-Key" in request.headers or signing.HEADER_SIGNATURE in request.headers
        ):
            return self.get_response(request)  # an API key is its own credential
        if request.path.startswith("/api/"):
            return JsonResponse(
                {
                    "code": "second_factor_required",
                    "message": _("请先在平台页面完成两步验证（输入验证器应用中的动态验证码）"),
                    "extra": {},
                },
                status=401,
                json_dumps_params={"ensure_ascii": False},
            )
        target = reverse(
            "accounts:second_factor_verify" if state == "verify" else "accounts:second_factor_enrol"
        )
        if request.method == "GET" and request.path != "/":
            target += "?" + urlencode({"next": request.get_full_path()})
        return redirect(target)
