"""The platform as a data source: the loan category and platform_loan_events_record."""

from __future__ import annotations

import datetime as dt
import io
import random
from decimal import Decimal
from typing import Any, cast

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from xinrong.accounts.choices import OrgKind
from xinrong.accounts.models import Organisation
from xinrong.common.errors import ApplicationError
from xinrong.datahub.categories import CATEGORIES
from xinrong.datahub.choices import BatchChannel, BatchStatus
from xinrong.datahub.models import Fact, IngestBatch, Source
from xinrong.datahub.services import sources
from xinrong.datahub.signals import batch_completed
from xinrong.datahub.workbooks import template_workbook
from xinrong.enterprises.models import MarketEntity
from xinrong.enterprises.tests.factories import MarketEntityFactory
from xinrong.reference import uscc as uscc_codec

pytestmark = pytest.mark.django_db

TODAY = dt.date(2025, 6, 30)


def _entity(n: int) -> MarketEntity:
    return cast(MarketEntity, MarketEntityFactory())


def _row(entity: MarketEntity, **over: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "uscc": entity.uscc,
        "loan_no": "XR-0001",
        "institution": "青海银行",
        "event": "disbursed",
        "amount": Decimal("500000.00"),
        "outstanding": Decimal("500000.00"),
        "overdue_days": 0,
        "occurred_on": dt.date(2024, 3, 1),
        "maturity_on": dt.date(2025, 3, 1),
        "first_loan": True,
        "renewal": False,
    }
    row.update(over)
    return row


def test_loan_category_maps_fields_to_typed_columns() -> None:
    spec = CATEGORIES["loan"]
    columns = {f.key: f.column for f in spec.fields}
    assert columns["loan_no"] == "reference_no"
    assert columns["event"] == "status"
    assert columns["outstanding"] == "arrears"
    assert columns["overdue_days"] == "quantity"
    assert columns["occurred_on"] == "occurred_on"
    assert spec.negative_values == {"event": ("overdue", "defaulted")}
    assert {f.key for f in spec.fields if f.required} == {
        "loan_no",
        "institution",
        "event",
        "occurred_on",
    }


def test_loan_template_is_generated_from_the_category() -> None:
    content = template_workbook("loan").getvalue()
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(content)).worksheets[0]
    headers = [c.value for c in ws[1] if c.value]
    assert any("贷款编号" in h for h in headers)
    assert any("逾期天数" in h for h in headers)


def test_record_stores_typed_facts_of_the_platform_source() -> None:
    entity = _entity(1)
    batch = sources.platform_loan_events_record(
        rows=[
            _row(entity),
            _row(
                entity,
                event="overdue",
                amount=None,
                outstanding=Decimal("300000"),
                overdue_days=45,
                occurred_on=dt.date(2024, 10, 15),
                first_loan=None,
                renewal=None,
            ),
        ],
        note="2024 loans",
    )
    assert batch.status == BatchStatus.COMPLETED
    assert batch.channel == BatchChannel.PLATFORM
    assert batch.filename == "2024 loans"
    assert (batch.accepted, batch.rejected, batch.duplicates) == (2, 0, 0)
    source = Source.objects.get(code="platform")
    assert source.organisation.kind == OrgKind.OPERATOR
    assert batch.source == source
    disbursed = Fact.objects.get(entity=entity, status="disbursed")
    assert disbursed.reference_no == "XR-0001"
    assert disbursed.amount == Decimal("500000.00")
    assert disbursed.flag is True
    assert disbursed.negative is False and disbursed.retention_until is None
    assert disbursed.data == {
        "institution": "青海银行",
        "maturity_on": "2025-03-01",
        "renewal": "False",
    }
    overdue = Fact.objects.get(entity=entity, status="overdue")
    assert overdue.quantity == 45
    assert overdue.arrears == Decimal("300000.00")
    assert overdue.negative is True
    assert overdue.retention_until == dt.date(2029, 10, 15)  # 5 years from the event


