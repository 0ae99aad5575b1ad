"""The bounds of a delivery, read from settings (see docs/security.md)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

MB = 1024 * 1024


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def xlsx_max_uncompressed() -> int:
    """Bytes all members of an XLSX may expand to (a zip bomb is refused before it is parsed)."""
    return _setting("XINRONG_XLSX_MAX_UNCOMPRESSED_BYTES", 100 * MB)


def max_rows() -> int:
    """Rows (after the header, empty ones included) one batch may have."""
    return _setting("XINRONG_INGEST_MAX_ROWS", 2_000_000)


def stored_errors() -> int:
    """Row errors stored per batch; further errors are only counted."""
    return _setting("XINRONG_INGEST_MAX_STORED_ERRORS", 1000)


def inline_bytes() -> int:
    """Deliveries whose content (uncompressed for XLSX) is at most this run in the request."""
    return _setting("XINRONG_INGEST_INLINE_BYTES", 5 * MB)


def stale_seconds() -> int:
    """A processing batch with no progress for this long, and no live task, is restarted."""
    return _setting("XINRONG_INGEST_STALE_SECONDS", 900)


def max_attempts() -> int:
    """Runs a batch gets before recovery gives up and marks it failed."""
    return _setting("XINRONG_INGEST_MAX_ATTEMPTS", 3)


def orphan_seconds() -> int:
    """Age after which a stored upload no unfinished batch refers to is deleted."""
    return _setting("XINRONG_UPLOAD_ORPHAN_HOURS", 24) * 3600


def task_stale_seconds() -> int:
    """Age after which a RUNNING task whose worker cannot be checked is marked failed."""
    return _setting("XINRONG_TASK_STALE_HOURS", 24) * 3600


def uploads_dir() -> Path:
    """The folder large uploads wait in for the task worker (under MEDIA_ROOT)."""
    return Path(settings.MEDIA_ROOT) / "uploads"


def size_text(n: int) -> str:
    """Return a byte count as people read it: "500 KB", "256 MB", "1.5 GB"."""
    if n < MB:
        return f"{max(n // 1024, 1)} KB"
    if n < 1024 * MB:
        return f"{n / MB:.0f} MB" if n % MB == 0 or n >= 100 * MB else f"{n / MB:.1f} MB"
    return f"{n / (1024 * MB):.1f} GB"
