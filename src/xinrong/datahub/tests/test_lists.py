"""The hub's batches list and the conflict queue as lists a clerk works with (issue 12):
filters, totals, the empty state, bad values, and the Excel export of exactly the list."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from django.db.models import Sum
from django.urls import reverse

from xinrong.datahub.models import IngestBatch
from xinrong.datahub.services.sources import source_create
from xinrong.datahub.tests.test_conflict_workflow import conflict  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


def _xlsx(response):
    assert response.status_code == 200, response.content[:300]
    wb = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return [list(r) for r in wb.active.iter_rows(values_only=True)]


@pytest.fixture
def batches(tax_source, make_user):
    hrss_provider = make_user("government", ["data_provider"])
    hrss = source_create(
        code="hrss", name="人社厅", organisation=hrss_provider.organisation, categories=["tax"]
    )

    def batch(source, name, status, received, accepted, rejected):
        return IngestBatch.objects.create(
            source=source,
            category="tax",
            channel="upload",
            filename=name,
            content_hash=name,
            status=status,
            received=received,
            accepted=accepted,
            rejected=rejected,
        )

    return {
        "tax": [
            batch(tax_source, "税务-一月.xlsx", "completed", 1200, 1190, 10),
            batch(tax_source, "税务-二月.xlsx", "completed", 300, 300, 0),
            batch(tax_source, "税务-三月.xlsx", "failed", 0, 0, 0),
        ],
        "hrss": [batch(hrss, "社保.xlsx", "completed", 50, 40, 10)],
        "hrss_provider": hrss_provider,
    }


def _ids(html):
    return {b.pk for b in IngestBatch.objects.all() if f'data-batch="{b.pk}"' in html}


def test_batches_filter_total_and_stay_in_the_departments_scope(client, batches, tax_source):
    client.force_login(tax_source.provider)
    url = reverse("datahub:home")
    t1, t2, t3 = batches["tax"]
    html = client.get(url).content.decode()
    assert _ids(html) == {t1.pk, t2.pk, t3.pk}  # never the other department's
    assert "1,500" in html and "1,490" in html  # received / accepted, with separators
    html = client.get(url, {"has_rejected": "on"}).content.decode()
    assert _ids(html) == {t1.pk}
    html = client.get(url, {"status": "failed"}).content.decode()
    assert _ids(html) == {t3.pk}
    html = client.get(url, {"q": "二月"}).content.decode()
    assert _ids(html) == {t2.pk}
    total = IngestBatch.objects.filter(source=tax_source).aggregate(s=Sum("accepted"))["s"]
    assert total == 1490


def test_batches_empty_state_and_bad_values(client, batches, tax_source):
    client.force_login(tax_source.provider)
    url = reverse("datahub:home")
    html = client.get(url, {"q": "不存在"}).content.decode()
    assert "没有符合条件的批次" in html and "文件名“不存在”" in html and "清除筛选条件" in html
    response = client.get(url, {"created_from": "2026-13-40", "status": "bogus"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "上传日期自：请输入有效日期" in body and "状态：“bogus”不是可选的值" in body


def test_batches_export_is_the_filtered_scope_with_numbers(client, batches, tax_source):
    client.force_login(tax_source.provider)
    rows = _xlsx(client.get(reverse("datahub:batches_export"), {"status": "completed"}))
    header, data = rows[0], rows[1:]
    assert header[:3] == ["批次编号", "上传时间", "数据来源"]
    assert sorted(r[0] for r in data) == sorted(b.pk for b in batches["tax"][:2])
    row = next(r for r in data if r[0] == batches["tax"][0].pk)
    assert row[header.index("接收行数")] == 1190 and row[header.index("状态")] == "已完成"
    assert row[header.index("数据类别")] != "tax"  # the category's name, not its code
    assert isinstance(row[header.index("上传时间")], dt.datetime)
    other = _xlsx(client.get(reverse("datahub:batches_export")))  # the department sees only its own
    assert batches["hrss"][0].pk not in [r[0] for r in other[1:]]


def test_conflicts_export_and_empty_state(client, conflict, tax_source, hrss_source_user):  # noqa: F811
    client.force_login(tax_source.provider)
    html = client.get(reverse("datahub:conflicts"), {"uscc": "91000000000000000X"}).content
    assert "没有符合条件的数据冲突" in html.decode()
    rows = _xlsx(client.get(reverse("datahub:conflicts_export")))
    header, data = rows[0], rows[1:]
    assert [r[0] for r in data] == [conflict.pk]
    assert data[0][header.index("处理状态")] == "待处理"
    assert data[0][header.index("统一社会信用代码")] == conflict.entity.uscc
    client.force_login(hrss_source_user)
    rows = _xlsx(client.get(reverse("datahub:conflicts_export")))
    assert rows[1:] == []  # a department not involved exports none of them


@pytest.fixture
def hrss_source_user(make_user):
    provider = make_user("government", ["data_provider"])
    source_create(code="hrss2", name="人社", organisation=provider.organisation, categories=["tax"])
    return provider
