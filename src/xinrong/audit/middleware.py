"""Record every download in the audit trail: no export can be forgotten by its view."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

from xinrong.audit.services import audit_record

_FILENAME = re.compile(r"filename\*?=(?:UTF-8'')?\"?([^\";]+)\"?", re.IGNORECASE)


def _source_ip(request: HttpRequest) -> str:
    """The client's address as accounts.auth.request_source reads it (trusted proxy hops)."""
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


class ExportAuditMiddleware:
    """Append an ``export`` entry for each successful response sent as an attachment."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        disposition = response.get("Content-Disposition", "") or ""
        if response.status_code == 200 and disposition.lower().startswith("attachment"):
            match = _FILENAME.search(disposition)
            audit_record(
                category="export",
                action="download",
                actor=getattr(request, "user", None),
                target_type="url",
                target_id=request.resolver_match.view_name[:64] if request.resolver_match else "",
                target_label=request.path,
                source_ip=_source_ip(request),
                details={
                    "filename": match.group(1) if match else "",
                    "query": request.META.get("QUERY_STRING", "")[:500],
                },
            )
        return response
