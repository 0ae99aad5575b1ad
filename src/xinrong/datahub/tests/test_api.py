import pytest

from xinrong.accounts.services.api_keys import api_key_create
from xinrong.datahub.models import Fact
from xinrong.enterprises.tests.factories import MarketEntityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def dept_key(tax_source):
    provider = tax_source.provider
    _key, raw = api_key_create(organisation=provider.organisation, name="税务报送", actor=provider)
    return raw


def _post(client, key, payload):
    return client.post(
        "/api/v1/datahub/batches", payload, content_type="application/json", HTTP_X_API_KEY=key
    )


def test_department_delivers_json_rows_with_its_key(client, dept_key):
    entity = MarketEntityFactory()
    payload = {
        "source": "tax",
        "category": "tax",
        "rows": [
            {"uscc": entity.uscc, "period": "2024-06", "tax_paid": 1200.5, "credit_grade": "A"},
            {"uscc": entity.uscc, "period": "2024-13", "tax_paid": 10},
        ],
    }
    response = _post(client, dept_key, payload)
    assert response.status_code == 201
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (1, 1)
    assert body["errors"][0] == {
        "row": 3,
        "column": "所属期",
        "value": "2024-13",
        "rule": body["errors"][0]["rule"],
    }
    assert Fact.objects.get().amount == 1200.5
    again = _post(client, dept_key, payload)
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert Fact.objects.count() == 1
    assert (
        client.get(f"/api/v1/datahub/batches/{body['id']}", HTTP_X_API_KEY=dept_key).json()[
            "status"
        ]
        == "completed"
    )


def test_another_departments_key_is_forbidden(client, tax_source, make_user):
    other = make_user("government", ["data_provider"])
    _key, raw = api_key_create(organisation=other.organisation, name="x", actor=other)
    response = _post(
        client, raw, {"source": "tax", "category": "tax", "rows": [{"name": "x", "period": "2024"}]}
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("payload", "code", "field"),
    [
        (
            {"source": "nope", "category": "tax", "rows": [{"name": "x"}]},
            "source_not_found",
            "source",
        ),
        (
            {"source": "tax", "category": "honour", "rows": [{"name": "x"}]},
            "category_not_allowed",
            "category",
        ),
        ({"source": "tax", "category": "tax", "rows": []}, "invalid_input", "rows"),
    ],
)
def test_bad_batches_are_4xx_naming_the_field(client, dept_key, payload, code, field):
    response = _post(client, dept_key, payload)
    assert 400 <= response.status_code < 500
    assert response.json()["code"] == code
    assert response.json()["extra"]["field"] == field
