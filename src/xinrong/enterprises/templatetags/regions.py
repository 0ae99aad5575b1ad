"""Region names in templates (``{% load regions %}``)."""

from __future__ import annotations

from typing import Any

from django import template

from xinrong.reference import divisions

register = template.Library()


@register.filter
def division_name(code: Any) -> str:
    """Return a division's full name ("青海省西宁市城东区"), or the code if it is unknown."""
    text = str(code or "")
    return divisions.full_name(text) or text
