"""The shared list toolkit: filters read the query string, refuse bad values in Chinese and
narrow a queryset; totals are Decimal sums over the filtered set; figures carry separators."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Q
from django.http import QueryDict
from django.utils import timezone

from xinrong.accounts.models import Organisation
from xinrong.common import listing
from xinrong.common.templatetags.listing import count, division_name, figure

FILTERS = [
    listing.SearchFilter("q", "名称", ["name__icontains"]),
    listing.ChoiceFilter("kind", "类型", [("bank", "银行"), ("microloan", "小额贷款公司")]),
    listing.DateRangeFilter("created", "创建日期", "created_at"),
    listing.AmountRangeFilter("amount", "金额（元）", "pk"),
    listing.RegionFilter("region", "地区", "region_code"),
    listing.BooleanFilter("active", "仅启用", Q(is_active=True)),
]


def _fs(query: str) -> listing.FilterSet:
    return listing.FilterSet(QueryDict(query), FILTERS)


def test_no_query_is_not_filtered():
    fs = _fs("")
    assert not fs.is_filtered and fs.messages == [] and fs.active == []


def test_values_are_read_and_described_in_words():
    fs = _fs("q=西宁&kind=bank&amount_min=1000&region=630100&created_from=2026-01-01&active=on")
    assert fs.messages == []
    assert fs.values["amount_min"] == Decimal("1000")
    assert fs.values["created_from"] == dt.date(2026, 1, 1)
    assert fs.active == [
        "名称“西宁”",
        "类型：银行",
        "创建日期自 2026-01-01",
        "金额（元）不低于 1,000 元",
        "地区：西宁市",
        "仅启用",
    ]


@pytest.mark.parametrize(
    "query, message",
    [
        ("amount_min=abc", "金额（元）不低于应为数字，例如 100000 或 1234.56"),
        ("amount_min=-5", "金额（元）不低于不能小于 0"),
        ("amount_min=1e400", "金额（元）不低于请直接写出数字"),
        ("created_from=2026-13-40", "创建日期自：请输入有效日期，如 2026-01-31"),
        ("kind=evil", "类型：“evil”不是可选的值"),
        ("region=999999", "地区：“999999”不是可选的值"),
        ("q=%00", "名称：不能包含空字符"),
        ("q=" + "长" * 101, "名称：最多 100 个字"),
        ("amount_min=9&amount_max=1", "金额（元）：下限不能大于上限"),
        ("created_from=2026-02-01&created_to=2026-01-01", "创建日期：开始日期不能晚于结束日期"),
    ],
)
def test_bad_values_give_a_chinese_message_and_are_ignored(query, message):
    fs = _fs(query)
    assert any(m.startswith(message) for m in fs.messages), fs.messages
    assert fs.is_filtered
    for f in FILTERS:  # the bad value narrows nothing
        if f.name in query.split("=")[0]:
            assert not f.describe(fs.values)


@pytest.mark.django_db
def test_apply_narrows_and_totals_sum_the_filtered_set():
    a = Organisation.objects.create(name="西宁农商银行", kind="bank", region_code="630102")
    b = Organisation.objects.create(name="海东小贷", kind="microloan", region_code="632801")
    qs = Organisation.objects.filter(pk__in=[a.pk, b.pk])
    assert list(_fs("region=630100").apply(qs)) == [a]
    assert list(_fs("kind=microloan").apply(qs)) == [b]
    assert list(_fs("q=农商").apply(qs)) == [a]
    today = timezone.localdate().isoformat()
    assert set(_fs(f"created_from={today}&created_to={today}").apply(qs)) == {a, b}
    n, totals = listing.list_totals(qs, {"pk": "合计"})
    assert n == 2 and totals[0].value == a.pk + b.pk and totals[0].money


def test_an_amount_in_exponent_form_is_refused_like_in_every_form():
    fs = _fs("amount_min=1e5")
    assert fs.messages == ["金额（元）不低于请直接写出数字（例如 100000），不能使用科学计数法“1e5”"]
    assert fs.active == []


def test_figures_have_thousands_separators_in_every_locale():
    assert figure(Decimal("45800000")) == "45,800,000.00"
    assert figure("27182.94") == "27,182.94"
    assert figure(None) == "" and figure("abc") == ""
    assert count(1234567) == "1,234,567"
    assert division_name("630102") == "青海省西宁市城东区"


def test_export_cells_are_local_naive_datetimes_and_plain_text():
    aware = dt.datetime(2026, 1, 1, 16, 30, tzinfo=dt.UTC)
    assert listing.export_cell(aware) == dt.datetime(2026, 1, 2, 0, 30)
    assert listing.export_cell(Decimal("1.50")) == Decimal("1.50")
    assert listing.export_cell(dt.date(2026, 1, 1)) == dt.date(2026, 1, 1)
