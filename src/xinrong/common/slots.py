"""Extension points (slots): a lower app's page shows panels that upper apps register.

The layering forbids marketplace (L5) to import riskfund (L6); yet the lender's application page
must say whether the loan would be covered by the risk fund. The lower page names a slot in its
template (``{% slot "marketplace.application_detail" app %}``); an upper app registers a
renderer for it when it starts (``AppConfig.ready``). A renderer gets the request and the object
and returns HTML (or "" to show nothing); it asks the permission layer itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe

Renderer = Callable[[HttpRequest, Any], str]

_SLOTS: dict[str, dict[str, Renderer]] = {}


def slot_register(name: str, key: str, renderer: Renderer) -> None:
    """Register ``renderer`` under ``key`` for slot ``name`` (registering a key again replaces)."""
    _SLOTS.setdefault(name, {})[key] = renderer


def slot_renderers(name: str) -> list[Renderer]:
    """The renderers of slot ``name``, in the order they were registered."""
    return list(_SLOTS.get(name, {}).values())


def slot_render(name: str, request: HttpRequest, obj: Any) -> SafeString:
    """Render every panel of slot ``name`` for ``obj``, joined."""
    parts = [r(request, obj) for r in slot_renderers(name)]
    return format_html_join("", "{}", ((mark_safe(p),) for p in parts if p))  # noqa: S308 — renderers return template output
