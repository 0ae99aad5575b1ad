"""The one error contract: services raise ApplicationError; the API and UI show it."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError


class ApplicationError(Exception):
    """A business rule was broken: carries a stable code, a human message and details.

    ``extra`` may name the offending ``field`` so API clients and forms can point at it.
    The API maps this to HTTP ``status`` (4xx) with body ``{"code", "message", "extra"}``.
    """

    status: int = 400

    def __init__(
        self,
        code: str,
        message: str,
        extra: dict[str, Any] | None = None,
        *,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = str(message)
        self.extra = dict(extra or {})
        if status is not None:
            self.status = status

    def as_dict(self) -> dict[str, Any]:
        """Return the error body of the API contract."""
        return {"code": self.code, "message": self.message, "extra": self.extra}


class NotFoundError(ApplicationError):
    """The object does not exist or is not visible to the caller."""

    status = 404


class PermissionDeniedError(ApplicationError):
    """The caller's role or object scope does not allow the action."""

    status = 403


class ConflictError(ApplicationError):
    """The request conflicts with existing data (duplicate, wrong state)."""

    status = 409


# What services may raise for bad input: our own errors and Django's field errors (which the
# reference data's errors build on). Views catch these and show the message; the API maps them.
SERVICE_ERRORS: tuple[type[Exception], ...] = (ApplicationError, ValidationError)


def error_payload(exc: Exception) -> tuple[int, dict[str, Any]]:
    """Return (HTTP status, ``{"code", "message", "extra"}``) for a service error."""
    as_dict = getattr(exc, "as_dict", None)
    if callable(as_dict):
        return int(getattr(exc, "status", 400)), as_dict()
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            field, errors = next(iter(exc.error_dict.items()))
            first = errors[0]
            message = "；".join(m for e in errors for m in e.messages)
            code = first.code or "invalid_input"
        else:
            field, message, code = "", "；".join(exc.messages), exc.code or "invalid_input"
        extra: dict[str, Any] = {"field": field} if field and field != "__all__" else {}
        if hasattr(exc, "error_dict") and len(exc.error_dict) > 1:
            # Several fields at once (a typed input's parse): name each, as the API's schema
            # errors do, and say them all in the message.
            extra["errors"] = [
                {"field": name, "message": m, "type": e.code or "invalid_input"}
                for name, errs in exc.error_dict.items()
                for e in errs
                for m in e.messages
            ]
            message = "；".join(e["message"] for e in extra["errors"])
        return 422, {"code": code, "message": message, "extra": extra}
    return 400, {"code": "bad_request", "message": str(exc), "extra": {}}
