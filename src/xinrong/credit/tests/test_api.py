import datetime as dt

import pytest
from django.utils import timezone

from xinrong.accounts.services.api_keys import api_key_create
from xinrong.credit.models import QueryLog
from xinrong.credit.services.archive import authorisation_grant

pytestmark = pytest.mark.django_db


def test_api_read_follows_authorisation_and_is_logged(
    client, facts, entity, enterprise_user, bank_admin
):
    _key, raw = api_key_create(organisation=bank_admin.organisation, name="信贷", actor=bank_admin)
    url = f"/api/v1/credit/archive/{entity.uscc}"
    body = client.get(url, HTTP_X_API_KEY=raw).json()
    assert body["authorised"] is False and "tax" in body["hidden_categories"]
    assert {f["category"] for f in body["facts"]} == {"penalty"}
    authorisation_grant(
        entity=entity,
        actor=enterprise_user,
        institution=bank_admin.organisation,
        scope="full",
        purpose="loan_application",
        expires_on=timezone.localdate() + dt.timedelta(days=10),
    )
    body = client.get(url, HTTP_X_API_KEY=raw).json()
    assert body["authorised"] is True
    assert "tax" in {f["category"] for f in body["facts"]}
    log = QueryLog.objects.get()
    assert log.channel == "api" and log.user.username.startswith("api-")
