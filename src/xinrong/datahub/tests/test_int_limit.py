"""A count beyond what a field holds says the largest allowed, naming the field (issue 12)."""

from __future__ import annotations

import csv
import io

import pytest

from xinrong.common.errors import ApplicationError
from xinrong.datahub.models import Fact, RowError
from xinrong.datahub.services.ingest import batch_ingest
from xinrong.datahub.services.quality import fact_correct
from xinrong.enterprises.tests.factories import MarketEntityFactory

pytestmark = pytest.mark.django_db


def _deliver(source, rows):
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["统一社会信用代码", "所属期", "实缴税额（元）", "从业人数"])
    writer.writerows(rows)
    return batch_ingest(
        source=source,
        category="tax",
        fileobj=io.BytesIO(buf.getvalue().encode()),
        filename="tax.csv",
        channel="cli",
    )


def test_a_huge_count_is_refused_with_the_maximum(tax_source):
    entity = MarketEntityFactory()
    batch = _deliver(
        tax_source,
        [
            [entity.uscc, "2024-06", "100", str(10**15)],
            [entity.uscc, "2024-07", "100", "-3"],
            [entity.uscc, "2024-08", "100", "12"],
        ],
    )
    errors = {e.row_number: (e.column, e.rule) for e in RowError.objects.filter(batch=batch)}
    assert errors[2] == ("从业人数", "不能超过 999,999,999")
    assert errors[3] == ("从业人数", "应为不小于0的整数")
    assert batch.accepted == 1


def test_a_correction_beyond_the_range_names_the_field_and_the_maximum(tax_source):
    entity = MarketEntityFactory()
    _deliver(tax_source, [[entity.uscc, "2024-06", "100", "12"]])
    fact = Fact.objects.get()
    with pytest.raises(ApplicationError) as exc:
        fact_correct(fact=fact, changes={"employees": "9" * 5000}, actor=tax_source.provider)
    assert exc.value.extra["field"] == "values.employees"
    assert "从业人数" in exc.value.message and "不能超过 999,999,999" in exc.value.message
