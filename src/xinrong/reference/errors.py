"""Errors of reference data (codes from national standards).

``reference`` and ``common`` share layer L0 and may not import each other (ARCHITECTURE.md §2),
so these errors build on Django's ``ValidationError`` — the field-error form CONVENTIONS.md
allows — while offering the same ``code / message / extra / status`` interface as
``common.errors.ApplicationError``. ``common.errors.error_payload`` renders either.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError


class ReferenceDataError(ValidationError):
    """A value does not conform to a national standard; ``extra["field"]`` names the field."""

    status: int = 422

    def __init__(
        self,
        code: str,
        message: str,
        extra: dict[str, Any] | None = None,
        *,
        status: int | None = None,
    ) -> None:
        extra = dict(extra or {})
        field = str(extra.get("field") or "__all__")
        super().__init__({field: [ValidationError(str(message), code=code)]})
        self.code = code
        self.message = str(message)
        self.extra = extra
        if status is not None:
            self.status = status

    def __str__(self) -> str:
        return str(self.message)

    def as_dict(self) -> dict[str, Any]:
        """Return the error body of the API contract."""
        return {"code": self.code, "message": self.message, "extra": self.extra}


class ReferenceNotFoundError(ReferenceDataError):
    """A code is well-formed but names nothing in the reference data."""

    status = 404
