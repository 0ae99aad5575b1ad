import pytest

from xinrong.accounts.services.api_keys import api_key_create

pytestmark = pytest.mark.django_db


def test_oversized_body_is_a_4xx_with_the_error_contract(client, tax_source, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    provider = tax_source.provider
    _key, raw = api_key_create(organisation=provider.organisation, name="x", actor=provider)
    rows = [{"name": "某公司" * 5, "period": "2024-06", "tax_paid": 1}] * 500
    response = client.post(
        "/api/v1/datahub/batches",
        {"source": "tax", "category": "tax", "rows": rows},
        content_type="application/json",
        HTTP_X_API_KEY=raw,
    )
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"
