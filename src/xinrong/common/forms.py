"""Bridge between service errors and Django forms."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.forms.renderers import DjangoTemplates

from xinrong.common.errors import error_payload


def add_service_error(form: forms.Form, exc: Exception) -> None:
    """Attach a service error to the form field it names, or to the form as a whole.

    A ValidationError naming several fields puts each field's messages on that field.
    """
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict") and len(exc.error_dict) > 1:
        for name, errors in exc.error_dict.items():
            message = "；".join(m for e in errors for m in e.messages)
            form.add_error(name if name in form.fields else None, message)
        return
    _status, body = error_payload(exc)
    field = body["extra"].get("field")
    form.add_error(field if field in form.fields else None, body["message"])


class FormRenderer(DjangoTemplates):
    """Render ``{{ form }}`` and ``{{ field.as_field_group }}`` with the one template set.

    The same templates are included by hand as ``web/_form.html`` and ``web/_field.html``: every
    error of a form shown at once with the field's label, each field with Bootstrap's classes.
    """

    form_template_name = "web/_form.html"
    field_template_name = "web/_field.html"


class DateInput(forms.DateInput):
    """A browser date picker whose value is always ISO ``YYYY-MM-DD``.

    ``<input type="date">`` accepts only ISO dates; Django's default renders the localised format
    ("2026年12月6日" in Chinese), which the browser silently drops: the field looks filled and
    submits empty. Every form with a date field uses this widget.
    """

    input_type = "date"

    def __init__(self, attrs: dict[str, str] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")
