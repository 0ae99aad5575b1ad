"""Lists a clerk can work with (issue 12): filters, paging that keeps them, totals over the
filtered set, the empty state, bad filter values and the Excel export of exactly the list."""

from __future__ import annotations

import io
from decimal import Decimal

import openpyxl
import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import PASSWORD
from xinrong.marketplace.models import LoanApplication
from xinrong.marketplace.services import applications as application_services
from xinrong.marketplace.tests.factories import published_product


def _login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def _xlsx(response):
    assert response.status_code == 200, response.content[:500]
    body = b"".join(response.streaming_content)
    wb = openpyxl.load_workbook(io.BytesIO(body))
    return [list(r) for r in wb.active.iter_rows(values_only=True)]


@pytest.fixture
def apps(enterprise_user, other_enterprise_user, bank_officer, make_user, operator):
    """Bank A: three applications of two enterprises (500k, 1.2m, 180k); bank B: one (800k)."""
    product_a = published_product(bank_officer, operator, code="LIST-A", name="甲行信用贷")
    product_a2 = published_product(bank_officer, operator, code="LIST-A2", name="甲行经营贷")
    officer_b = make_user("bank", ["loan_officer"])
    product_b = published_product(officer_b, operator, code="LIST-B", name="乙行信用贷")
    ent1 = enterprise_user.organisation.market_entity
    ent2 = other_enterprise_user.organisation.market_entity

    def submit(user, entity, product, amount):
        return application_services.application_submit(
            actor=user,
            entity=entity,
            product=product,
            data={"amount": amount, "term_months": 12},
        )

    a1 = submit(enterprise_user, ent1, product_a, "500000")
    a2 = submit(other_enterprise_user, ent2, product_a, "1200000")
    a3 = submit(enterprise_user, ent1, product_a2, "180000.50")
    b1 = submit(enterprise_user, ent1, product_b, "800000")
    return {"a": [a1, a2, a3], "b": [b1], "officer_b": officer_b, "ent2": ent2}


def _numbers(html):
    return {a.number for a in LoanApplication.objects.all() if f'data-number="{a.number}"' in html}


def test_applications_filters_narrow_and_totals_are_over_the_filtered_set(
    client, apps, bank_officer
):
    _login(client, bank_officer)
    url = reverse("marketplace:applications")
    a1, a2, a3 = apps["a"]
    html = client.get(url).content.decode()
    assert _numbers(html) == {a1.number, a2.number, a3.number}  # never bank B's
    assert "1,880,000.50" in html  # the sum, with thousands separators
    html = client.get(url, {"amount_min": "200000"}).content.decode()
    assert _numbers(html) == {a1.number, a2.number}
    total = LoanApplication.objects.filter(
        institution=bank_officer.organisation, amount__gte=200000
    ).aggregate(s=Sum("amount"))["s"]
    assert total == Decimal("1700000.00") and "1,700,000.00" in html
    html = client.get(url, {"q": "海东测试"}).content.decode()
    assert _numbers(html) == {a2.number}
    html = client.get(url, {"q": a3.number}).content.decode()
    assert _numbers(html) == {a3.number}
    html = client.get(url, {"region": "630100"}).content.decode()  # 西宁市: ent1 only
    assert _numbers(html) == {a1.number, a3.number}


def test_applications_paging_keeps_the_filters(client, apps, bank_officer):
    _login(client, bank_officer)
    url = reverse("marketplace:applications")
    html = client.get(url, {"amount_min": "200000", "size": "1"}).content.decode()
    assert "共 2 条" in html
    assert "?amount_min=200000&amp;size=1&amp;page=2" in html


def test_applications_empty_state_names_the_search_and_offers_to_clear(client, apps, bank_officer):
    _login(client, bank_officer)
    html = client.get(reverse("marketplace:applications"), {"q": "不存在的企业"}).content.decode()
    assert "没有符合条件的贷款申请" in html
    assert "关键词“不存在的企业”" in html
    assert "清除筛选条件" in html


