"""Template filters of the list toolkit: figures with thousands separators in every locale.

The zh-hans locale of Django has no thousands separator (``floatformat:"2g"`` prints
``45800000.00``); lists, totals and cards show ``45,800,000.00`` whatever the language.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import template

register = template.Library()


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


@register.filter
def money(value: Any, places: int = 2) -> str:
    """Return an amount with thousands separators and ``places`` decimals ("" if not a number)."""
    number = _decimal(value)
    if number is None:
        return ""
    return f"{number:,.{int(places)}f}"


@register.filter
def count(value: Any) -> str:
    """Return a whole number with thousands separators."""
    number = _decimal(value)
    if number is None:
        return ""
    return f"{number:,.0f}"


@register.filter
def division_name(code: Any) -> str:
    """Return a division's full name ("青海省西宁市城东区"), or the code if it is unknown."""
    from xinrong.reference import divisions

    text = str(code or "")
    return divisions.full_name(text) or text
