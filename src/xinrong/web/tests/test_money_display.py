"""Amounts as each language writes them: "1,000.00 元" in Chinese, "CNY 1,000.00" in English."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from xinrong.common.templatetags.money import amount_range_text, amount_text


def _render(source: str, lang: str, **context: object) -> str:
    with translation.override(lang):
        return Template("{% load money %}" + source).render(Context(context))


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("zh-hans", "1,000.00 元"), ("en", "CNY 1,000.00")],
)
def test_money_filter(lang, expected):
    assert _render("{{ a|money }}", lang, a=Decimal("1000")) == expected


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("zh-hans", "1,000 元"), ("en", "CNY 1,000")],
)
def test_money_without_cents(lang, expected):
    assert _render("{{ a|money:0 }}", lang, a=Decimal("1000")) == expected


def test_cents_are_kept_not_rounded_away():
    with translation.override("zh-hans"):
        assert amount_text(Decimal("27182.94")) == "27,182.94 元"
    with translation.override("en"):
        assert amount_text(Decimal("27182.94")) == "CNY 27,182.94"


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("zh-hans", "1,000 万元"), ("en", "CNY 10,000,000")],
)
def test_amounts_in_ten_thousands(lang, expected):
    assert _render("{{ a|money_wan }}", lang, a=Decimal("1000")) == expected


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("zh-hans", "1–5 万元"), ("en", "CNY 10,000 – 50,000")],
)
def test_ranges(lang, expected):
    assert _render('{% money_range lo hi "万元" %}', lang, lo=1, hi=5) == expected


def test_the_english_unit_never_follows_the_figure():
    """Today's "1,000 CNY 10,000": the translated unit 万元 written after the figure."""
    with translation.override("en"):
        for text in (
            amount_text(1000, "万元"),
            amount_range_text(1000, 5000, "万元"),
            amount_range_text(1000, 5000),
        ):
            assert text.startswith("CNY ") and "CNY" not in text[4:], text


def test_not_a_number_is_shown_as_it_is():
    assert amount_text(None) == "—"
    assert amount_text("无数据") == "无数据"


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_grouped_floatformat_groups_by_thousands_in_chinese_too(lang):
    """``floatformat:"2g"`` (used by loan, demand and guarantee pages) groups in every language;
    Django's zh_Hans printed 620000.00."""
    with translation.override(lang):
        out = Template('{{ a|floatformat:"2g" }}').render(Context({"a": Decimal("620000")}))
    assert out == "620,000.00"
