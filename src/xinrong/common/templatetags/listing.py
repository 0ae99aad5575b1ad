"""Template filters of the list toolkit: figures with thousands separators in every locale.

The zh-hans locale of Django has no thousands separator (``floatformat:"2g"`` prints
``45800000.00``); lists, totals and cards show ``45,800,000.00`` whatever the language. Amounts
with their unit ("1,000.00 元" / "CNY 1,000.00") are ``{% load money %}``'s ``money``.
"""

from __future__ import annotations

from typing import Any

from django import template

from xinrong.common.templatetags.money import to_decimal

register = template.Library()


@register.filter
def figure(value: Any, places: int = 2) -> str:
    """Return a figure (an amount under a header that names its unit) with thousands separators
    and ``places`` decimals ("" if not a number); ``money`` (``{% load money %}``) adds the unit.
    """
    number = to_decimal(value)
    if number is None:
        return ""
    return f"{number:,.{int(places)}f}"


@register.filter
def count(value: Any) -> str:
    """Return a whole number with thousands separators."""
    number = to_decimal(value)
    if number is None:
        return ""
    return f"{number:,.0f}"


@register.filter
def division_name(code: Any) -> str:
    """Return a division's full name ("青海省西宁市城东区"), or the code if it is unknown."""
    from xinrong.reference import divisions

    text = str(code or "")
    return divisions.full_name(text) or text
