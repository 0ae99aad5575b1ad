"""Template helpers shared by all apps."""

from typing import Any

from django import template

register = template.Library()


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """Return ``mapping[key]`` or "" (for dicts looked up with a variable key)."""
    try:
        return mapping.get(key, "")
    except AttributeError:
        return ""