@pytest.mark.parametrize(
    "params, words",
    [
        ({"amount_min": "abc"}, "申请金额（元）不低于应为数字"),
        ({"submitted_from": "2026-13-40"}, "提交日期自：请输入有效日期"),
        ({"status": "nonsense"}, "状态：“nonsense”不是可选的值"),
        ({"amount_min": "9", "amount_max": "1"}, "下限不能大于上限"),
        ({"q": "a\x00b"}, "不能包含空字符"),
        ({"region": "999999"}, "不是可选的值"),
    ],
)
def test_applications_bad_filter_values_give_a_chinese_message(
    client, apps, bank_officer, params, words
):
    _login(client, bank_officer)
    response = client.get(reverse("marketplace:applications"), params)
    assert response.status_code == 200
    assert words in response.content.decode()
    export = client.get(reverse("marketplace:applications_export"), params)
    assert export.status_code == 200


def test_applications_export_is_exactly_the_filtered_list_with_typed_cells(
    client, apps, bank_officer
):
    _login(client, bank_officer)
    rows = _xlsx(client.get(reverse("marketplace:applications_export"), {"amount_max": "600000"}))
    header, data = rows[0], rows[1:]
    assert header[:3] == ["申请编号", "提交时间", "申请主体"]
    a1, _a2, a3 = apps["a"]
    assert {r[0] for r in data} == {a1.number, a3.number}  # bank B's 800k never appears
    row = next(r for r in data if r[0] == a3.number)
    amount = row[header.index("申请金额（元）")]
    assert isinstance(amount, int | float) and amount == pytest.approx(180000.50)
    assert row[header.index("状态")] == "已提交"
    import datetime as dt

    assert isinstance(row[header.index("提交时间")], dt.datetime)


def test_applications_export_scope_equals_the_list_scope(client, apps, make_user):
    _login(client, apps["officer_b"])
    rows = _xlsx(client.get(reverse("marketplace:applications_export")))
    assert [r[0] for r in rows[1:]] == [apps["b"][0].number]


def test_applications_list_queries_are_bounded(client, apps, bank_officer):
    _login(client, bank_officer)
    url = reverse("marketplace:applications")
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for i in range(4):  # more rows of other entities and products: no more queries
        copy = LoanApplication.objects.get(pk=apps["a"][i % 3].pk)
        copy.pk = None
        copy.number = f"SQCOPY{i}"
        copy.save()
    with CaptureQueriesContext(connection) as more:
        client.get(url)
    assert len(more) == len(few)


# ---------------------------------------------------------------- demands


@pytest.fixture
def demands(enterprise_user, other_enterprise_user):
    from xinrong.marketplace import matching
    from xinrong.marketplace.selectors import common as common_selectors
    from xinrong.marketplace.services import demands as demand_services
    from xinrong.marketplace.tests.factories import demand_in

    matching.catalogue_forget()

    def publish(user, **kw):
        entity = common_selectors.user_entity(user=user)
        return demand_services.demand_publish(actor=user, entity=entity, data=demand_in(**kw))

    out = {
        "xining": publish(enterprise_user, amount="500000", urgency="normal"),  # 630102
        "xining2": publish(enterprise_user, amount="2500000.25", purpose_category="equipment"),
        "haidong": publish(other_enterprise_user, amount="900000"),  # 632801
    }
    yield out
    matching.catalogue_forget()


def _demand_ids(html):
    from xinrong.marketplace.models import Demand

    return {d.pk for d in Demand.objects.all() if f'data-id="{d.pk}"' in html}


def test_demand_hall_shows_every_demand_paged_filtered_and_totalled(client, demands, bank_officer):
    _login(client, bank_officer)
    url = reverse("marketplace:demand_hall")
    html = client.get(url).content.decode()
    assert _demand_ids(html) == {d.pk for d in demands.values()}
    assert "3,900,000.25" in html and "显示前 50 个" not in html
    html = client.get(url, {"region": "632800"}).content.decode()  # 海东市
    assert _demand_ids(html) == {demands["haidong"].pk}
    html = client.get(url, {"purpose": "equipment"}).content.decode()
    assert _demand_ids(html) == {demands["xining2"].pk}
    html = client.get(url, {"amount_min": "600000", "size": "1"}).content.decode()
    assert len(_demand_ids(html)) == 1 and "?amount_min=600000&amp;size=1&amp;page=2" in html
    html = client.get(url, {"q": "不存在的企业"}).content.decode()
    assert "没有符合条件的融资需求" in html
    html = client.get(url, {"amount_max": "abc"}).content.decode()
    assert "融资金额（元）不高于应为数字" in html


