"""Page sizes and the one page helper shared by lists in the UI.

Views call :func:`paginate` and templates include ``web/_pagination.html``, whose links use
Django's ``{% querystring %}`` so a page keeps the list's filters. The API pages with ninja's
``@paginate`` and the same bounds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

T = TypeVar("T")


def page_size_clamp(value: Any, *, default: int = DEFAULT_PAGE_SIZE) -> int:
    """Return ``value`` as a page size between 1 and MAX_PAGE_SIZE (``default`` if unreadable)."""
    try:
        size = int(value)
    except (TypeError, ValueError):
        size = default
    return max(1, min(size, MAX_PAGE_SIZE))


def paginate(
    request: HttpRequest | Mapping[str, Any],
    object_list: QuerySet[Any, T] | Sequence[T],
    *,
    per_page: int = DEFAULT_PAGE_SIZE,
    param: str = "page",
    size_param: str | None = None,
) -> Page[T]:
    """Return the requested page of ``object_list``; never fails on a bad page number.

    ``request`` is the request (its GET is read) or a query mapping. A page number that is not a
    number gives the first page, one past the end the last page (Django's ``get_page``). The page
    size is ``per_page``, or, when ``size_param`` is given, the request's value for it, bounded by
    MAX_PAGE_SIZE. A queryset should be ordered (the selectors order theirs).
    """
    query: Mapping[str, Any] = request.GET if isinstance(request, HttpRequest) else request
    size = page_size_clamp(per_page)
    if size_param and query.get(size_param):
        size = page_size_clamp(query.get(size_param), default=size)
    return Paginator(object_list, size).get_page(query.get(param))
