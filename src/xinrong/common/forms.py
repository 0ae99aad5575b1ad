"""Bridge between service errors and Django forms."""

from __future__ import annotations

from django import forms

from xinrong.common.errors import error_payload


def add_service_error(form: forms.Form, exc: Exception) -> None:
    """Attach a service error to the form field it names, or to the form as a whole."""
    _status, body = error_payload(exc)
    field = body["extra"].get("field")
    form.add_error(field if field in form.fields else None, body["message"])
