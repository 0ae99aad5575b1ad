"""Penalty rows and periods that cannot be true are refused, every error of a row at once.

A penalty decided in the future, published until before its decision or past the maximum
period of its severity (国家发展改革委令2023年第58号), a region code that is no administrative
division, and a period after the current month: each refused with a Chinese rule naming the
column, in uploads and in the API, and nothing of the row is stored.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone

from xinrong.accounts.services.api_keys import api_key_create
from xinrong.datahub.models import Fact, RowError
from xinrong.datahub.publication import publication_end
from xinrong.datahub.services.ingest import batch_ingest
from xinrong.enterprises.tests.factories import MarketEntityFactory

pytestmark = pytest.mark.django_db

HEADER = "统一社会信用代码,行政区划代码,决定书文号,严重程度,处罚日期,公示截止日期"


def _upload(source, rows):
    text = "\n".join([HEADER, *rows]) + "\n"
    return batch_ingest(
        source=source,
        category="penalty",
        fileobj=io.BytesIO(text.encode()),
        filename="penalty.csv",
        channel="upload",
    )


def test_an_impossible_penalty_row_gets_every_error_and_stores_nothing(tax_source):
    entity = MarketEntityFactory()
    batch = _upload(
        tax_source, [f"{entity.uscc},999999,青罚〔2030〕1号,general,2030-01-01,2025-01-01"]
    )
    assert (batch.accepted, batch.rejected) == (0, 1)
    errors = {e.column: e for e in RowError.objects.filter(batch=batch)}
    assert set(errors) == {"行政区划代码", "处罚日期", "公示截止日期"}, errors
    assert "不是有效的行政区划代码" in errors["行政区划代码"].rule
    assert "不能晚于今天" in errors["处罚日期"].rule
    assert "不能早于处罚日期（2030-01-01）" in errors["公示截止日期"].rule
    assert not Fact.objects.exists()


def test_publication_past_the_maximum_period_is_refused_and_within_it_accepted(tax_source):
    entity = MarketEntityFactory()
    batch = _upload(
        tax_source,
        [
            f"{entity.uscc},630102,青罚〔2024〕1号,general,2024-02-10,2025-02-11",
            f"{entity.uscc},630102,青罚〔2024〕2号,general,2024-02-10,2025-02-10",
            f"{entity.uscc},,青罚〔2024〕3号,minor,2023-01-31,2023-04-30",
        ],
    )
    assert (batch.accepted, batch.rejected) == (2, 1)
    (error,) = RowError.objects.filter(batch=batch)
    assert error.row_number == 2 and error.column == "公示截止日期"
    assert "不能晚于 2025-02-10" in error.rule and "12 个月" in error.rule
    assert sorted(Fact.objects.values_list("behaviour_end", flat=True)) == [
        dt.date(2023, 4, 30),
        dt.date(2025, 2, 10),
    ]


def test_the_api_refuses_the_same_rows(client, tax_source):
    provider = tax_source.provider
    _key, raw = api_key_create(organisation=provider.organisation, name="税务报送", actor=provider)
    entity = MarketEntityFactory()
    next_month = timezone.localdate().replace(day=1) + dt.timedelta(days=32)
    response = client.post(
        "/api/v1/datahub/batches",
        {
            "source": "tax",
            "category": "tax",
            "rows": [
                {"uscc": entity.uscc, "period": "2099-01", "tax_paid": 10},
                {"uscc": entity.uscc, "period": next_month.strftime("%Y-%m"), "tax_paid": 10},
                {"uscc": entity.uscc, "period": "2024-06", "tax_paid": 10, "region": "999999"},
            ],
        },
        content_type="application/json",
        HTTP_X_API_KEY=raw,
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (0, 3)
    rules = {(e["row"], e["column"]): e["rule"] for e in body["errors"]}
    assert "不能晚于本月" in rules[(2, "所属期")] and "不能晚于本月" in rules[(3, "所属期")]
    assert "行政区划代码" in rules[(4, "行政区划代码")] or "不是有效" in rules[(4, "行政区划代码")]
    assert not Fact.objects.exists()


def test_publication_end_is_the_delivered_date_within_bounds_else_the_maximum():
    decided = dt.date(2024, 1, 31)
    assert publication_end(severity="minor", decided_on=decided) == dt.date(2024, 4, 30)
    assert publication_end(
        severity="general", decided_on=decided, delivered=dt.date(2024, 12, 1)
    ) == dt.date(2024, 12, 1)
    # an older out-of-bounds value (before the rule was enforced) gives the law's date
    assert publication_end(
        severity="minor", decided_on=decided, delivered=dt.date(2024, 5, 1)
    ) == dt.date(2024, 4, 30)
