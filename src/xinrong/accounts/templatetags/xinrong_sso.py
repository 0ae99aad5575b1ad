"""Template tags of unified sign-on: whether to offer the sign-on button."""

from __future__ import annotations

from django import template

from xinrong.accounts.sso.config import sso_enabled as _sso_enabled

register = template.Library()


@register.simple_tag
def sso_enabled() -> bool:
    """Return True when unified sign-on is configured."""
    return _sso_enabled()
