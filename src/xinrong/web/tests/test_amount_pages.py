"""Issue 12, amounts on the pages people read: one way to write an amount, in both languages.

The product list and detail, an application with its loan, a demand and the portrait, rendered
in Chinese and English: every amount is grouped by thousands and agrees to the cent with the
database ("123,456.78 元" / "CNY 123,456.78"); no figure of 10,000 or more is shown ungrouped,
and in English no "元" follows a figure (today's "1,000 CNY 10,000").
"""

from __future__ import annotations

import html
import re
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from xinrong.common.templatetags.money import amount_text
from xinrong.marketplace import matching
from xinrong.marketplace.selectors import common as common_selectors
from xinrong.marketplace.services import demands as demand_services
from xinrong.marketplace.tests.factories import demand_in, published_product
from xinrong.marketplace.tests.test_applications import _apply, _build

pytestmark = pytest.mark.django_db

LANGS = ("zh-hans", "en")
# an amount with cents of five digits or more, or a figure of 5+ digits before its unit
UNGROUPED = re.compile(r"(?<![\d,.])\d{5,}\.\d{2}(?!\d)|(?<![\d,.])\d{5,}(?:\.\d+)?\s*万?元")
FIGURE_THEN_YUAN = re.compile(r"\d\s*万?元")
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(autouse=True)
def _fresh_catalogue():
    matching.catalogue_forget()
    yield
    matching.catalogue_forget()


@pytest.fixture(autouse=True)
def _chinese_after():
    """Pages asked in English leave English active in this thread: later tests expect Chinese."""
    yield
    translation.activate("zh-hans")


@pytest.fixture
def bank(bank_officer, make_user):
    org = bank_officer.organisation
    return {
        "loan_officer": bank_officer,
        "reviewer": make_user("bank", ["reviewer"], org=org),
        "institution_admin": make_user("bank", ["institution_admin"], org=org),
    }


@pytest.fixture
def entity(enterprise_user):
    return enterprise_user.organisation.market_entity


def _visible(page: str) -> str:
    page = re.sub(r"<(script|style|template)\b.*?</\1>", " ", page, flags=re.S | re.I)
    page = re.sub(r"<option\b.*?</option>", lambda m: " " + m.group(0) + " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def _get(client, url: str, lang: str) -> str:
    client.cookies["django_language"] = lang
    response = client.get(url)
    assert response.status_code == 200, url
    return _visible(response.content.decode())


def _check(text: str, lang: str, where: str) -> None:
    assert not UNGROUPED.findall(text), (where, lang, UNGROUPED.findall(text)[:5])
    if lang == "en":
        # a figure then 元 on an English line; stored notes (a workflow event's text, written in
        # the language of whoever acted) are Chinese sentences and keep their Chinese unit
        english = [
            line.strip()
            for line in text.splitlines()
            if FIGURE_THEN_YUAN.search(line) and not CJK.search(FIGURE_THEN_YUAN.sub("", line))
        ]
        assert not english, (where, english[:5])


def _amount(value: str, lang: str) -> str:
    with translation.override(lang):
        return amount_text(Decimal(value))


@pytest.mark.parametrize("lang", LANGS)
def test_product_list_and_detail_show_the_range_to_the_cent(
    client, enterprise_user, bank_officer, operator, lang
):
    published_product(
        bank_officer,
        operator,
        code="AMT-1",
        name="分位贷",
        amount_min="10000.50",
        amount_max="9960000",
    )
    client.force_login(enterprise_user)
    expected = "10,000.50–9,960,000.00 元" if lang == "zh-hans" else "CNY 10,000.50 – 9,960,000.00"
    for url in ("/marketplace/", "/marketplace/p/AMT-1/"):
        text = _get(client, url, lang)
        assert expected in text, (url, lang)
        _check(text, lang, url)


@pytest.mark.parametrize("lang", LANGS)
def test_application_and_its_loan_agree_to_the_cent(
    client, enterprise_user, entity, bank, operator, lang
):
    repaying = _build("repaying", enterprise_user, entity, bank, operator)
    loan = repaying.loan
    product = published_product(bank["loan_officer"], operator, code="AMT-2")
    submitted = _apply(enterprise_user, entity, product, amount="123456.78")
    client.force_login(enterprise_user)

    text = _get(client, f"/marketplace/applications/{submitted.pk}/", lang)
    assert _amount("123456.78", lang) in text
    _check(text, lang, "application")

    text = _get(client, f"/marketplace/applications/{repaying.pk}/", lang)
    for value in (loan.principal, loan.outstanding):
        assert _amount(str(value), lang) in text, (value, lang)
    # the schedule's bare figures are grouped as well
    first = loan.instalments.get(seq=1)
    assert f"{first.principal_due:,.2f}" in text
    _check(text, lang, "loan")


@pytest.mark.parametrize("lang", LANGS)
def test_demand_page_shows_its_amount(client, enterprise_user, lang):
    entity = common_selectors.user_entity(user=enterprise_user)
    demand = demand_services.demand_publish(
        actor=enterprise_user, entity=entity, data=demand_in(amount="1234567.89")
    )
    client.force_login(enterprise_user)
    text = _get(client, f"/marketplace/demands/{demand.pk}/", lang)
    assert _amount("1234567.89", lang) in text
    _check(text, lang, "demand")


@pytest.mark.parametrize("lang", LANGS)
def test_portrait_has_no_hand_written_amount(client, enterprise_user, entity, lang):
    from xinrong.credit.tests.reporting import give_score

    give_score(entity)
    client.force_login(enterprise_user)
    text = _get(client, f"/credit/portrait/{entity.uscc}/", lang)
    _check(text, lang, "portrait")


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("zh-hans", "45,800,000.00 · 45,800,000 · 2026"), ("en", "45,800,000.00 · 45,800,000 · 2026")],
)
def test_figures_are_grouped_in_both_languages_but_years_are_not(lang, expected):
    """The project's format modules (settings.FORMAT_MODULE_PATH): Django's zh-hans has none."""
    source = '{% load humanize %}{{ a|floatformat:"2g" }} · {{ n|intcomma }} · {{ year }}'
    with translation.override(lang):
        out = Template(source).render(
            Context({"a": Decimal("45800000"), "n": 45800000, "year": 2026})
        )
    assert out == expected