def test_demand_hall_export_follows_the_hall(client, demands, bank_officer):
    _login(client, bank_officer)
    rows = _xlsx(client.get(reverse("marketplace:demand_hall_export"), {"amount_min": "600000"}))
    header, data = rows[0], rows[1:]
    assert {r[header.index("企业")] for r in data} == {
        demands["xining2"].entity.name,
        demands["haidong"].entity.name,
    }
    amount = [r[header.index("融资金额（元）")] for r in data]
    assert all(isinstance(a, int | float) for a in amount)
    assert sum(amount) == pytest.approx(3400000.25)
    assert "设备购置" in [r[header.index("用途类别")] for r in data]


def test_my_demands_are_the_enterprises_own_only(client, demands, enterprise_user):
    _login(client, enterprise_user)
    html = client.get(reverse("marketplace:my_demands")).content.decode()
    assert _demand_ids(html) == {demands["xining"].pk, demands["xining2"].pk}
    assert "3,000,000.25" in html
    rows = _xlsx(client.get(reverse("marketplace:my_demands_export")))
    assert len(rows) == 3  # header + its two demands, never the other enterprise's
    html = client.get(reverse("marketplace:my_demands"), {"status": "withdrawn"}).content
    assert "没有符合条件的融资需求" in html.decode() and "状态：已撤回" in html.decode()


def test_held_demands_export_needs_the_institution(client, demands, enterprise_user):
    _login(client, enterprise_user)
    assert client.get(reverse("marketplace:demands_held_export")).status_code == 403
    assert client.get(reverse("marketplace:demand_hall_export")).status_code == 403


# ---------------------------------------------------------------- products


def test_supermarket_empty_state_and_export(client, apps, enterprise_user):
    _login(client, enterprise_user)
    url = reverse("marketplace:list")
    html = client.get(url, {"q": "没有这个产品"}).content.decode()
    assert "没有符合条件的产品" in html and "关键词“没有这个产品”" in html
    bad = client.get(url, {"amount": "abc"}).content.decode()
    assert "融资金额应为大于 0 的数字" in bad and "没有符合条件的产品" in bad
    rows = _xlsx(client.get(reverse("marketplace:list_export"), {"q": "甲行"}))
    header, data = rows[0], rows[1:]
    assert sorted(r[0] for r in data) == ["LIST-A", "LIST-A2"]
    assert data[0][header.index("产品类型")] == "信用贷款"
    assert isinstance(data[0][header.index("最高额度（元）")], int | float)


def test_my_products_filter_and_export_stay_in_the_institution(client, apps, bank_officer):
    _login(client, bank_officer)
    html = client.get(reverse("marketplace:mine"), {"q": "经营"}).content.decode()
    assert 'data-code="LIST-A2"' in html and 'data-code="LIST-A"' not in html
    rows = _xlsx(client.get(reverse("marketplace:mine_export")))
    assert sorted(r[0] for r in rows[1:]) == ["LIST-A", "LIST-A2"]  # never bank B's LIST-B
    assert rows[1][rows[0].index("状态")] == "已上架"


def test_demand_hall_queries_do_not_grow_with_rows(client, demands, bank_officer):
    from xinrong.marketplace import matching
    from xinrong.marketplace.models import Demand

    _login(client, bank_officer)
    url = reverse("marketplace:demand_hall")
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for d in list(Demand.objects.all()):
        d.pk = None
        d.save()
    matching.catalogue_forget()
    client.get(url)
    with CaptureQueriesContext(connection) as more:
        html = client.get(url).content.decode()
    assert len(_demand_ids(html)) == 6
    assert len(more) == len(few)


def test_escalated_demands_filter_by_region_with_names(client, demands, operator):
    from django.utils import timezone

    from xinrong.marketplace.models import Demand

    Demand.objects.update(escalated_at=timezone.now())
    _login(client, operator)
    url = reverse("marketplace:demands_escalated")
    html = client.get(url).content.decode()
    assert _demand_ids(html) == {d.pk for d in demands.values()}
    assert "青海省西宁市城东区" in html and ">630102<" not in html  # names, not codes
    html = client.get(url, {"region": "632800"}).content.decode()
    assert _demand_ids(html) == {demands["haidong"].pk}
    html = client.get(url, {"q": "没有这家"}).content.decode()
    assert "没有符合条件的逾期无人承接的需求" in html
