"""Shareholder links on the registry page lead only to pages the reader may open (issue 12:
an enterprise's own page linked to its corporate shareholder, which answered 404)."""

import re

import pytest
from django.urls import reverse

from xinrong.enterprises.models import Relationship
from xinrong.enterprises.tests.factories import MarketEntityFactory, PersonFactory

pytestmark = pytest.mark.django_db


def _links(body: str) -> list[str]:
    section = body[body.index("股东与主要人员") :]
    return re.findall(r'href="(/enterprises/[^"]+/)"', section)


def test_enterprise_sees_its_shareholders_without_links_to_pages_it_cannot_open(
    client, enterprise_user
):
    entity = enterprise_user.organisation.market_entity
    holder = MarketEntityFactory(name="西宁控股有限公司")
    Relationship.objects.create(entity=entity, holder_entity=holder, kind="shareholder")
    Relationship.objects.create(entity=entity, person=PersonFactory(), kind="shareholder")
    client.force_login(enterprise_user)
    body = client.get(reverse("enterprises:detail", args=[entity.uscc])).content.decode()
    assert "西宁控股有限公司" in body
    assert _links(body) == []  # the enterprise may not open another entity's page
    assert client.get(f"/enterprises/{holder.uscc}/").status_code == 404


def test_every_link_on_the_page_opens_for_the_reader(client, operator, substation_operator):
    entity = MarketEntityFactory(division_code="632801")
    inside = MarketEntityFactory(name="格尔木投资有限公司", division_code="632801")
    outside = MarketEntityFactory(name="西宁投资有限公司", division_code="630102")
    for holder in (inside, outside):
        Relationship.objects.create(entity=entity, holder_entity=holder, kind="shareholder")
    for user, expected in ((operator, {inside, outside}), (substation_operator, {inside})):
        client.force_login(user)
        body = client.get(reverse("enterprises:detail", args=[entity.uscc])).content.decode()
        links = _links(body)
        assert set(links) == {f"/enterprises/{e.uscc}/" for e in expected}
        for link in links:
            assert client.get(link).status_code == 200, link
