import pytest

from xinrong.accounts.services.api_keys import api_key_create, api_key_revoke
from xinrong.enterprises.tests.factories import MarketEntityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_key(bank_admin):
    _key, raw = api_key_create(organisation=bank_admin.organisation, name="test", actor=bank_admin)
    return raw


def test_api_requires_authentication(client):
    response = client.get("/api/v1/enterprises")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_api_key_lookup_by_uscc_masks_personal_data(client, api_key):
    entity = MarketEntityFactory(name="西宁某有限公司")
    response = client.get(f"/api/v1/enterprises/{entity.uscc}", HTTP_X_API_KEY=api_key)
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "西宁某有限公司"
    id_number = entity.legal_representative.id_number
    assert id_number not in response.content.decode()
    assert body["legal_representative_id_number"].startswith(id_number[:3])
    assert "*" in body["legal_representative_id_number"]


def test_revoked_key_is_refused(client, bank_admin):
    key, raw = api_key_create(organisation=bank_admin.organisation, name="t", actor=bank_admin)
    api_key_revoke(key=key, actor=bank_admin)
    assert client.get("/api/v1/enterprises", HTTP_X_API_KEY=raw).status_code == 401


def test_search_paginates_and_counts(client, api_key):
    MarketEntityFactory.create_batch(3)
    body = client.get("/api/v1/enterprises?page_size=2", HTTP_X_API_KEY=api_key).json()
    assert body["count"] == 3
    assert len(body["results"]) == 2


def test_unknown_uscc_is_404_with_contract(client, api_key):
    from xinrong.enterprises.tests.factories import valid_uscc

    response = client.get(f"/api/v1/enterprises/{valid_uscc(seed=999)}", HTTP_X_API_KEY=api_key)
    assert response.status_code == 404
    assert set(response.json()) == {"code", "message", "extra"}
    assert response.json()["extra"]["field"] == "uscc"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page=0", "page"),
        ("page_size=1000", "page_size"),
        ("region=999999", "region"),
        ("industry=Z9", "industry"),
    ],
)
def test_bad_query_is_4xx_naming_the_field(client, api_key, query, field):
    response = client.get(f"/api/v1/enterprises?{query}", HTTP_X_API_KEY=api_key)
    assert 400 <= response.status_code < 500
    assert response.json()["extra"]["field"] == field


def test_session_user_can_call_api(client, operator):
    MarketEntityFactory()
    client.force_login(operator)
    assert client.get("/api/v1/enterprises").json()["count"] == 1


def test_me_reports_the_api_key_service_account(client, api_key, bank_admin):
    body = client.get("/api/v1/accounts/me", HTTP_X_API_KEY=api_key).json()
    assert body["organisation"]["name"] == bank_admin.organisation.name


def test_uscc_validation_endpoint_names_the_fault(client):
    response = client.get("/api/v1/reference/uscc/91630100MA7XXXXX")
    assert response.status_code == 422
    assert response.json()["code"] == "uscc_length"
    assert response.json()["extra"]["field"] == "uscc"


def test_lookup_with_malformed_code_explains_the_fault(client, api_key):
    from xinrong.enterprises.tests.factories import valid_uscc

    code = valid_uscc(seed=5)
    bad = code[:-1] + ("0" if code[-1] != "0" else "1")
    response = client.get(f"/api/v1/enterprises/{bad}", HTTP_X_API_KEY=api_key)
    assert response.status_code == 422
    assert response.json()["code"] == "uscc_check"


def test_bad_query_message_is_chinese_and_names_the_rule(client, api_key):
    body = client.get("/api/v1/enterprises?page_size=1000", HTTP_X_API_KEY=api_key).json()
    assert body["message"] == "字段“page_size”不能大于 100"
    body = client.get("/api/v1/enterprises?page=x", HTTP_X_API_KEY=api_key).json()
    assert body["message"] == "字段“page”应为整数"


def test_search_with_a_nul_character_is_a_422_naming_the_field(client, operator):
    client.force_login(operator)
    for param in ("q", "size_class", "entity_type"):
        response = client.get(f"/api/v1/enterprises?{param}=a%00b")
        assert response.status_code == 422
        assert response.json()["extra"]["field"] == param


def test_registry_entry_lists_shareholders_but_not_guarantees(client, api_key):
    from decimal import Decimal

    from xinrong.enterprises import services

    debtor, guarantor, holder = MarketEntityFactory(), MarketEntityFactory(), MarketEntityFactory()
    services.relationship_add(
        entity=debtor, kind="shareholder", holder_entity=holder, share_ratio=Decimal("30")
    )
    services.relationship_add(
        entity=debtor,
        kind="guarantor",
        holder_entity=guarantor,
        guaranteed_amount=Decimal("1000000"),
    )
    body = client.get(f"/api/v1/enterprises/{debtor.uscc}", HTTP_X_API_KEY=api_key).json()
    parties = {r["party_uscc"] for r in body["relationships"]}
    assert holder.uscc in parties and guarantor.uscc not in parties
