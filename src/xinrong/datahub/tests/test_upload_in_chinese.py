"""What the clerk's browser journey found on the upload page and in the Excel templates.

- the upload form offered all thirteen categories to a department that delivers four, and made a
  clerk with a single source pick it from "---------";
- the templates showed choice fields by their codes (example ``general``, format
  ``minor / general / serious``) where a clerk writes 一般.
"""

from __future__ import annotations

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from xinrong.datahub.categories import CATEGORIES
from xinrong.datahub.forms import UploadForm
from xinrong.datahub.models import Fact, Source

pytestmark = pytest.mark.django_db


def test_the_upload_form_offers_only_the_sources_categories(tax_source):
    form = UploadForm(sources=Source.objects.filter(pk=tax_source.pk))
    offered = [c for c, _label in form.fields["category"].choices]
    assert sorted(offered) == sorted(tax_source.categories)
    html = str(form["source"])
    assert "---------" not in html and "selected" in html


def test_two_sources_are_chosen_between(tax_source):
    from xinrong.datahub.services.sources import source_create

    source_create(
        code="court",
        name="青海省高级人民法院",
        organisation=tax_source.organisation,
        categories=["judicial", "real_estate"],
    )
    form = UploadForm(sources=Source.objects.all())
    assert "---------" in str(form["source"])
    offered = {c for c, _label in form.fields["category"].choices}
    assert offered == {"tax", "penalty", "judicial", "utility", "real_estate"}


@pytest.mark.parametrize("code", sorted(CATEGORIES))
def test_templates_speak_chinese_and_their_example_row_is_accepted(client, tax_source, code):
    client.force_login(tax_source.provider)
    response = client.get(reverse("datahub:template", args=[code]))
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            for cell in row:
                words = re.findall(r"[a-z]{3,}", str(cell or ""))
                assert not words, (code, sheet.title, cell)


def test_a_penalty_template_filled_in_chinese_is_accepted(client, tax_source):
    from xinrong.enterprises.tests.factories import MarketEntityFactory

    entity = MarketEntityFactory()
    client.force_login(tax_source.provider)
    response = client.get(reverse("datahub:template", args=["penalty"]))
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book.worksheets[0]
    example = [c.value for c in sheet[2]]
    assert "一般" in example
    sheet.delete_rows(2)
    sheet.append([entity.uscc, "", "", "西市监罚〔2026〕7号", "严重", "2026-01-05", 800])
    buf = io.BytesIO()
    book.save(buf)
    response = client.post(
        reverse("datahub:home"),
        {
            "source": tax_source.pk,
            "category": "penalty",
            "file": SimpleUploadedFile("penalty.xlsx", buf.getvalue()),
        },
    )
    assert response.status_code == 302
    assert Fact.objects.get(entity=entity, category="penalty").grade == "serious"


@pytest.mark.parametrize("text", ["B", "b", "B级", " b级 ", "B 级"])
def test_a_tax_credit_grade_is_understood_as_people_write_it(text):
    assert CATEGORIES["tax"].by_key["credit_grade"].choice_code(text) == "B"


def test_other_words_ending_in_ji_are_still_refused():
    assert CATEGORIES["tax"].by_key["credit_grade"].choice_code("高级") is None
    assert CATEGORIES["penalty"].by_key["severity"].choice_code("一般级") is None


def _error(category: str, key: str, text: str) -> str:
    from xinrong.datahub.rows import parse_field

    with pytest.raises(ValueError) as info:
        parse_field(CATEGORIES[category].by_key[key], text)
    return str(info.value)


def test_a_penalty_dated_far_in_the_future_is_told_the_rule_it_breaks():
    assert "不能晚于今天" in _error("penalty", "decided_on", "2099-01-01")


def test_a_date_out_of_range_names_the_range():
    assert "日期应在 1949-10-01 至" in _error("penalty", "publication_end", "1900-01-01")
