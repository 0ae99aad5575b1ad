"""Helpers the case selectors share (disputes, repair): id lists and case scopes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from xinrong.accounts.models import User
from xinrong.common.access import scope_q
from xinrong.common.errors import PermissionDeniedError

_ID_CHUNK = 5000  # ids per IN (...) list: within SQLite's parameter limit
_MAX_ID = 2**63 - 1  # a larger id cannot exist (64-bit keys); refuse it before the database


def valid_id(pk: int) -> bool:
    return 0 < pk <= _MAX_ID


def chunked(ids: Iterable[int]) -> Iterator[list[int]]:
    unique = sorted(set(ids))
    for start in range(0, len(unique), _ID_CHUNK):
        yield unique[start : start + _ID_CHUNK]


def case_scope(user: User, qs: QuerySet[Any]) -> QuerySet[Any]:
    """Limit disputes or repair applications to what the user may see.

    The enterprise sees its own; a department's data provider those about its sources; the
    operator's admins and auditors all (a sub-station: its region). Others see nothing.
    """
    q = scope_q(qs.model, user)
    if q is None:
        raise PermissionDeniedError("forbidden", _("您无权查看异议与信用修复"))
    return qs.filter(q)
