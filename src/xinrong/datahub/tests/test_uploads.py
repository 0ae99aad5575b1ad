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
    cell = ws.cell(2, 3)
    assert (cell.value, cell.data_type) == ("'" + payload, "s")
