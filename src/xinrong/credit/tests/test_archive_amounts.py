"""The archive page shows amounts as a person reads them; its Excel export keeps numbers.

Found by the enterprise's browser journey: 实缴税额 read "107174.79" on the archive page.
"""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from xinrong.credit.tests.conftest import deliver
from xinrong.datahub.models import Fact

pytestmark = pytest.mark.django_db


def test_archive_amounts_have_thousands_separators(client, entity, enterprise_user, tax_clerk):
    deliver(
        tax_clerk.source,
        "tax",
        "统一社会信用代码,所属期,实缴税额（元）,纳税信用等级,欠税金额（元）",
        [f"{entity.uscc},2024-12,107174.79,A,0"],
    )
    client.force_login(enterprise_user)
    page = client.get(reverse("credit:archive", args=[entity.uscc])).content.decode()
    assert "<td>107,174.79</td>" in page and "107174.79" not in page
    fact = Fact.objects.get(entity=entity, category="tax")
    form = client.get(reverse("credit:dispute_new", args=[fact.pk])).content.decode()
    assert "<td>107,174.79</td>" in form  # the record being disputed
    export = client.get(reverse("credit:archive_export", args=[entity.uscc]))
    book = load_workbook(io.BytesIO(b"".join(export.streaming_content)))
    cells = [c for s in book.worksheets for r in s.iter_rows(values_only=True) for c in r]
    assert "107,174.79" not in cells
