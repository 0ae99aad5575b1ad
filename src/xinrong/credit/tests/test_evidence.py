"""Evidence files: type, size and content checks with Chinese errors; storage under MEDIA_ROOT."""

import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from xinrong.common.errors import ApplicationError
from xinrong.credit.evidence import EVIDENCE_MAX_BYTES, evidence_check
from xinrong.credit.models import Dispute
from xinrong.credit.services import disputes as disputes_services
from xinrong.credit.tests.conftest import PDF_BYTES, PNG_BYTES, pdf

pytestmark = pytest.mark.django_db


def _upload(name, content):
    return SimpleUploadedFile(name, content)


def _xlsx_bytes():
    buf = io.BytesIO()
    wb = Workbook()
    wb.active.append(["完税证明", 800])
    wb.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("完税证明.pdf", PDF_BYTES, "application/pdf"),
        ("照片.JPG", b"\xff\xd8\xff\xe0" + b"\x00" * 20, "image/jpeg"),
        ("scan.jpeg", b"\xff\xd8\xff\xdb" + b"\x00" * 20, "image/jpeg"),
        ("截图.png", PNG_BYTES, "image/png"),
        (
            "明细.xlsx",
            None,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    ],
)
def test_allowed_types_pass(name, content, content_type):
    content = content if content is not None else _xlsx_bytes()
    (checked,) = evidence_check([_upload(name, content)])
    assert checked.content_type == content_type and checked.size == len(content)
    assert checked.sha256 == hashlib.sha256(content).hexdigest()


def _zip_without_workbook():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("hello.txt", "hi")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "code", "words"),
    [
        ("病毒.exe", b"MZ\x90\x00", "file_type", "只接受 JPG、PDF、PNG、XLSX 文件"),
        ("说明.docx", b"PK\x03\x04", "file_type", "“说明.docx”的类型不支持"),
        ("无扩展名", PDF_BYTES, "file_type", "类型不支持"),
        ("空.pdf", b"", "file_empty", "空文件"),
        ("伪装.pdf", PNG_BYTES, "file_content", "内容与扩展名 .pdf 不符"),
        ("伪装.png", PDF_BYTES, "file_content", "不符"),
        ("伪装.xlsx", None, "file_content", "不符"),
        ("坏.xlsx", b"PK\x03\x04garbage", "file_content", "不符"),
        ("大.pdf", b"%PDF-" + b"0" * EVIDENCE_MAX_BYTES, "file_too_large", "超过 10 MB"),
    ],
)
def test_bad_files_are_refused_with_a_chinese_reason_naming_the_file(name, content, code, words):
    content = content if content is not None else _zip_without_workbook()
    with pytest.raises(ApplicationError) as exc:
        evidence_check([_upload(name, content)])
    assert exc.value.code == code and exc.value.status == 422
    assert exc.value.extra["field"] == "evidence" and words in exc.value.message


def test_exactly_ten_megabytes_is_allowed():
    content = b"%PDF-" + b"0" * (EVIDENCE_MAX_BYTES - 5)
    assert evidence_check([_upload("刚好.pdf", content)])[0].size == EVIDENCE_MAX_BYTES


def test_at_most_ten_files_per_case():
    with pytest.raises(ApplicationError) as exc:
        evidence_check([pdf(f"{i}.pdf") for i in range(11)])
    assert exc.value.code == "too_many_files"
    with pytest.raises(ApplicationError):
        evidence_check([pdf()], already=10)


def test_files_are_stored_under_media_root_with_random_names(enterprise_user, tax_fact):
    dispute = disputes_services.dispute_file(
        actor=enterprise_user,
        fact=tax_fact,
        kind="objection",
        claim="该期已申报",
        evidence=[pdf("../../etc/完税证明.pdf")],
    )
    row = dispute.evidence.get()
    path = Path(row.file.path)
    assert path.is_file() and path.read_bytes() == PDF_BYTES
    assert Path(settings.MEDIA_ROOT) in path.parents and "evidence/disputes" in row.file.name
    assert row.original_name == "完税证明.pdf" and "完税" not in row.file.name
    assert row.sha256 == hashlib.sha256(PDF_BYTES).hexdigest()


def test_one_bad_file_stores_nothing(enterprise_user, tax_fact):
    with pytest.raises(ApplicationError):
        disputes_services.dispute_file(
            actor=enterprise_user,
            fact=tax_fact,
            kind="objection",
            claim="该期已申报",
            evidence=[pdf("好.pdf"), _upload("坏.pdf", b"not a pdf")],
        )
    assert not Dispute.objects.exists()
    media = Path(settings.MEDIA_ROOT)
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))