def test_defaulted_event_is_negative() -> None:
    entity = _entity(2)
    sources.platform_loan_events_record(
        rows=[_row(entity, event="defaulted", occurred_on=dt.date(2024, 12, 1))]
    )
    fact = Fact.objects.get(entity=entity)
    assert fact.negative is True
    assert fact.retention_until == dt.date(2029, 12, 1)


def test_recording_the_same_events_again_stores_them_once() -> None:
    entity = _entity(3)
    rows = [_row(entity), _row(entity, event="repaid", occurred_on=dt.date(2024, 6, 1))]
    first = sources.platform_loan_events_record(rows=rows)
    again = sources.platform_loan_events_record(rows=list(reversed(rows)))
    assert again.pk == first.pk
    more = sources.platform_loan_events_record(
        rows=[*rows, _row(entity, event="settled", occurred_on=dt.date(2025, 3, 1))]
    )
    assert more.pk != first.pk
    assert (more.accepted, more.duplicates) == (1, 2)
    assert Fact.objects.filter(entity=entity).count() == 3


def test_record_sends_batch_completed_after_commit(django_capture_on_commit_callbacks) -> None:
    entity = _entity(4)
    sent: list[int] = []

    def receiver(sender: Any, batch_id: int, **kwargs: Any) -> None:
        sent.append(batch_id)

    batch_completed.connect(receiver, dispatch_uid="test-loan-facts")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            batch = sources.platform_loan_events_record(rows=[_row(entity)])
    finally:
        batch_completed.disconnect(dispatch_uid="test-loan-facts")
    assert sent == [batch.pk]


def test_bad_rows_fail_the_whole_call_naming_them() -> None:
    entity = _entity(5)
    with pytest.raises(ApplicationError) as caught:
        sources.platform_loan_events_record(
            rows=[
                _row(entity),
                _row(entity, loan_no="XR-2", event="paid"),
                _row(entity, loan_no="XR-3", amount=Decimal("-5")),
            ]
        )
    err = caught.value
    assert err.code == "invalid_loan_rows"
    assert "rows[1].event" in err.message
    assert "rows[2].amount" in err.message
    assert [(e["row"], e["key"]) for e in err.extra["errors"]] == [(1, "event"), (2, "amount")]
    assert not Fact.objects.filter(entity=entity).exists()
    assert not IngestBatch.objects.filter(category="loan").exists()


def test_unregistered_entity_and_wrong_keys_are_refused() -> None:
    stranger = uscc_codec.generate(random.Random(7), division_code="630102")
    entity = _entity(6)
    with pytest.raises(ApplicationError, match=r"rows\[0\]\.uscc"):
        sources.platform_loan_events_record(rows=[_row(entity, uscc=stranger)])
    with pytest.raises(ApplicationError, match="loan_number"):
        sources.platform_loan_events_record(rows=[{**_row(entity), "loan_number": "x"}])
    with pytest.raises(ApplicationError, match="occurred_on"):
        row = _row(entity)
        del row["occurred_on"]
        sources.platform_loan_events_record(rows=[row])
    with pytest.raises(ApplicationError):
        sources.platform_loan_events_record(rows=[])
    assert not Fact.objects.exists()


def test_platform_source_uses_the_existing_operator_organisation() -> None:
    operator = Organisation.objects.create(name="信融运营中心", kind=OrgKind.OPERATOR)
    source = sources.platform_source_get()
    assert source.organisation == operator
    assert source.categories == ["loan"]
    assert sources.platform_source_get().pk == source.pk


def test_many_events_are_recorded_in_a_bounded_number_of_queries() -> None:
    entities = [_entity(100 + i) for i in range(20)]
    rows = [
        _row(e, loan_no=f"XR-{i}-{k}", occurred_on=dt.date(2024, 1, 1) + dt.timedelta(days=k))
        for i, e in enumerate(entities)
        for k in range(50)
    ]
    with CaptureQueriesContext(connection) as ctx:
        batch = sources.platform_loan_events_record(rows=rows)
    assert batch.accepted == 1000
    assert len(ctx.captured_queries) < 60
