"""Evidence files: allowed types, size limit, content check, storage under MEDIA_ROOT."""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.files.base import File
from django.utils.translation import gettext as _

from xinrong.common.errors import ApplicationError
from xinrong.common.http import XLSX_CONTENT_TYPE

EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
EVIDENCE_MAX_FILES = 10
EVIDENCE_TYPES: dict[str, str] = {
    ".pdf": "application/pdf",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".xlsx": XLSX_CONTENT_TYPE,
}
EVIDENCE_ACCEPT = ",".join(EVIDENCE_TYPES)  # for <input type="file" accept=…>


@dataclass(frozen=True)
class CheckedFile:
    """An evidence file that passed the checks, with what the model stores about it."""

    upload: File[Any]
    name: str
    content_type: str
    size: int
    sha256: str


def _error(code: str, message: str, field: str) -> ApplicationError:
    return ApplicationError(code, message, {"field": field}, status=422)


def _head(upload: File[Any], n: int = 16) -> bytes:
    upload.seek(0)
    head = upload.read(n)
    upload.seek(0)
    return bytes(head)


def _content_matches(ext: str, upload: File[Any]) -> bool:
    head = _head(upload)
    if ext == ".pdf":
        return head.startswith(b"%PDF-")
    if ext in (".jpg", ".jpeg"):
        return head.startswith(b"\xff\xd8\xff")
    if ext == ".png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if ext == ".xlsx":
        if not head.startswith(b"PK\x03\x04"):
            return False
        try:
            upload.seek(0)
            with zipfile.ZipFile(upload) as zf:
                names = set(zf.namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            return False
        finally:
            upload.seek(0)
        return "[Content_Types].xml" in names and "xl/workbook.xml" in names
    return False


def evidence_check(
    files: Sequence[File[Any]], *, field: str = "evidence", already: int = 0
) -> list[CheckedFile]:
    """Check every file before anything is stored; raise ApplicationError naming the field.

    Accepted: PDF, JPG, PNG and XLSX files of at most 10 MB whose content matches their
    extension, at most ``EVIDENCE_MAX_FILES`` per case (``already`` counts those stored).
    """
    if already + len(files) > EVIDENCE_MAX_FILES:
        raise _error(
            "too_many_files",
            _("证据文件最多 %(n)d 个（已有 %(m)d 个）") % {"n": EVIDENCE_MAX_FILES, "m": already},
            field,
        )
    checked = []
    allowed = "、".join(sorted({e.lstrip(".").upper() for e in EVIDENCE_TYPES} - {"JPEG"}))
    for upload in files:
        name = Path(str(upload.name or "")).name
        ext = Path(name).suffix.lower()
        if ext not in EVIDENCE_TYPES:
            raise _error(
                "file_type",
                _("证据文件“%(f)s”的类型不支持：只接受 %(t)s 文件") % {"f": name, "t": allowed},
                field,
            )
        size = int(upload.size or 0)
        if size <= 0:
            raise _error("file_empty", _("证据文件“%(f)s”是空文件") % {"f": name}, field)
        if size > EVIDENCE_MAX_BYTES:
            raise _error(
                "file_too_large",
                _("证据文件“%(f)s”大小为 %(s).1f MB，超过 %(m)d MB 的上限")
                % {"f": name, "s": size / 1024 / 1024, "m": EVIDENCE_MAX_BYTES // 1024 // 1024},
                field,
            )
        if not _content_matches(ext, upload):
            raise _error(
                "file_content",
                _("证据文件“%(f)s”的内容与扩展名 %(e)s 不符，请上传原始文件")
                % {"f": name, "e": ext},
                field,
            )
        digest = hashlib.sha256()
        upload.seek(0)
        for chunk in upload.chunks():
            digest.update(chunk)
        upload.seek(0)
        checked.append(
            CheckedFile(
                upload=upload,
                name=name[:255],
                content_type=EVIDENCE_TYPES[ext],
                size=size,
                sha256=digest.hexdigest(),
            )
        )
    return checked
