"""Hardened uploads and exports: zip bombs, row and error caps, worker hand-off, error files."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from xinrong.datahub.tests.test_pipeline import _csv
from xinrong.enterprises.tests.factories import MarketEntityFactory

pytestmark = pytest.mark.django_db


def _download(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _upload(client, source, content: bytes, name: str = "tax.csv"):
    return client.post(
        reverse("datahub:home"),
        {"source": source.pk, "category": "tax", "file": SimpleUploadedFile(name, content)},
    )


def _batch_id(response) -> int:
    assert response.status_code == 302, response.content.decode()[:2000]
    return int(response.url.rstrip("/").split("/")[-1])


def test_error_file_writes_formula_like_values_as_text(client, tax_source):
    entity = MarketEntityFactory()
    client.force_login(tax_source.provider)
    payload = "=cmd|' /C calc'!A0"
    content = _csv([[entity.uscc, "", payload, "100", "A", "0"]]).getvalue()
    batch_id = _batch_id(_upload(client, tax_source, content))
    response = client.get(reverse("datahub:batch_errors", args=[batch_id]))
    ws = load_workbook(io.BytesIO(_download(response))).worksheets[0]
    headers = [c.value for c in ws[1]]
    cell = ws.cell(2, headers.index("所属期*") + 1)
    assert (cell.value, cell.data_type) == ("'" + payload, "s")


# ---------------------------------------------------------------- helpers for the bounds


def _tax_xlsx(rows: list[list[object]]) -> bytes:
    from openpyxl import Workbook

    from xinrong.datahub.tests.test_pipeline import TAX_HEADERS

    wb = Workbook()
    ws = wb.active
    ws.append(TAX_HEADERS)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _lying_zip(content: bytes) -> bytes:
    """Rewrite every member's declared uncompressed size as 1 byte (a zip bomb that lies)."""
    import struct
    import zipfile

    data = bytearray(content)
    with zipfile.ZipFile(io.BytesIO(content)) as zf:
        for info in zf.infolist():
            struct.pack_into("<I", data, info.header_offset + 22, 1)
    pos = data.find(b"PK\x01\x02")
    while pos != -1:
        struct.pack_into("<I", data, pos + 24, 1)
        pos = data.find(b"PK\x01\x02", pos + 4)
    return bytes(data)


def _ingest_service(source, content: bytes, filename: str):
    from xinrong.datahub.services.ingest import batch_ingest

    return batch_ingest(
        source=source,
        category="tax",
        fileobj=io.BytesIO(content),
        filename=filename,
        channel="cli",
    )


# ---------------------------------------------------------------- zip bombs


def test_xlsx_expanding_past_the_cap_is_refused_before_a_batch_exists(client, tax_source, settings):
    from xinrong.datahub.models import IngestBatch

    settings.XINRONG_XLSX_MAX_UNCOMPRESSED_BYTES = 500 * 1024
    entity = MarketEntityFactory()
    content = _tax_xlsx([[entity.uscc, "", "2024-06", 100, "A", 0]] * 5_000)
    assert len(content) < 200_000  # small on the wire, about 1.4 MB inside
    client.force_login(tax_source.provider)
    response = _upload(client, tax_source, content, "tax.xlsx")
    assert response.status_code == 200
    page = response.content.decode()
    assert "解压后" in page and "500 KB" in page, page[-3000:]
    assert not IngestBatch.objects.exists()


def test_xlsx_whose_zip_lies_about_its_size_is_refused_not_read(tax_source, settings):
    from xinrong.common.errors import ApplicationError
    from xinrong.datahub.models import IngestBatch

    settings.XINRONG_XLSX_MAX_UNCOMPRESSED_BYTES = 500 * 1024
    entity = MarketEntityFactory()
    content = _lying_zip(_tax_xlsx([[entity.uscc, "", "2024-06", 100, "A", 0]] * 5_000))
    with pytest.raises(ApplicationError) as caught:
        _ingest_service(tax_source, content, "tax.xlsx")
    assert 400 <= caught.value.status < 500
    assert caught.value.extra["field"] == "file"
    assert "Excel" in caught.value.message
    assert not IngestBatch.objects.exists()


# ---------------------------------------------------------------- rows and errors per batch


