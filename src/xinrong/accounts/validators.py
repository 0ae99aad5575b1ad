"""Password rules beyond Django's defaults (messages in the platform's language)."""

from __future__ import annotations

import itertools
import re
from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's length rule, with words that are translated in every language.

    Django 5.2 renamed its message (``%d`` for ``%(min_length)d``) and the zh-hans catalogue it
    ships still has only the old one, so the rule read in English in Chinese. The old wording
    is still translated by Django's catalogues (English is its source), so it is used here.
    """

    def get_error_message(self) -> str:
        return ngettext(
            "This password is too short. It must contain at least %(min_length)d character.",
            "This password is too short. It must contain at least %(min_length)d characters.",
            self.min_length,
        ) % {"min_length": self.min_length}

    def get_help_text(self) -> str:
        return ngettext(
            "Your password must contain at least %(min_length)d character.",
            "Your password must contain at least %(min_length)d characters.",
            self.min_length,
        ) % {"min_length": self.min_length}


class CharacterClassValidator:
    """Require letters and digits in a password (common rule of Chinese financial systems)."""

    def validate(self, password: str, user: Any = None) -> None:
        if not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
            raise ValidationError(
                _("密码必须同时包含字母和数字。"), code="password_character_classes"
            )

    def get_help_text(self) -> str:
        return _("密码必须同时包含字母和数字。")


# Words an attacker tries first with a year or a number: the platform's own names, and the
# handful of words every guessing list starts with (Django's CommonPasswordValidator has the
# whole passwords; these catch them with any digits appended).
GUESS_WORDS = frozenset(
    {
        "xinrong",
        "xinyirong",
        "qingxinrong",
        "xinyidai",
        "password",
        "passwd",
        "admin",
        "administrator",
        "root",
        "qwerty",
        "welcome",
        "woaini",
        "iloveyou",
        "abc",
        "test",
        "user",
        "bank",
        "china",
    }
)
KEYBOARD_ROWS = ("`1234567890-=", "qwertyuiop[]\\", "asdfghjkl;'", "zxcvbnm,./")
MIN_DISTINCT = 5


def _adjacent(a: str, b: str) -> bool:
    """Return True if b follows a in the alphabet, the digits or a keyboard row (either way)."""
    if abs(ord(a) - ord(b)) == 1 and a.isalnum() and b.isalnum():
        return True
    return any(
        (i := row.find(a)) >= 0 and (j := row.find(b)) >= 0 and abs(i - j) == 1
        for row in KEYBOARD_ROWS
    )


def _runs(text: str) -> int:
    """Return into how many runs of sequence or keyboard-adjacent characters ``text`` splits."""
    if not text:
        return 0
    runs = 1
    for a, b in itertools.pairwise(text):
        if not _adjacent(a, b):
            runs += 1
    return runs


def guessable_reason(password: str) -> str | None:
    """Return why a password is guessable, in words, or None if no rule catches it."""
    text = password.lower()
    if re.fullmatch(r"(.+?)\1+", text):
        return _("密码由同一片段重复组成（如 Aa1Aa1Aa1）")
    counts = {ch: text.count(ch) for ch in set(text)}
    if len(counts) < MIN_DISTINCT or max(counts.values()) * 2 > len(text):
        return _("密码中不同的字符太少，或同一字符出现过多（如 1111111111a）")
    if _runs(text) <= 2 or (_runs(text[::2]) == 1 and _runs(text[1::2]) == 1):
        return _("密码由连续或键盘相邻的字符组成（如 abcdef123456、qwerty123）")
    letters = re.sub(r"[^a-z]", "", text)
    rest = re.sub(r"[a-z]", "", text)
    if letters in GUESS_WORDS and re.fullmatch(r"[\d\W_]*", rest):
        return _("密码是常见单词或平台名称加数字、年份（如 xinrong2026）")
    return None


class GuessablePasswordValidator:
    """Refuse passwords built by the patterns guessers try first: repeats, runs, name + year."""

    def validate(self, password: str, user: Any = None) -> None:
        reason = guessable_reason(password)
        if reason is not None:
            raise ValidationError(
                _("密码过于容易猜测：%(reason)s。请使用无规律的字母、数字和符号组合。")
                % {"reason": reason},
                code="password_guessable",
            )

    def get_help_text(self) -> str:
        return _("密码不能是重复片段、连续或键盘相邻字符，也不能是平台名称、常见单词加数字或年份。")
