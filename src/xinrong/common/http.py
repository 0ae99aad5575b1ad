"""HTTP helpers shared by views."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse

# Downloads built from stored data go through xinrong.common.exports (formula escaping, streaming).
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def error_page(request: HttpRequest, exc: Exception) -> HttpResponse:
    """Render a service error as the platform's error page with its 4xx status.

    The page is the one every error shows (the message and the way forward); the top layer
    draws it and names its renderer in ``settings.XINRONG_ERROR_RENDERER`` (the way Django's
    handler404 and CSRF_FAILURE_VIEW name views), so this lowest layer imports nothing above it.
    """
    from django.conf import settings
    from django.utils.module_loading import import_string

    from xinrong.common.errors import error_payload

    render_error = import_string(settings.XINRONG_ERROR_RENDERER)
    status, body = error_payload(exc)
    response: HttpResponse = render_error(
        request, status, body["message"], code=str(body.get("code", ""))
    )
    return response


def attachment_response(
    content: bytes, *, filename: str, fallback: str, content_type: str
) -> HttpResponse:
    """Return a download whose file name may be Chinese (RFC 6266 with RFC 5987 encoding).

    ``fallback`` is the plain-ASCII name for clients that ignore ``filename*``.
    """
    from urllib.parse import quote

    safe = filename.replace("/", "_").replace("\\", "_").replace("\r", "").replace("\n", "")
    ascii_name = fallback.encode("ascii", "ignore").decode().replace('"', "")
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(safe, safe='')}"
    )
    response["Content-Length"] = str(len(content))
    response["Cache-Control"] = "private, no-store"
    return response


def client_address(request: HttpRequest) -> str:
    """The client's address ("" if malformed), for the security record and the audit trail.

    Behind ``XINRONG_TRUSTED_PROXIES`` reverse proxies the address is taken from
    X-Forwarded-For, counting that many hops from the right (the proxies' own entries);
    otherwise REMOTE_ADDR, which a client cannot forge.
    """
    address = request.META.get("REMOTE_ADDR", "") or ""
    hops = int(getattr(settings, "XINRONG_TRUSTED_PROXIES", 0))
    if hops > 0:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [p for p in forwarded if p]
        if len(forwarded) >= hops:
            address = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return ""
