"""The registry card and list name industries and regions; codes stay out of the reader's way."""

import pytest
from django.urls import reverse

from xinrong.common.tests.plain_words import problems
from xinrong.enterprises.presenters import entity_row
from xinrong.enterprises.tests.factories import MarketEntityFactory
from xinrong.reference import industries

pytestmark = pytest.mark.django_db


def test_industry_reads_as_its_name_and_region_as_its_full_name(client, operator):
    entity = MarketEntityFactory(industry_code="F51", division_code="630102")
    name = industries.get("F51").display_name
    row = entity_row(entity)
    assert row["industry_name"] == name and row["industry_code"] == "F51"
    client.force_login(operator)
    detail = client.get(reverse("enterprises:detail", args=[entity.uscc])).content.decode()
    assert f'<dd class="col-8">{name}</dd>' in detail  # the name, not "F51 批发业"
    assert '<dd class="col-8">青海省西宁市城东区</dd>' in detail
    listing = client.get(reverse("enterprises:list")).content.decode()
    assert f"<td>{name}</td><td>青海省西宁市城东区</td>" in listing
    for html in (detail, listing):
        assert problems(html, allowed=frozenset({"English", "USCC"})) == []