def test_file_with_more_rows_than_allowed_fails_whole_and_leaves_nothing(tax_source, settings):
    from xinrong.common.errors import ApplicationError
    from xinrong.datahub.models import Fact, IngestBatch, RowError

    settings.XINRONG_INGEST_MAX_ROWS = 50
    settings.XINRONG_INGEST_CHUNK_ROWS = 20  # the limit is crossed after two chunks are written
    entity = MarketEntityFactory()
    periods = [f"{2000 + i // 12}-{i % 12 + 1:02d}" for i in range(40)]
    rows = [[entity.uscc, "", period, "1", "A", "0"] for period in periods]
    rows += [["bad", "", "2024-99", "x", "A", "0"]] * 20
    with pytest.raises(ApplicationError) as caught:
        _ingest_service(tax_source, _csv(rows).getvalue(), "tax.csv")
    assert caught.value.status == 413 and caught.value.code == "too_many_rows"
    assert "50" in caught.value.message and caught.value.extra["field"] == "file"
    batch = IngestBatch.objects.get()
    assert batch.status == "failed" and "50" in batch.failure
    assert not Fact.objects.exists() and not RowError.objects.exists()


def test_only_the_first_thousand_errors_are_stored_and_the_rest_counted(client, tax_source):
    from xinrong.datahub.models import RowError

    rows = [["", "某公司", "2024-99", "100", "A", "0"]] * 1500
    client.force_login(tax_source.provider)
    batch_id = _batch_id(_upload(client, tax_source, _csv(rows).getvalue()))
    assert RowError.objects.filter(batch_id=batch_id).count() == 1000
    page = client.get(reverse("datahub:batch_detail", args=[batch_id])).content.decode()
    assert "共 1,500 行错误，仅保存前 1,000 行" in page
    response = client.get(reverse("datahub:batch_errors", args=[batch_id]))
    book = load_workbook(io.BytesIO(_download(response)))
    lines = list(book.worksheets[0].values)
    assert len(lines) == 1 + 1000  # the refused rows only: the file can be uploaded again
    notes = [r[0] for r in book.worksheets[1].values]
    assert "共 1,500 行错误，仅保存前 1,000 行" in notes


def test_api_batch_reports_the_error_total_and_the_cap(client, tax_source):
    from xinrong.accounts.services.api_keys import api_key_create

    provider = tax_source.provider
    _key, raw = api_key_create(organisation=provider.organisation, name="x", actor=provider)
    rows = [{"name": "某公司", "period": "2024-99", "tax_paid": 1}] * 1200
    response = client.post(
        "/api/v1/datahub/batches",
        {"source": "tax", "category": "tax", "rows": rows},
        content_type="application/json",
        HTTP_X_API_KEY=raw,
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["rejected"] == 1200 and body["errors_total"] == 1200
    assert body["errors_stored"] == 1000
    assert body["errors_note"] == "共 1,200 行错误，仅保存前 1,000 行"


def test_api_refuses_more_rows_than_a_batch_may_hold_without_a_batch(client, tax_source, settings):
    from xinrong.accounts.services.api_keys import api_key_create
    from xinrong.datahub.models import IngestBatch

    settings.XINRONG_INGEST_MAX_ROWS = 10
    provider = tax_source.provider
    _key, raw = api_key_create(organisation=provider.organisation, name="x", actor=provider)
    rows = [{"name": "某公司", "period": "2024-06", "tax_paid": 1}] * 11
    response = client.post(
        "/api/v1/datahub/batches",
        {"source": "tax", "category": "tax", "rows": rows},
        content_type="application/json",
        HTTP_X_API_KEY=raw,
    )
    assert response.status_code == 413
    body = response.json()
    assert body["code"] == "too_many_rows" and body["extra"]["field"] == "rows"
    assert "10" in body["message"]
    assert not IngestBatch.objects.exists()


# ---------------------------------------------------------------- large files go to the worker


def test_small_xlsx_that_expands_large_goes_to_the_worker(client, tax_source, settings, tmp_path):
    from xinrong.datahub.models import IngestBatch

    settings.MEDIA_ROOT = tmp_path
    settings.XINRONG_INGEST_INLINE_BYTES = 100_000
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    entity = MarketEntityFactory()
    content = _tax_xlsx([[entity.uscc, "", "2024-06", 100, "A", 0]] * 2_000)
    assert len(content) < 100_000  # small enough for the old size test, 560 KB inside
    client.force_login(tax_source.provider)
    batch_id = _batch_id(_upload(client, tax_source, content, "tax.xlsx"))
    batch = IngestBatch.objects.get(pk=batch_id)
    assert batch.status == "pending" and batch.received == 0
    assert batch.stored_file and (tmp_path / "uploads" / batch.stored_file).exists()
    assert batch.task_id
