"""The one error contract: services raise ApplicationError; the API and UI show it."""

from __future__ import annotations

from typing import Any


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
