"""Checks of common input: phone numbers and usernames, with Chinese messages naming the rule.

Used by forms (``forms.CharField(validators=[...])``) and services alike; each message names the
field and the rule, so a clerk knows what to type.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MOBILE_RE = re.compile(r"1[3-9]\d{9}")
LANDLINE_RE = re.compile(r"0\d{2,3}-?\d{7,8}(?:-\d{1,6})?")
USERNAME_RE = re.compile(r"[A-Za-z0-9_.\-]{3,30}")
USERNAME_MIN, USERNAME_MAX = 3, 30


def phone_normalise(value: str) -> str:
    """Return the phone as stored: spaces dropped, a mobile's +86 prefix removed."""
    text = re.sub(r"[\s\u3000]", "", value or "").replace("（", "(").replace("）", ")")
    text = re.sub(r"^\((0\d{2,3})\)", r"\1-", text)  # (0971)1234567 → 0971-1234567
    if re.fullmatch(r"(?:\+?86)1[3-9]\d{9}", text):
        text = text[-11:]
    return text


def validate_phone(value: str, *, label: str = "") -> str:
    """Return the normalised phone, or raise naming the rule (mobile, or landline with code)."""
    text = phone_normalise(value)
    if not text:
        return ""
    if MOBILE_RE.fullmatch(text) or LANDLINE_RE.fullmatch(text):
        return text
    raise ValidationError(
        _(
            "%(field)s“%(value)s”格式不正确：应为以 1 开头的 11 位手机号（如 13800001111），"
            "或带区号的固定电话（如 0971-1234567）"
        )
        % {"field": label or _("手机号"), "value": value.strip()[:30]},
        code="invalid_phone",
    )


def validate_username(value: str, *, label: str = "") -> str:
    """Return the username, or raise naming the rule (letters, digits, ``_ . -``; 3–30)."""
    text = (value or "").strip()
    if USERNAME_RE.fullmatch(text):
        return text
    raise ValidationError(
        _(
            "%(field)s“%(value)s”不符合规则：只能使用英文字母、数字、下划线（_）、点（.）"
            "和连字符（-），长度 %(min)s–%(max)s 位"
        )
        % {
            "field": label or _("用户名"),
            "value": text[:40],
            "min": USERNAME_MIN,
            "max": USERNAME_MAX,
        },
        code="invalid_username",
    )
