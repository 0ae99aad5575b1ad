"""Citizen identity numbers (GB 11643-1999): 18 characters with an ISO 7064 MOD 11-2 check."""

from __future__ import annotations

import datetime as dt
import random

from django.utils.translation import gettext as _

from xinrong.reference.errors import ReferenceDataError

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def check_character(first17: str) -> str:
    """Return the check character for the first 17 digits."""
    total = sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def normalize(raw: str) -> str:
    """Strip blanks and upper-case a trailing x."""
    return raw.strip().replace(" ", "").upper()


def validate(raw: str, *, field: str = "id_number") -> str:
    """Return the normalised ID number or raise ReferenceDataError naming the fault."""
    value = normalize(raw)
    if len(value) != 18:
        raise ReferenceDataError(
            "id_number_length",
            _("身份证号码应为18位，实际为%(n)d位") % {"n": len(value)},
            {"field": field},
            status=422,
        )
    if not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        raise ReferenceDataError(
            "id_number_char",
            _("身份证号码前17位必须是数字，第18位为数字或X"),
            {"field": field},
            status=422,
        )
    try:
        dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError as exc:
        raise ReferenceDataError(
            "id_number_birth_date",
            _("身份证号码中的出生日期 %(d)s 不是有效日期") % {"d": value[6:14]},
            {"field": field},
            status=422,
        ) from exc
    expected = check_character(value[:17])
    if value[17] != expected:
        raise ReferenceDataError(
            "id_number_check",
            _("身份证号码校验位错误：应为 %(e)s，实际为 %(f)s") % {"e": expected, "f": value[17]},
            {"field": field, "expected": expected, "found": value[17]},
            status=422,
        )
    return value


def generate(rng: random.Random, *, division_code: str, birth: dt.date) -> str:
    """Return a valid ID number for a person born on ``birth`` registered in ``division_code``."""
    body = f"{division_code[:6]}{birth:%Y%m%d}{rng.randrange(1000):03d}"
    return body + check_character(body)
