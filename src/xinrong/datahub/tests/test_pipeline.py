import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import Workbook

from xinrong.common.errors import ApplicationError, PermissionDeniedError
from xinrong.datahub.choices import BatchStatus
from xinrong.datahub.models import Fact, IngestBatch, RowError, UnresolvedRow
from xinrong.datahub.services.ingest import batch_ingest
from xinrong.enterprises.tests.factories import MarketEntityFactory

pytestmark = pytest.mark.django_db

TAX_HEADERS = [
    "统一社会信用代码",
    "主体名称",
    "所属期",
    "实缴税额（元）",
    "纳税信用等级",
    "欠税金额（元）",
]


def _csv(rows, headers=TAX_HEADERS, encoding="utf-8-sig"):
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(headers)
    writer.writerows(rows)
    return io.BytesIO(buf.getvalue().encode(encoding))


def _ingest(source, fileobj, *, category="tax", filename="tax.csv", actor=None):
    return batch_ingest(
        source=source,
        category=category,
        fileobj=fileobj,
        filename=filename,
        channel="cli",
        actor=actor,
    )


def test_valid_rows_become_typed_facts(tax_source):
    entity = MarketEntityFactory()
    batch = _ingest(tax_source, _csv([[entity.uscc, "", "2024-06", "12,800.50", "b", "0"]]))
    assert batch.status == BatchStatus.COMPLETED
    assert (batch.received, batch.accepted, batch.rejected) == (1, 1, 0)
    fact = Fact.objects.get()
    assert fact.entity == entity
    assert (fact.period, fact.amount, fact.grade, fact.arrears) == (
        "2024-06",
        Decimal("12800.50"),
        "B",
        Decimal("0.00"),
    )
    assert fact.negative is False and fact.retention_until is None


def test_arrears_are_negative_with_five_year_retention(tax_source):
    entity = MarketEntityFactory()
    _ingest(tax_source, _csv([[entity.uscc, "", "2024-02", "0", "C", "5000"]]))
    fact = Fact.objects.get()
    assert fact.negative is True
    assert fact.retention_until == dt.date(2029, 2, 28)  # end of period + 5 years


def test_each_error_names_row_column_value_and_rule(tax_source):
    entity = MarketEntityFactory()
    bad_code = entity.uscc[:-1] + ("0" if entity.uscc[-1] != "0" else "1")
    batch = _ingest(
        tax_source,
        _csv(
            [
                [entity.uscc, "", "2024-13", "100", "A", "0"],
                [bad_code, "", "2024-06", "-5", "Z", ""],
                ["", "", "2024-06", "100", "A", "0"],
                [entity.uscc, "", "2024-07", "100", "A", "0"],
            ]
        ),
    )
    assert (batch.received, batch.accepted, batch.rejected) == (4, 1, 3)
    errors = {(e.row_number, e.column): e for e in RowError.objects.filter(batch=batch)}
    assert errors[(2, "所属期")].value == "2024-13"
    assert "2024-06" in errors[(2, "所属期")].rule
    assert "校验位" in errors[(3, "统一社会信用代码")].rule
    assert errors[(3, "实缴税额（元）")].value == "-5"
    assert "A、B、M、C、D" in errors[(3, "纳税信用等级")].rule
    assert "至少填写一项" in errors[(4, "统一社会信用代码")].rule


def test_same_file_again_changes_nothing(tax_source):
    entity = MarketEntityFactory()
    content = _csv([[entity.uscc, "", "2024-06", "100", "A", "0"]]).getvalue()
    first = _ingest(tax_source, io.BytesIO(content))
    again = _ingest(tax_source, io.BytesIO(content))
    assert again.pk == first.pk
    assert Fact.objects.count() == 1
    assert IngestBatch.objects.count() == 1


def test_rows_already_delivered_in_another_file_are_duplicates(tax_source):
    entity = MarketEntityFactory()
    _ingest(tax_source, _csv([[entity.uscc, "", "2024-06", "100", "A", "0"]]))
    batch = _ingest(
        tax_source,
        _csv(
            [
                [entity.uscc, "", "2024-06", "100", "A", "0"],
                [entity.uscc, "", "2024-07", "100", "A", "0"],
                [entity.uscc, "", "2024-07", "100", "A", "0"],
            ]
        ),
    )
    assert (batch.accepted, batch.duplicates) == (1, 2)
    assert Fact.objects.count() == 2


def test_name_only_rows_resolve_exactly_then_normalised_else_queue(tax_source):
    exact = MarketEntityFactory(name="青海鑫源商贸有限公司")
    loose = MarketEntityFactory(name="西宁恒通（集团）有限责任公司")
    batch = _ingest(
        tax_source,
        _csv(
            [
                ["", "青海鑫源商贸有限公司", "2024-06", "100", "A", "0"],
                ["", "西宁恒通(集团)有限公司", "2024-06", "200", "A", "0"],
                ["", "不存在的公司", "2024-06", "300", "A", "0"],
            ]
        ),
    )
    assert batch.accepted == 2 and batch.unresolved == 1
    assert set(Fact.objects.values_list("entity", flat=True)) == {exact.pk, loose.pk}
    queued = UnresolvedRow.objects.get()
    assert queued.name == "不存在的公司" and queued.row_number == 4


