"""Language selection: Chinese unless the user chose another language explicitly."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils import translation
from django.utils.translation import gettext as _

from xinrong.common.errors import SERVICE_ERRORS
from xinrong.common.http import error_page


class ExplicitLanguageMiddleware:
    """Activate the language from the language cookie or ``?lang=``, else ``LANGUAGE_CODE``.

    Browsers' Accept-Language is ignored on purpose: government PCs often run English
    systems while their users expect the Chinese UI (the issue asks for zh-hans by default).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        lang = request.GET.get("lang") or request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if lang not in self.supported:
            lang = settings.LANGUAGE_CODE
        translation.activate(lang)
        request.LANGUAGE_CODE = lang
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", lang)
        return response


class PermissionsPolicyMiddleware:
    """Send ``Permissions-Policy``: the platform uses no camera, microphone, location, payment…

    The features and their allow-lists come from ``PERMISSIONS_POLICY`` (feature → list of
    origins; an empty list turns the feature off for every origin, ``self`` included).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        policy: dict[str, list[str]] = getattr(settings, "PERMISSIONS_POLICY", {})
        self.header = ", ".join(
            f"{feature}=({' '.join(origins)})" for feature, origins in policy.items()
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.header:
            response.headers.setdefault("Permissions-Policy", self.header)
        return response


class PasswordChangeRequiredMiddleware:
    """Send a login opened with someone else's one-time password to change it first.

    Until it does, every page except the password page, logging out and static files redirects
    there, and the JSON API answers 403 ``password_change_required``.
    """

    ALLOWED = (
        "/accounts/password/",
        "/accounts/logout/",
        # the second factor comes first: its steps, not the rest of the security page
        "/accounts/two-factor/verify/",
        "/accounts/two-factor/enrol/",
        "/accounts/two-factor/recovery-codes/",
        "/static/",
        "/i18n/",
    )

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and getattr(user, "must_change_password", False)
            and not request.path.startswith(self.ALLOWED)
        ):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {
                        "code": "password_change_required",
                        "message": _("请先在平台页面修改一次性初始密码"),
                        "extra": {},
                    },
                    status=403,
                    json_dumps_params={"ensure_ascii": False},
                )
            return redirect("accounts:password_change")
        return self.get_response(request)


class ApplicationErrorMiddleware:
    """Show a service error a page view let through as the error page, with its 4xx status.

    A view need not wrap its service calls in ``try … except ApplicationError: return
    error_page(…)``: an ``ApplicationError`` (NotFoundError → 404, PermissionDeniedError → 403,
    ConflictError → 409, others their ``status``) or a Django ``ValidationError`` (422) raised by a
    page renders ``web/error.html`` with its Chinese message. The JSON API (``/api/``) keeps its
    own handlers; any other exception is left to Django (a 500 is a bug to fix, not to hide).
    Being last in MIDDLEWARE, it sees the exception first; an atomic view has already rolled back.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, SERVICE_ERRORS) or request.path.startswith("/api/"):
            return None
        return error_page(request, exception)
