"""The registry door: market regulation's deliveries create and update market entities."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import time
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.utils import timezone
from openpyxl import load_workbook

from xinrong.accounts.services.api_keys import api_key_create
from xinrong.credit import tasks as credit_tasks
from xinrong.datahub.categories import CATEGORIES
from xinrong.datahub.choices import BatchStatus
from xinrong.datahub.models import Fact, IngestBatch, RowError
from xinrong.datahub.services.ingest import batch_ingest
from xinrong.datahub.services.sources import source_create
from xinrong.enterprises import services as registry
from xinrong.enterprises.models import MarketEntity, Person, Relationship
from xinrong.enterprises.tests.factories import valid_id_number, valid_uscc
from xinrong.reference import idcard

pytestmark = pytest.mark.django_db

KEYS = [f.key for f in CATEGORIES["registry"].all_fields]
ACME = valid_uscc(seed=1)
SHOP = valid_uscc(seed=2, individual=True)
ID1 = valid_id_number(seed=11)
ID2 = valid_id_number(seed=12)


@pytest.fixture
def market(make_user):
    provider = make_user("government", ["data_provider"])
    source = source_create(
        code="market",
        name="市场监管登记",
        organisation=provider.organisation,
        categories=["registry", "registration_change"],
    )
    source.provider = provider
    return source


def _csv(rows: list[dict[str, str]], keys: list[str] = KEYS) -> io.BytesIO:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=keys)
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return io.BytesIO(buf.getvalue().encode("utf-8-sig"))


def _deliver(source, rows, *, filename="registry.csv", keys=KEYS):
    return batch_ingest(
        source=source,
        category="registry",
        fileobj=_csv(rows, keys),
        filename=filename,
        channel="cli",
    )


def _acme(**extra: str) -> dict[str, str]:
    row = {
        "uscc": ACME,
        "name": "青海登记测试商贸有限公司",
        "region": "630102",
        "industry_code": "5212",
        "established_on": "2019-05-20",
        "registered_capital": "1000000",
        "employees": "12",
        "legal_rep_name": "韩梅梅",
        "legal_rep_id_number": ID1,
        "address": "西宁市城东区八一路1号",
        "annual_revenue": "860",
        "total_assets": "1200",
    }
    row.update(extra)
    return row


def _id_number(i: int) -> str:
    """Return a distinct ID number per i (one birth date each: no two people share one)."""
    birth = dt.date(1960, 1, 1) + dt.timedelta(days=i)
    return idcard.generate(random.Random(i), division_code="630102", birth=birth)


def _errors(batch) -> dict[tuple[int, str], str]:
    return {(e.row_number, e.column): e.rule for e in RowError.objects.filter(batch=batch)}


def test_registration_creates_entities_with_their_representative_and_a_trace(market):
    shop = {
        "uscc": SHOP,
        "name": "城东区马记牛肉面馆",
        "region": "630102",
        "industry_code": "6211",
        "event": "设立登记",
        "event_on": "2021-03-01",
        "established_on": "2021-03-01",
        "legal_rep_name": "马学明",
        "status": "存续",
    }
    batch = _deliver(market, [_acme(), shop])
    assert batch.status == BatchStatus.COMPLETED
    assert (batch.accepted, batch.rejected) == (2, 0)
    acme = MarketEntity.objects.get(uscc=ACME)
    assert acme.entity_type == "enterprise" and acme.organisation is None
    assert acme.division_code == "630102" and acme.industry_code == "F5212"
    assert acme.established_on == dt.date(2019, 5, 20)
    assert acme.registered_capital == Decimal("1000000.00")
    assert (acme.employees, acme.annual_revenue, acme.total_assets) == (
        12,
        Decimal("860.00"),
        Decimal("1200.00"),
    )
    assert acme.size_class == registry.compute_size_class(
        industry_code="F5212", employees=12, revenue=Decimal(860), assets=Decimal(1200)
    )
    assert acme.size_class  # the indicators are complete
    assert acme.registration_status == "active"
    assert acme.legal_representative.name == "韩梅梅"
    assert acme.legal_representative.id_number == ID1  # decrypted by the field
    assert acme.legal_representative.id_number_index == registry.person_id_index(ID1)
    assert (
        Relationship.objects.get(entity=acme, kind="legal_representative").person.name == "韩梅梅"
    )
    shop_entity = MarketEntity.objects.get(uscc=SHOP)
    assert shop_entity.entity_type == "individual_business"
    assert shop_entity.legal_representative.name == "马学明"
    # the trace an archive reader sees: one fact per applied row, the ID number masked
    fact = Fact.objects.get(entity=acme)
    assert (fact.category, fact.status, fact.occurred_on) == (
        "registry",
        "registered",
        dt.date(2019, 5, 20),
    )
    assert ID1 not in str(fact.data) and fact.data["legal_rep_id_number"].count("*") >= 8
    assert fact.amount == Decimal("1000000.00")


def test_a_change_updates_only_the_fields_it_carries(market):
    _deliver(market, [_acme()])
    change = {"uscc": ACME, "name": "青海登记测试商贸有限公司", "employees": "350"}
    batch = _deliver(market, [change], filename="change.csv")
    assert batch.accepted == 1
    acme = MarketEntity.objects.get(uscc=ACME)
    assert acme.employees == 350
    assert acme.registered_capital == Decimal("1000000.00")  # empty cell: unchanged
    assert acme.address == "西宁市城东区八一路1号"
    assert acme.legal_representative.name == "韩梅梅"
    assert acme.size_class == registry.compute_size_class(
        industry_code="F5212", employees=350, revenue=Decimal(860), assets=Decimal(1200)
    )
    assert Fact.objects.get(batch=batch).status == "changed"  # the default for a known code


def test_a_new_representative_replaces_the_tie(market):
    _deliver(market, [_acme()])
    _deliver(
        market,
        [
            {
                "uscc": ACME,
                "name": "青海登记测试商贸有限公司",
                "legal_rep_name": "李雷",
                "legal_rep_id_number": ID2,
            }
        ],
        filename="rep.csv",
    )
    acme = MarketEntity.objects.get(uscc=ACME)
    assert acme.legal_representative.name == "李雷"
    ties = Relationship.objects.filter(entity=acme, kind="legal_representative")
    assert [t.person.name for t in ties] == ["李雷"]
    assert Person.objects.count() == 2


def test_cancellation_and_revocation_set_the_status_and_keep_the_entity(market):
    _deliver(
        market,
        [_acme(), _acme(uscc=valid_uscc(seed=3), legal_rep_id_number=ID2, legal_rep_name="李雷")],
    )
    batch = _deliver(
        market,
        [
            {
                "uscc": ACME,
                "name": "青海登记测试商贸有限公司",
                "event": "注销",
                "event_on": "2025-01-10",
            },
            {"uscc": valid_uscc(seed=3), "name": "青海登记测试商贸有限公司", "event": "revoked"},
        ],
        filename="end.csv",
    )
    assert (batch.accepted, batch.rejected) == (2, 0)
    statuses = dict(MarketEntity.objects.values_list("uscc", "registration_status"))
    assert statuses == {ACME: "cancelled", valid_uscc(seed=3): "revoked"}
    acme = MarketEntity.objects.get(uscc=ACME)
    assert acme.get_registration_status_display() == "注销"
    assert acme.employees == 12  # history stays


def test_the_same_file_twice_and_old_rows_again_change_nothing(market):
    first = _deliver(market, [_acme()])
    again = _deliver(market, [_acme()])
    assert again.pk == first.pk and Fact.objects.count() == 1
    _deliver(
        market,
        [{"uscc": ACME, "name": "青海登记测试商贸有限公司", "employees": "40"}],
        filename="c.csv",
    )
    before = MarketEntity.objects.get(uscc=ACME).updated_at
    # the first registration again, in another file: a duplicate, not a rollback to 12 people
    old = _deliver(market, [_acme(), _acme()], filename="old-again.csv")
    assert (old.accepted, old.duplicates, old.rejected) == (0, 2, 0)
    acme = MarketEntity.objects.get(uscc=ACME)
    assert acme.employees == 40 and acme.updated_at == before
    assert Fact.objects.count() == 2


def test_rows_of_one_code_in_one_file_apply_in_order(market):
    batch = _deliver(
        market,
        [
            _acme(),
            {"uscc": ACME, "name": "青海登记测试商贸有限公司", "registered_capital": "2000000"},
            {
                "uscc": ACME,
                "name": "青海登记测试商贸有限公司",
                "event": "cancelled",
                "event_on": "2025-02-01",
            },
        ],
    )
    assert (batch.accepted, batch.rejected) == (3, 0)
    acme = MarketEntity.objects.get(uscc=ACME)
    assert acme.registered_capital == Decimal("2000000.00")
    assert acme.registration_status == "cancelled"
    assert list(
        Fact.objects.filter(batch=batch).order_by("id").values_list("status", flat=True)
    ) == [
        "registered",
        "changed",
        "cancelled",
    ]


def test_each_bad_row_is_refused_with_all_its_errors(client, market):
    _deliver(market, [_acme()])
    future = (timezone.localdate() + dt.timedelta(days=5)).isoformat()
    rows = [
        # 2: a bad code
        _acme(uscc="91630100MA752L1X3X"),
        # 3: unknown industry and division, at once
        _acme(
            uscc=valid_uscc(seed=4), industry_code="Z999", region="639999", legal_rep_id_number=""
        ),
        # 4: a cancellation before the establishment (the registered one)
        {
            "uscc": ACME,
            "name": "青海登记测试商贸有限公司",
            "event": "注销",
            "event_on": "2018-01-01",
        },
        # 5: a change to a code never registered, lacking what creating it needs
        {"uscc": valid_uscc(seed=5), "name": "未登记公司", "event": "变更登记", "employees": "3"},
        # 6: a registration lacking region; an event in the future; status against the event
        {
            "uscc": valid_uscc(seed=6),
            "name": "缺项公司",
            "industry_code": "5212",
            "event": "注销",
            "status": "存续",
            "event_on": future,
        },
        # 7: a bad ID number (shown masked) and an ID number without a name
        _acme(uscc=valid_uscc(seed=7), legal_rep_name="", legal_rep_id_number="630102198506011230"),
        # 8: a good row beside them
        _acme(uscc=valid_uscc(seed=8), legal_rep_id_number="", legal_rep_name="赵六"),
    ]
    batch = _deliver(market, rows, filename="bad.csv")
    assert (batch.accepted, batch.rejected) == (1, 6)
    errors = _errors(batch)
    assert (2, "统一社会信用代码") in errors
    assert "GB/T 4754" in errors[(3, "行业代码")]
    assert (3, "行政区划代码") in errors
    assert "不能早于成立日期（2019-05-20）" in errors[(4, "事项日期")]
    assert "尚未登记" in errors[(5, "行政区划代码")] and "尚未登记" in errors[(5, "行业代码")]
    assert "行政区划代码" in errors[(5, "行业代码")]
    assert (6, "行政区划代码") in errors
    assert "不能晚于今天" in errors[(6, "事项日期")]
    assert "注销" in errors[(6, "登记状态")]
    assert (7, "法定代表人身份证号码") in errors and (7, "法定代表人/经营者") in errors
    stored = RowError.objects.get(batch=batch, row_number=7, column="法定代表人身份证号码")
    assert "630102198506011230" not in stored.value + str(stored.cells)
    assert MarketEntity.objects.get(uscc=ACME).registration_status == "active"
    assert not MarketEntity.objects.filter(uscc__in=[valid_uscc(seed=s) for s in (4, 5, 6, 7)])
    assert MarketEntity.objects.filter(uscc=valid_uscc(seed=8)).exists()
    # the re-uploadable error file: the rows as delivered (ID number masked) and their rules
    client.force_login(market.provider)
    response = client.get(f"/datahub/batches/{batch.pk}/errors.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]
    cells = [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c]
    assert "630102198506011230" not in cells and "韩梅梅" in cells
    assert any("GB/T 4754" in c for c in cells)


def test_two_names_for_one_id_number_is_refused_naming_both_masked(market):
    _deliver(market, [_acme()])
    other = _acme(uscc=valid_uscc(seed=9), legal_rep_name="李四光")
    same_file = [
        _acme(uscc=valid_uscc(seed=10), legal_rep_name="王五", legal_rep_id_number=ID2),
        _acme(uscc=valid_uscc(seed=13), legal_rep_name="赵六", legal_rep_id_number=ID2),
    ]
    batch = _deliver(market, [other, *same_file], filename="conflict.csv")
    assert (batch.accepted, batch.rejected) == (1, 2)
    errors = _errors(batch)
    rule = errors[(2, "法定代表人身份证号码")]
    assert "韩**" in rule and "李**" in rule and "韩梅梅" not in rule and "李四光" not in rule
    assert (
        "王*" in errors[(4, "法定代表人身份证号码")]
        and "赵*" in errors[(4, "法定代表人身份证号码")]
    )
    assert not MarketEntity.objects.filter(uscc=valid_uscc(seed=9)).exists()
    assert Person.objects.filter(id_number_index=registry.person_id_index(ID1)).count() == 1
    # the real representative of the refused entity is told the same at self-registration
    with pytest.raises(registry.ApplicationError) as exc:
        registry.enterprise_register(
            uscc=valid_uscc(seed=9),
            name="x",
            legal_rep_name="李四光",
            legal_rep_id_number=ID1,
            username="li",
            password="Owner-pass-2026",
            industry_code="5212",
            division_code="630102",
        )
    assert exc.value.code == "id_number_name_conflict"


def test_department_delivers_registry_rows_through_the_api(client, market):
    _key, raw = api_key_create(
        organisation=market.provider.organisation, name="登记报送", actor=market.provider
    )
    payload = {
        "source": "market",
        "category": "registry",
        "rows": [_acme(), {"uscc": valid_uscc(seed=5), "name": "未登记", "event": "changed"}],
    }
    response = client.post(
        "/api/v1/datahub/batches", payload, content_type="application/json", HTTP_X_API_KEY=raw
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (1, 1)
    assert {e["column"] for e in body["errors"]} == {"行政区划代码", "行业代码"}
    assert ID1 not in response.content.decode()
    assert MarketEntity.objects.filter(uscc=ACME).exists()


def test_the_cli_delivers_a_registry_file(market, tmp_path):
    path = tmp_path / "法人单位.csv"
    path.write_bytes(_csv([_acme()]).getvalue())
    out = io.StringIO()
    call_command("ingest", "--source", "market", "--category", "registry", str(path), stdout=out)
    assert "accepted 1" in out.getvalue()
    assert MarketEntity.objects.filter(uscc=ACME).exists()


def test_the_template_downloads_for_the_department(client, market):
    client.force_login(market.provider)
    response = client.get("/datahub/templates/registry.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    # saved under the category's Chinese name (an ASCII fallback for old clients)
    disposition = response["Content-Disposition"]
    assert "filename*=UTF-8''" + quote("法人单位基础信息模板.xlsx") in disposition
    assert 'filename="template-registry.xlsx"' in disposition


def test_the_batch_page_lists_the_entities_it_created_and_updated(client, market):
    from xinrong.common.tests.plain_words import problems

    client.force_login(market.provider)
    first = _deliver(market, [_acme(), _acme(uscc=valid_uscc(seed=9), established_on="2020-13-40")])
    page = client.get(f"/datahub/batches/{first.pk}/").content.decode()
    assert not problems(page)
    assert "本批登记的市场主体" in page and "新设立 1 户，更新 0 户" in page
    assert "青海登记测试商贸有限公司" in page and f"/enterprises/{ACME}/" in page
    assert "设立登记" in page and "新设立</span>" in page

    change = _acme(event="变更登记", event_on="2024-01-02", address="西宁市城西区五四大街2号")
    second = _deliver(market, [change], filename="registry-change.csv")
    page = client.get(f"/datahub/batches/{second.pk}/").content.decode()
    assert "新设立 0 户，更新 1 户" in page and "变更登记" in page and "已更新</span>" in page

    other = client.get(f"/datahub/batches/{_penalty_batch(market).pk}/").content.decode()
    assert "本批登记的市场主体" not in other  # other categories add facts, not entities


def test_rescoring_after_the_batch_covers_the_entities_it_touched(market, monkeypatch):
    batch = _deliver(market, [_acme(), _acme(uscc=valid_uscc(seed=8), legal_rep_id_number="")])
    seen: list[list[int]] = []
    monkeypatch.setattr(
        "xinrong.credit.services.early_warning.alerts_raise",
        lambda *, entity_ids, batch_id: seen.append(sorted(entity_ids)) or 0,
    )
    credit_tasks.rescore_batch.call(batch.pk)
    assert seen == [sorted(MarketEntity.objects.values_list("pk", flat=True))]


def test_a_few_thousand_rows_in_one_batch(market):
    n = 3000
    rows = [
        {
            "uscc": valid_uscc(seed=100 + i, individual=i % 3 == 0),
            "name": f"批量主体{i}",
            "region": "630102",
            "industry_code": "5212",
            "employees": str(i % 50),
            "legal_rep_name": f"经营者{i}",
            "legal_rep_id_number": _id_number(i),
        }
        for i in range(n)
    ]
    started = time.perf_counter()
    batch = _deliver(market, rows, filename="bulk.csv")
    elapsed = time.perf_counter() - started
    assert batch.accepted == n and batch.rejected == 0
    assert MarketEntity.objects.count() == n
    assert Relationship.objects.count() == n
    assert IngestBatch.objects.get(pk=batch.pk).status == BatchStatus.COMPLETED
    print(f"{n} registry rows in {elapsed:.2f}s")  # the figure lives in benchmarks/


def _penalty_batch(source):
    """A delivery of another category by the same department."""
    source.categories = [*source.categories, "penalty"]
    source.save(update_fields=["categories"])
    buf = io.StringIO()
    csv.writer(buf).writerows(
        [
            ["统一社会信用代码", "决定书文号", "严重程度", "处罚日期"],
            [ACME, "罚1号", "一般", "2024-02-01"],
        ]
    )
    return batch_ingest(
        source=source,
        category="penalty",
        fileobj=io.BytesIO(buf.getvalue().encode("utf-8-sig")),
        filename="penalty.csv",
        channel="cli",
    )
