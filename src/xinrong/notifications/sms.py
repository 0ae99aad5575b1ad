"""Short messages: a small backend interface (like Django's e-mail backends) and segmenting.

``XINRONG_SMS_BACKEND`` is a class path. The platform ships a console, a file, an in-memory
(tests) and a dummy backend; a real gateway (a province's government SMS platform, a carrier's
or a cloud vendor's API) is a subclass of :class:`BaseSmsBackend` in the deployment's own code,
named by that setting, with its options in ``XINRONG_SMS_OPTIONS``.

A message is cut into segments of at most ``SEGMENT_CHARS`` (70) characters, the length of one
Chinese (UCS-2) short message; a long one carries "(1/2)" marks. The console and file backends
write the phone number masked (138****5678): they stand in for a gateway and are read by people.
"""

from __future__ import annotations

import json
import re
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from xinrong.common.masking import mask_phone

SEGMENT_CHARS = 70

_MOBILE = re.compile(r"^(?:\+?86)?(1[3-9]\d{9})$")
_SEPARATORS = re.compile(r"[\s\-()]")


@dataclass(frozen=True)
class SmsMessage:
    """One short message segment to one mobile number."""

    phone: str
    text: str

    @property
    def phone_masked(self) -> str:
        """Return the number as logs and stand-in backends show it."""
        return mask_phone(self.phone)


def mobile_normalise(value: str | None) -> str:
    """Return a mainland mobile number as 11 digits, or "" when ``value`` is not one."""
    match = _MOBILE.match(_SEPARATORS.sub("", value or ""))
    return match.group(1) if match else ""


def _units(text: str) -> int:
    """Count UTF-16 code units: what a UCS-2 short message is measured in."""
    return len(text.encode("utf-16-le")) // 2


def _cut(text: str, limit: int) -> tuple[str, str]:
    """Split ``text`` after at most ``limit`` UTF-16 units (never inside a character)."""
    used = 0
    for i, char in enumerate(text):
        used += _units(char)
        if used > limit:
            return text[:i], text[i:]
    return text, ""


def _shorten(text: str, capacity: int) -> str:
    """Return ``text`` if it fits ``capacity`` units, else its start ending in "…"."""
    if _units(text) <= capacity:
        return text
    return _cut(text, capacity - 1)[0] + "…"


def sms_segments(text: str, *, limit: int = SEGMENT_CHARS, max_segments: int = 0) -> list[str]:
    """Cut ``text`` into segments of at most ``limit`` characters, marked "(i/n)" when several.

    With ``max_segments`` > 0 a longer text is shortened to fit, ending in "…".
    """
    text = " ".join(text.split())
    if not text or _units(text) <= limit:
        return [text] if text else []
    if max_segments == 1:
        return [_shorten(text, limit)]
    n = 2
    while True:
        if max_segments and n >= max_segments:
            n = max_segments
            text = _shorten(text, (limit - len(f"({n}/{n})")) * n)
        room = limit - len(f"({n}/{n})")
        chunks: list[str] = []
        rest = text
        while rest:
            chunk, rest = _cut(rest, room)
            chunks.append(chunk)
        if len(chunks) <= n:
            return [f"({i}/{len(chunks)}){c}" for i, c in enumerate(chunks, 1)]
        n = len(chunks)


class BaseSmsBackend:
    """Send short messages; a gateway subclass overrides :meth:`send_messages`.

    ``fail_silently`` as in Django's e-mail backends: when true, a failure is swallowed.
    """

    def __init__(self, *, fail_silently: bool = False, **options: Any) -> None:
        self.fail_silently = fail_silently
        self.options = options

    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        """Send the messages; return how many were accepted."""
        raise NotImplementedError("an SMS backend must implement send_messages()")


class ConsoleBackend(BaseSmsBackend):
    """Write messages to standard output (development), the number masked."""

    def __init__(self, *, stream: TextIO | None = None, **options: Any) -> None:
        super().__init__(**options)
        self.stream = stream or sys.stdout
        self._lock = threading.Lock()

    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        with self._lock:
            for m in messages:
                self.stream.write(f"[SMS] {m.phone_masked} {m.text}\n")
            self.stream.flush()
        return len(messages)


class FileBackend(BaseSmsBackend):
    """Append messages as JSON lines to one file per day under ``XINRONG_SMS_FILE_PATH``."""

    def __init__(self, *, file_path: str | Path | None = None, **options: Any) -> None:
        super().__init__(**options)
        self.file_path = Path(file_path or settings.XINRONG_SMS_FILE_PATH)
        self._lock = threading.Lock()

    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        if not messages:
            return 0
        now = timezone.localtime()
        self.file_path.mkdir(parents=True, exist_ok=True)
        target = self.file_path / f"sms-{now:%Y%m%d}.jsonl"
        lines = [
            json.dumps(
                {"at": now.isoformat(), "phone": m.phone_masked, "text": m.text},
                ensure_ascii=False,
            )
            for m in messages
        ]
        with self._lock, target.open("a", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
        return len(messages)


outbox: list[SmsMessage] = []


class LocmemBackend(BaseSmsBackend):
    """Keep messages in :data:`outbox` (tests), like Django's locmem e-mail backend."""

    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        outbox.extend(messages)
        return len(messages)


class DummyBackend(BaseSmsBackend):
    """Send nothing."""

    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        return len(messages)


def sms_backend(path: str | None = None, **options: Any) -> BaseSmsBackend:
    """Return an instance of the configured SMS backend (``XINRONG_SMS_BACKEND``)."""
    cls = import_string(path or settings.XINRONG_SMS_BACKEND)
    merged = {**getattr(settings, "XINRONG_SMS_OPTIONS", {}), **options}
    backend: BaseSmsBackend = cls(**merged)
    return backend
