import pytest

from xinrong.marketplace import matching
from xinrong.marketplace.models import Demand
from xinrong.marketplace.selectors import common as common_selectors
from xinrong.marketplace.services import demands as demand_services
from xinrong.marketplace.tests.factories import demand_data, demand_in, published_product

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_catalogue():
    matching.catalogue_forget()
    yield
    matching.catalogue_forget()


@pytest.fixture
def shelf(bank_officer, operator):
    return [
        published_product(bank_officer, operator, code="D-CHEAP", name="低息首贷", rate_min="3.85"),
        published_product(bank_officer, operator, code="D-DEAR", name="普通经营贷", rate_min="5.5"),
        published_product(
            bank_officer,
            operator,
            code="D-BIG",
            name="大额贷",
            amount_min="5000000",
            amount_max="50000000",
        ),
    ]


def publish(user, **overrides):
    entity = common_selectors.user_entity(user=user)
    return demand_services.demand_publish(actor=user, entity=entity, data=demand_in(**overrides))


def test_enterprise_publishes_from_the_form_and_sees_ranked_matches(client, enterprise_user, shelf):
    client.force_login(enterprise_user)
    assert "我的需求" in client.get("/marketplace/demands/").content.decode()
    data = demand_data()
    response = client.post("/marketplace/demands/new/", data)
    demand = Demand.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/demands/{demand.pk}/")
    page = client.get(response["Location"]).content.decode()
    assert page.index("低息首贷") < page.index("普通经营贷")
    assert "大额贷" not in page
    assert "利率 3.85%–5.8%，全部低于您可接受的 6%" in page
    assert "/marketplace/p/D-CHEAP/" in page
    listing = client.get("/marketplace/demands/").content.decode()
    assert f"/marketplace/demands/{demand.pk}/" in listing


def test_form_shows_the_service_error_on_the_field(client, enterprise_user):
    client.force_login(enterprise_user)
    response = client.post("/marketplace/demands/new/", demand_data(amount="200000000"))
    assert response.status_code == 200
    assert "不超过 100,000,000 元" in response.content.decode()
    assert not Demand.objects.exists()


def test_institution_cannot_publish_but_reads_open_demand(
    client, enterprise_user, bank_officer, shelf
):
    demand = publish(enterprise_user)
    client.force_login(bank_officer)
    assert client.get("/marketplace/demands/new/").status_code == 403
    page = client.get(f"/marketplace/demands/{demand.pk}/").content.decode()
    assert "500,000" in page or "500000" in page
    # matches reveal the entity's grades: not for institutions
    assert "低息首贷" not in page and 'id="matches-hidden"' in page
    assert 'id="withdraw"' not in page


def test_other_enterprise_cannot_see_or_withdraw(client, enterprise_user, other_enterprise_user):
    demand = publish(enterprise_user)
    client.force_login(other_enterprise_user)
    assert client.get(f"/marketplace/demands/{demand.pk}/").status_code == 404
    client.post(f"/marketplace/demands/{demand.pk}/withdraw/")
    demand.refresh_from_db()
    assert demand.status == "open"


def test_owner_withdraws_from_the_detail_page(client, enterprise_user):
    demand = publish(enterprise_user)
    client.force_login(enterprise_user)
    client.post(f"/marketplace/demands/{demand.pk}/withdraw/")
    demand.refresh_from_db()
    assert demand.status == "withdrawn"


# ---------------------------------------------------------------- API


def test_api_publishes_and_returns_matches(client, enterprise_user, shelf):
    client.force_login(enterprise_user)
    response = client.post(
        "/api/v1/marketplace/demands", demand_data(), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    demand_id = response.json()["id"]
    assert response.json()["status"] == "open"
    body = client.get(f"/api/v1/marketplace/demands/{demand_id}/matches").json()
    assert [r["code"] for r in body["results"]] == ["D-CHEAP", "D-DEAR"]
    assert body["eligible_count"] == 2 and body["considered"] == 3
    assert body["results"][0]["rank"] == 1
    assert set(body["results"][0]["components"]) == set(body["weights"])
    assert any("3.85%" in line for line in body["results"][0]["explanations"])


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount", "0"),
        ("term_months", 400),
        ("max_rate", "40"),
        ("urgency", "now"),
        ("collateral_modes", ["gold"]),
    ],
)
def test_api_rejects_bad_values_with_422_naming_the_field(client, enterprise_user, field, value):
    client.force_login(enterprise_user)
    response = client.post(
        "/api/v1/marketplace/demands",
        demand_data(**{field: value}),
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["extra"]["field"] == field


def test_api_missing_field_is_422(client, enterprise_user):
    client.force_login(enterprise_user)
    data = demand_data()
    del data["amount"]
    response = client.post("/api/v1/marketplace/demands", data, content_type="application/json")
    assert response.status_code == 422
    assert "amount" in response.content.decode()


def test_api_institution_cannot_publish_and_stranger_cannot_read(
    client, enterprise_user, other_enterprise_user, bank_officer
):
    client.force_login(bank_officer)
    response = client.post(
        "/api/v1/marketplace/demands", demand_data(), content_type="application/json"
    )
    assert response.status_code == 403
    demand = publish(enterprise_user)
    assert client.get(f"/api/v1/marketplace/demands/{demand.pk}/matches").status_code == 403
    client.force_login(other_enterprise_user)
    assert client.get(f"/api/v1/marketplace/demands/{demand.pk}/matches").status_code == 404
