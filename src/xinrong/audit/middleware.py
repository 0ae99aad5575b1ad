"""Record every download in the audit trail: no export can be forgotten by its view."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

from xinrong.audit.services import audit_record
from xinrong.common.http import client_address

_FILENAME = re.compile(r"filename\*?=(?:UTF-8'')?\"?([^\";]+)\"?", re.IGNORECASE)


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
                source_ip=client_address(request),
                details={
                    "filename": match.group(1) if match else "",
                    "query": request.META.get("QUERY_STRING", "")[:500],
                },
            )
        return response
