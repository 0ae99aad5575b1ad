"""Request ids: one id per request, in the response, in every log line and in the audit trail.

An id arriving in ``X-Request-ID`` from the reverse proxy (nginx's ``$request_id``) is kept when it
is a plain token, so the proxy's access log and the platform's logs share it; otherwise a new one
is drawn. Code without the request at hand reads it with :func:`current_request_id`.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
_TOKEN = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_current: ContextVar[str] = ContextVar("xinrong_request_id", default="")


def current_request_id() -> str:
    """The id of the request being handled on this thread or task ("" outside a request)."""
    return _current.get()


def new_request_id(incoming: str = "") -> str:
    """Keep a well-formed incoming id, else draw a new one (32 hex digits)."""
    if incoming and _TOKEN.match(incoming):
        return incoming
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Give each request an id, expose it as ``request.request_id`` and in the response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rid = new_request_id(request.headers.get(HEADER, ""))
        request.request_id = rid  # type: ignore[attr-defined]
        token = _current.set(rid)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response.headers[HEADER] = rid
        return response


class RequestIdFilter(logging.Filter):
    """Add ``request_id`` to every log record (empty outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = _current.get()
        return True
