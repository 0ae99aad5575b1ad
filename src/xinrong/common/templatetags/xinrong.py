"""Template helpers shared by all apps (``{% load xinrong %}``)."""

from __future__ import annotations

from typing import Any

from django import template
from django.db import models
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from xinrong.common.choices import choices_of_field, colour_of

register = template.Library()


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """Return ``mapping[key]`` or "" (for dicts looked up with a variable key)."""
    try:
        return mapping.get(key, "")
    except AttributeError:
        return ""


def _label(choices: Any, value: Any) -> str:
    """Return the Chinese label of ``value`` in ``choices`` (the value itself if unknown)."""
    try:
        return str(choices(value).label)
    except (TypeError, ValueError):
        return str(value)


@register.simple_tag
def status_badge(subject: Any, of: Any = None, *, id: str = "", css: str = "") -> SafeString:
    """Draw a status as a coloured badge with its label; the colour comes from the choices.

    ``{% status_badge application "status" %}`` reads the model's field (label from
    ``get_status_display``); ``{% status_badge value Choices %}`` takes a value and the choices
    class (in the context). ``id`` and ``css`` (extra classes, e.g. ``fs-6``) are optional.
    The badge carries ``data-status`` with the stored value for tests and scripts.
    """
    if isinstance(subject, models.Model) and isinstance(of, str):
        value = getattr(subject, of)
        choices = choices_of_field(type(subject), of)
        label = str(getattr(subject, f"get_{of}_display")())
    else:
        value, choices = subject, of
        label = _label(choices, value) if choices is not None else str(value)
    value = getattr(value, "value", value)
    if value in (None, ""):
        return mark_safe('<span class="text-secondary">—</span>')
    colour = colour_of(choices, value)
    classes = f"badge text-bg-{colour}" + (" border" if colour == "light" else "")
    if css:
        classes += f" {css}"
    if id:
        return format_html(
            '<span class="{}" id="{}" data-status="{}">{}</span>', classes, id, value, label
        )
    return format_html('<span class="{}" data-status="{}">{}</span>', classes, value, label)
