"""Fuzz every API operation from its OpenAPI schema: bad input is a 4xx, never a 500."""

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from xinrong.enterprises.tests.factories import MarketEntityFactory

# Loading the schema needs no database: ninja builds it from the routers.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Keep the test's database connection open across the WSGI calls, as Django's test client does.

    The handler closes "old" connections when a request starts and ends; inside the test's
    transaction that closes PostgreSQL's connection (SQLite's in-memory one survives).
    """
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api_key(bank_admin):
    from xinrong.accounts.services.api_keys import api_key_create

    MarketEntityFactory()
    _key, raw = api_key_create(organisation=bank_admin.organisation, name="fuzz", actor=bank_admin)
    return raw


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@pytest.mark.django_db
def test_api_never_answers_500(case, api_key):
    case.call_and_validate(headers={"X-API-Key": api_key}, checks=[not_a_server_error])
