"""Restricted querysets: ``Model.objects.restrict(user, action)`` returns the rows a user may see.

NetBox's ``RestrictedQuerySet.restrict()`` is the model. Each app registers, for its models, how a
user's visible rows are found (``register_scope``), from the permission layer's predicates and its
region scope (``xinrong.accounts.permissions``); selectors call ``restrict``. A model without a
registered scope for an action refuses to answer rather than return everything (fail closed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models import Q

M = TypeVar("M", bound=models.Model)
# A scope returns the filter of the rows a user may see, or None when it may see none.
Scope = Callable[[Any], Q | None]

_SCOPES: dict[tuple[str, str], Scope] = {}


def register_scope(model: type[models.Model], action: str = "view") -> Callable[[Scope], Scope]:
    """Register how the rows of ``model`` that a user may ``action`` are found."""

    def decorator(fn: Scope) -> Scope:
        key = (model._meta.label_lower, action)
        if key in _SCOPES:
            raise ImproperlyConfigured(f"scope {key} registered twice")
        _SCOPES[key] = fn
        return fn

    return decorator


def scope_q(model: type[models.Model], user: Any, action: str = "view") -> Q | None:
    """Return the filter of ``model`` rows ``user`` may ``action`` (None: none of them)."""
    try:
        fn = _SCOPES[(model._meta.label_lower, action)]
    except KeyError:
        raise ImproperlyConfigured(
            f"no scope registered for {model._meta.label_lower} / {action}"
        ) from None
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return fn(user)


def registered_scopes() -> list[tuple[str, str]]:
    """Return the (model, action) pairs that have a scope (for the docs and tests)."""
    return sorted(_SCOPES)


class RestrictedQuerySet(models.QuerySet[M], Generic[M]):
    """A queryset that can be confined to what a user may see."""

    def restrict(self, user: Any, action: str = "view") -> RestrictedQuerySet[M]:
        """Return only the rows ``user`` may ``action``."""
        q = scope_q(self.model, user, action)
        if q is None:
            return self.none()
        return self.filter(q)
