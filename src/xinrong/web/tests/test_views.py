import re

import pytest
from django.urls import reverse

from xinrong.enterprises.tests.factories import MarketEntityFactory

pytestmark = pytest.mark.django_db

ROLE_HEADINGS = {
    "operator": "运营驾驶舱",
    "bank_officer": "机构工作台",
    "gov_reviewer": "政府工作台",
    "enterprise_user": "企业中心",
}


@pytest.mark.parametrize("role", sorted(ROLE_HEADINGS))
def test_each_role_sees_its_dashboard(client, request, role):
    user = request.getfixturevalue(role)
    client.force_login(user)
    body = client.get(reverse("web:home")).content.decode()
    assert ROLE_HEADINGS[role] in body


def test_dashboard_counts_come_from_the_database(client, operator):
    MarketEntityFactory.create_batch(3)
    MarketEntityFactory(entity_type="individual_business")
    client.force_login(operator)
    body = client.get(reverse("web:home")).content.decode()
    assert re.search(r'data-stat="total">\s*4<', body)
    assert re.search(r'data-stat="individual">\s*1<', body)


def test_substation_dashboard_counts_only_its_region(client, substation_operator):
    MarketEntityFactory(division_code="632801")
    MarketEntityFactory(division_code="630102")
    client.force_login(substation_operator)
    body = client.get(reverse("web:home")).content.decode()
    assert re.search(r'data-stat="total">\s*1<', body)


def test_pages_reference_no_external_host(client, operator):
    MarketEntityFactory()
    client.force_login(operator)
    for url in (
        reverse("web:home"),
        reverse("enterprises:list"),
        reverse("accounts:login"),
        "/api/v1/docs",
    ):
        body = client.get(url).content.decode()
        hosts = re.findall(r'(?:src|href)=["\'](?:https?:)?//([^/"\']+)', body)
        assert hosts == [], (url, hosts)


def test_english_switch(client, operator):
    client.force_login(operator)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    body = client.get(reverse("web:home")).content.decode()
    assert "Operations cockpit" in body
    assert 'lang="en"' in body


def test_security_headers(client):
    response = client.get(reverse("accounts:login"))
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_healthz(client):
    body = client.get(reverse("web:healthz")).json()
    assert body["status"] == "ok"  # what load balancers read, as before
    assert set(body["checks"]) == {"database", "replica", "queue", "cache"}


def test_operator_admin_lists_registry_with_masked_people(client, db):
    from xinrong.accounts.models import User

    entity = MarketEntityFactory()
    admin = User.objects.create_superuser("root", password="Root-pass-2026")
    client.force_login(admin)
    assert client.get("/admin/enterprises/marketentity/").status_code == 200
    body = client.get("/admin/enterprises/person/").content.decode()
    assert entity.legal_representative.id_number not in body
    assert client.get("/admin/accounts/apikey/add/").status_code == 403
