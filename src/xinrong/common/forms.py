"""Bridge between service errors and Django forms."""

from __future__ import annotations

from django import forms

from xinrong.common.errors import ApplicationError


def add_service_error(form: forms.Form, exc: ApplicationError) -> None:
    """Attach a service error to the form field it names, or to the form as a whole."""
    field = exc.extra.get("field")
    form.add_error(field if field in form.fields else None, exc.message)