def test_ambiguous_names_are_narrowed_by_region(tax_source):
    MarketEntityFactory(name="城东拉面馆", division_code="630102")
    golmud = MarketEntityFactory(name="城东拉面馆", division_code="632801")
    headers = [*TAX_HEADERS, "行政区划代码"]
    batch = _ingest(
        tax_source,
        _csv(
            [
                ["", "城东拉面馆", "2024-06", "100", "A", "0", ""],
                ["", "城东拉面馆", "2024-07", "100", "A", "0", "632801"],
            ],
            headers=headers,
        ),
    )
    assert batch.unresolved == 1
    assert Fact.objects.get().entity == golmud


def test_xlsx_and_gbk_csv_are_read(tax_source):
    entity = MarketEntityFactory()
    wb = Workbook()
    ws = wb.active
    ws.append(TAX_HEADERS)
    ws.append([entity.uscc, "", "2024-05", 99.5, "A", 0])
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    assert _ingest(tax_source, buf, filename="tax.xlsx").accepted == 1
    gbk = _csv([[entity.uscc, "某公司", "2024-04", "1", "A", "0"]], encoding="gb18030")
    assert _ingest(tax_source, gbk).accepted == 1


def test_wrong_template_is_refused_naming_missing_columns(tax_source):
    with pytest.raises(ApplicationError) as exc:
        _ingest(tax_source, _csv([["x"]], headers=["统一社会信用代码", "随便"]))
    assert "所属期" in exc.value.message
    assert not Fact.objects.exists()
    assert IngestBatch.objects.get().status == BatchStatus.FAILED


def test_category_must_be_registered_for_the_source(tax_source):
    with pytest.raises(ApplicationError) as exc:
        _ingest(tax_source, _csv([]), category="honour")
    assert exc.value.code == "category_not_allowed"


def test_only_the_sources_organisation_may_deliver(tax_source, make_user):
    outsider = make_user("government", ["data_provider"])
    with pytest.raises(PermissionDeniedError):
        _ingest(tax_source, _csv([]), actor=outsider)
    assert _ingest(tax_source, _csv([]), actor=tax_source.provider).status == "completed"


def test_interrupted_batch_is_invisible_and_completed_on_rerun(tax_source):
    from xinrong.datahub.selectors import fact_visible

    entity = MarketEntityFactory()
    content = _csv([[entity.uscc, "", f"2023-{m:02d}", "100", "A", "0"] for m in range(1, 13)])
    batch = _ingest(tax_source, io.BytesIO(content.getvalue()))
    # simulate a run killed after its first chunk: the batch is still processing
    IngestBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.PROCESSING)
    Fact.objects.filter(period__gt="2023-06").delete()
    assert not fact_visible().exists()
    rerun = _ingest(tax_source, io.BytesIO(content.getvalue()))
    assert rerun.pk == batch.pk and rerun.status == BatchStatus.COMPLETED
    assert fact_visible().count() == 12


def test_bulk_written_facts_read_back_typed_with_aware_timestamps(tax_source):
    entity = MarketEntityFactory()
    _ingest(tax_source, _csv([[entity.uscc, "", "2024-06", "10.5", "A", "2"]]))
    fact = Fact.objects.get()
    assert fact.created_at.tzinfo is not None
    assert abs((timezone.now() - fact.created_at).total_seconds()) < 60
    assert fact.values()["tax_paid"] == "10.50" and fact.arrears == Decimal("2.00")
    assert fact.negative is True and fact.flag is False


def test_facts_follow_their_entity_and_batch_and_protect_their_source(tax_source):
    # The fact table has no database foreign keys (ADR 0004): Django's on_delete keeps them.
    from django.db.models import ProtectedError

    kept, gone = MarketEntityFactory(), MarketEntityFactory()
    batch = _ingest(
        tax_source,
        _csv(
            [[kept.uscc, "", "2024-06", "1", "A", "0"], [gone.uscc, "", "2024-06", "2", "A", "0"]]
        ),
    )
    gone.delete()
    assert list(Fact.objects.values_list("entity_id", flat=True)) == [kept.pk]
    with pytest.raises(ProtectedError):
        tax_source.delete()
    batch.delete()
    assert not Fact.objects.exists()


def test_a_row_delivered_again_in_another_file_is_a_duplicate_and_values_read_back(tax_source):
    entity = MarketEntityFactory()
    row = [entity.uscc, "", "2024-06", "1,000", "a", "3"]
    first = _ingest(tax_source, _csv([row]))
    second = _ingest(tax_source, _csv([row, [entity.uscc, "", "2024-07", "5", "A", "0"]]))
    assert (first.accepted, second.accepted, second.duplicates) == (1, 1, 1)
    fact = Fact.objects.get(period="2024-06")
    assert fact.values() == {
        "period": "2024-06",
        "tax_paid": "1000.00",
        "credit_grade": "A",
        "arrears": "3.00",
    }
    assert fact.negative and fact.retention_until == dt.date(2029, 6, 30)
