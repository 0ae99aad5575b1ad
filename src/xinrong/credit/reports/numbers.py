"""Credit report numbers (XR + date + random) and SM3 digests as people type them."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from xinrong.common.errors import ApplicationError, NotFoundError

SHANGHAI = ZoneInfo("Asia/Shanghai")


# Crockford's base32: no I, L, O or U, so a number read aloud or retyped stays unambiguous.
NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
NUMBER_RANDOM_CHARS = 10  # 50 random bits: numbers cannot be guessed or enumerated
NUMBER_PREFIX = "XR"
_NUMBER_RE = re.compile(r"^XR(\d{8})([0-9A-HJKMNP-TV-Z]{10})$")
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SM3_RE = re.compile(r"^[0-9a-f]{64}$")


def new_number(at: dt.datetime) -> str:
    """Return a fresh report number: XR + date (Beijing time) + 10 random base32 characters."""
    day = at.astimezone(SHANGHAI).strftime("%Y%m%d")
    tail = "".join(secrets.choice(NUMBER_ALPHABET) for _i in range(NUMBER_RANDOM_CHARS))
    return f"{NUMBER_PREFIX}{day}{tail}"


def normalise_number(text: str) -> str:
    """Return the canonical form of a typed report number or raise NotFoundError (404).

    Spaces, hyphens and case are ignored; O is read as 0 and I, L as 1 in the random part.
    """
    compact = re.sub(r"[\s\-]", "", text or "").upper()
    if len(compact) == 20 and compact.startswith(NUMBER_PREFIX):
        compact = compact[:10] + compact[10:].translate(_READ_AS)
    match = _NUMBER_RE.match(compact)
    valid_day = False
    if match:
        try:
            dt.datetime.strptime(match.group(1), "%Y%m%d")
            valid_day = True
        except ValueError:
            valid_day = False
    if not (match and valid_day):
        raise NotFoundError(
            "report_number_invalid",
            _(
                "报告编号“%(n)s”格式不正确：应为 XR + 8位日期 + 10位字母或数字，共20位，"
                "见报告每页页脚"
            )
            % {"n": (text or "")[:40]},
            {"field": "number"},
        )
    return compact


def normalise_digest(text: str) -> str:
    """Return a pasted SM3 digest as 64 lower-case hex characters or raise (422)."""
    compact = re.sub(r"[\s:\-]", "", text or "").lower()
    if not _SM3_RE.match(compact):
        raise ApplicationError(
            "invalid_digest",
            _("SM3 摘要应为64位十六进制字符（0-9、a-f），实际为%(n)d位") % {"n": len(compact)},
            {"field": "digest"},
            status=422,
        )
    return compact
