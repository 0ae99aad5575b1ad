"""API auth: a bad key is refused even beside a session; a key of the wrong kind is 403."""

import json
import secrets
import time

import pytest

from xinrong.accounts import signing
from xinrong.accounts.services.api_keys import api_key_create, api_key_revoke

pytestmark = pytest.mark.django_db


def test_a_bad_api_key_beside_a_valid_session_is_401(client, bank_officer):
    client.force_login(bank_officer)
    assert client.get("/api/v1/accounts/me").status_code == 200
    response = client.get("/api/v1/accounts/me", headers={"X-API-Key": "xr_bad_key"})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_api_key"


def test_a_revoked_api_key_beside_a_valid_session_is_401(client, bank_admin):
    key, raw = api_key_create(
        organisation=bank_admin.organisation, name="信贷系统", actor=bank_admin
    )
    api_key_revoke(key=key, actor=bank_admin)
    client.force_login(bank_admin)
    response = client.get("/api/v1/accounts/me", headers={"X-API-Key": raw})
    assert response.status_code == 401


def test_a_valid_api_key_acts_as_its_service_user(client, bank_admin):
    key, raw = api_key_create(
        organisation=bank_admin.organisation, name="信贷系统", actor=bank_admin
    )
    response = client.get("/api/v1/accounts/me", headers={"X-API-Key": raw})
    assert response.status_code == 200
    assert response.json()["username"] == key.service_user.username


def _signed_get(client, raw: str, path: str):
    timestamp = str(int(time.time()))
    nonce = secrets.token_hex(12)
    signature = signing.hmac_hex(
        algorithm="HMAC-SHA256",
        secret=raw,
        message=signing.canonical_string(
            method="GET", path=path, timestamp=timestamp, nonce=nonce, body=b""
        ),
    )
    headers = {
        signing.HEADER_KEY: raw.split("_")[1],
        signing.HEADER_TIMESTAMP: timestamp,
        signing.HEADER_NONCE: nonce,
        signing.HEADER_METHOD: "HMAC-SHA256",
        signing.HEADER_SIGNATURE: signature,
    }
    return client.get(path, headers=headers)


def test_a_department_key_on_the_bank_api_is_403(client, make_user):
    dept = make_user("government", ["data_provider"])
    _key, raw = api_key_create(organisation=dept.organisation, name="报送", actor=dept)
    response = _signed_get(client, raw, "/api/v1/bank/applications")
    assert response.status_code == 403, response.content
    body = response.json()
    assert body["code"] == "api_key_kind"
    assert "金融机构" in body["message"]


def test_an_institution_key_on_the_bank_api_is_served(client, bank_admin):
    _key, raw = api_key_create(
        organisation=bank_admin.organisation, name="信贷系统", actor=bank_admin
    )
    response = _signed_get(client, raw, "/api/v1/bank/applications")
    assert response.status_code == 200, json.dumps(response.json(), ensure_ascii=False)
