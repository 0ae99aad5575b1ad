"""Structured logs: one JSON object per line, and an access log of every request.

``XINRONG_LOG_FORMAT=json`` (settings) sends every log record through :class:`JsonLinesFormatter`:
``time`` (ISO 8601 in Beijing time, ``+08:00``), ``level``, ``logger``, ``message``,
``request_id`` (:class:`xinrong.common.requestid.RequestIdFilter`) and, on the access log
(logger ``xinrong.access``), ``method``, ``path``, ``status``, ``duration_ms`` and ``user_id``.
Query strings are never logged (they may carry search terms such as a name or an ID number).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse

BEIJING = ZoneInfo("Asia/Shanghai")
ACCESS_LOGGER = "xinrong.access"
# Extra attributes of a record copied into the JSON object when present.
FIELDS = ("request_id", "method", "path", "status", "duration_ms", "user_id")

access_logger = logging.getLogger(ACCESS_LOGGER)


class JsonLinesFormatter(logging.Formatter):
    """Format a record as one line of JSON (non-ASCII kept readable, newlines escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = dt.datetime.fromtimestamp(record.created, tz=BEIJING)
        data: dict[str, object] = {
            "time": stamp.isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in FIELDS:
            value = getattr(record, field, None)
            if value is not None and value != "":
                data[field] = value
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


class AccessLogMiddleware:
    """Log one line per request on ``xinrong.access``: method, path, status, duration, user."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.monotonic()
        response = self.get_response(request)
        duration_ms = round((time.monotonic() - started) * 1000, 1)
        user = getattr(request, "user", None)
        user_id = user.pk if user is not None and user.is_authenticated else None
        access_logger.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": duration_ms,
                "user_id": user_id,
            },
        )
        return response
