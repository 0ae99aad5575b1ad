"""Parse object ids out of request data (query strings, posted forms) without surprises.

``str.isdigit()`` accepts "²" and other Unicode digits that ``int()`` rejects, and ``int()``
accepts ids far beyond the database's integer range (the lookup then raises OverflowError). Both
ended as 500s; every id taken from a request goes through this module instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from xinrong.common.errors import NotFoundError

# 1–18 ASCII digits: always within a signed 64-bit integer (BigAutoField, PostgreSQL bigint,
# SQLite INTEGER), so the lookup never overflows.
_ID = re.compile(r"[0-9]{1,18}")
MAX_ID = 2**63 - 1


def id_parse(value: object) -> int | None:
    """Return the id in ``value`` (1–18 ASCII digits, surrounding spaces allowed), else None."""
    if not isinstance(value, str):
        return None
    text = value.strip(" \t")
    if _ID.fullmatch(text) is None:
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def id_or_404(value: object, *, message: str) -> int:
    """Return the id in a path or query value, or raise NotFoundError(message)."""
    number = id_parse(value)
    if number is None:
        raise NotFoundError("not_found", message)
    return number


def ids_parse(values: Iterable[object], *, field: str, label: str) -> list[int]:
    """Return the ids of a posted or queried list, or raise ValidationError naming ``field``."""
    ids: list[int] = []
    for value in values:
        number = id_parse(value)
        if number is None:
            raise ValidationError(
                {
                    field: _("%(label)s“%(v)s”无效：应为 1–18 位数字")
                    % {"label": label, "v": str(value)[:40]}
                },
                code="invalid",
            )
        ids.append(number)
    return ids
