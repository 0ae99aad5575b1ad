"""Correcting a stored fact (a department answering a dispute) by the category's rules."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest

from xinrong.common.errors import ApplicationError, NotFoundError, PermissionDeniedError
from xinrong.datahub.choices import BatchStatus
from xinrong.datahub.models import Fact, IngestBatch
from xinrong.datahub.services.ingest import batch_ingest
from xinrong.datahub.services.quality import fact_correct, fact_values_check
from xinrong.enterprises.tests.factories import MarketEntityFactory

pytestmark = pytest.mark.django_db

HEADERS = [
    "统一社会信用代码",
    "所属期",
    "实缴税额（元）",
    "纳税信用等级",
    "欠税金额（元）",
    "生产经营地址",
]


def _deliver(source, rows):
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(HEADERS)
    writer.writerows(rows)
    return batch_ingest(
        source=source,
        category="tax",
        fileobj=io.BytesIO(buf.getvalue().encode()),
        filename="tax.csv",
        channel="cli",
    )


@pytest.fixture
def fact(tax_source):
    entity = MarketEntityFactory()
    _deliver(tax_source, [[entity.uscc, "2024-06", "1000", "B", "300", "西宁市城东区"]])
    return Fact.objects.get()


def test_correction_retypes_columns_and_rebuilds_negativity(fact, tax_source):
    assert fact.negative and fact.retention_until is not None
    result = fact_correct(
        fact=fact,
        changes={"tax_paid": "1,200.5", "arrears": "0", "address": "西宁市城西区"},
        actor=tax_source.provider,
    )
    fact.refresh_from_db()
    assert (fact.amount, fact.arrears) == (Decimal("1200.50"), Decimal("0.00"))
    assert fact.data["address"] == "西宁市城西区"
    assert fact.negative is False and fact.retention_until is None
    assert result.before["tax_paid"] == "1000.00" and result.after["tax_paid"] == "1200.50"
    assert set(result.changed) == {"tax_paid", "arrears", "address"}
    assert fact.values()["credit_grade"] == "B"  # untouched fields stay


def test_new_arrears_make_the_fact_negative_with_five_years_retention(fact, tax_source):
    fact_correct(fact=fact, changes={"arrears": "0"}, actor=tax_source.provider)
    fact_correct(fact=fact, changes={"arrears": "50"}, actor=tax_source.provider)
    fact.refresh_from_db()
    assert fact.negative and fact.retention_until == dt.date(2029, 6, 30)


def test_clearing_an_optional_field_removes_it(fact, tax_source):
    fact_correct(fact=fact, changes={"credit_grade": "", "address": ""}, actor=tax_source.provider)
    fact.refresh_from_db()
    assert fact.grade == "" and "address" not in fact.data
    assert "credit_grade" not in fact.values()


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"tax_paid": "abc"}, "values.tax_paid", "应为数字"),
        ({"tax_paid": "-5"}, "values.tax_paid", "不小于0"),
        ({"credit_grade": "Z"}, "values.credit_grade", "A、B、M、C、D"),
        ({"period": ""}, "values.period", "必填项"),
        ({"uscc": "91630100MA752L1X3M"}, "values.uscc", "可填写的字段"),
        ({"nope": "1"}, "values.nope", "tax_paid（实缴税额（元））"),
        ({"address": "a\x00b"}, "values.address", "控制字符"),
        ({"tax_paid": ["1"]}, "values.tax_paid", "文本或数字"),
    ],
)
def test_bad_values_name_the_field_and_the_rule(fact, tax_source, changes, field, words):
    with pytest.raises(ApplicationError) as exc:
        fact_correct(fact=fact, changes=changes, actor=tax_source.provider)
    assert exc.value.extra["field"] == field
    assert words in exc.value.message
    fact.refresh_from_db()
    assert fact.amount == Decimal("1000.00")


def test_unchanged_values_are_refused(fact, tax_source):
    with pytest.raises(ApplicationError) as exc:
        fact_correct(fact=fact, changes={"tax_paid": "1000"}, actor=tax_source.provider)
    assert exc.value.code == "nothing_changed"


def test_only_the_source_department_or_the_operator_corrects(fact, make_user, operator):
    other_dept = make_user("government", ["data_provider"])
    same_org_no_role = make_user("government", ["policy_publisher"], org=fact.source.organisation)
    for actor in (other_dept, same_org_no_role):
        with pytest.raises(PermissionDeniedError):
            fact_correct(fact=fact, changes={"tax_paid": "1"}, actor=actor)
    fact_correct(fact=fact, changes={"tax_paid": "1"}, actor=operator)
    fact.refresh_from_db()
    assert fact.amount == Decimal("1.00")


def test_facts_of_unfinished_batches_cannot_be_corrected(fact, tax_source):
    IngestBatch.objects.update(status=BatchStatus.PROCESSING)
    with pytest.raises(NotFoundError):
        fact_correct(fact=fact, changes={"tax_paid": "1"}, actor=tax_source.provider)


def test_the_wrong_row_delivered_again_stays_a_duplicate(fact, tax_source):
    original_hash = fact.row_hash
    fact_correct(fact=fact, changes={"tax_paid": "900"}, actor=tax_source.provider)
    fact.refresh_from_db()
    assert fact.row_hash == original_hash
    batch = _deliver(
        tax_source, [[fact.entity.uscc, "2024-06", "1000", "B", "300", "西宁市城东区"], []]
    )
    assert batch.duplicates == 1 and Fact.objects.count() == 1
    assert Fact.objects.get().amount == Decimal("900.00")


def test_values_check_returns_canonical_text():
    assert fact_values_check(
        category="penalty",
        changes={"fine": 5000, "decided_on": "2024年3月5日", "severity": "GENERAL"},
    ) == {"fine": "5000.00", "decided_on": "2024-03-05", "severity": "general"}
