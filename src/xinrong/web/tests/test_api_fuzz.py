"""The API contract, fuzzed: every operation, as every kind of caller, answers as its schema says.

schemathesis generates requests for each operation of /api/v1/openapi.json (valid ones, invalid
ones, and valid ones aimed at real objects) and sends them as each role that uses the API — no
login, a session of each staff role and of an enterprise, a plain ``X-API-Key`` and an
institution's system signing its requests for the bank API. Each answer must not be a 5xx and
its status code must be one the operation lists, with a JSON body of the declared shape.
"""

from __future__ import annotations

import io
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.wsgi import get_wsgi_application
from django.test import Client
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from xinrong.enterprises.tests.factories import MarketEntityFactory

APP = get_wsgi_application()
# Loading the schema needs no database: ninja builds it from the routers.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", APP)


def _operations() -> list[Any]:
    operations = []
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            raise result.err()  # a part of the OpenAPI document schemathesis cannot read
        operations.append(result.ok())
    return operations


OPERATIONS = _operations()

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = 1  # per operation, per generation mode, per role: the whole run stays within a minute

ROLES = [
    "anonymous",
    "operator",
    "substation",
    "department",
    "institution_officer",
    "institution_admin",
    "enterprise",
    "api_key",
    "signed_client",
]


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Iterator[None]:
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


def signing_app(raw_key: str) -> Callable[..., Any]:
    """Wrap the site in an institution's system: sign each request as it goes out.

    Signing what the server receives (path, query and body bytes) is exact whatever way the
    fuzzer serialised the request; the bank API's own tests cover badly signed requests.
    """
    from xinrong.accounts.signing import HMAC_SHA256, canonical_string, hmac_hex

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        from django.core.handlers.wsgi import WSGIRequest

        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        path = WSGIRequest({**environ, "wsgi.input": io.BytesIO(b"")}).get_full_path()
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        message = canonical_string(
            method=environ["REQUEST_METHOD"], path=path, timestamp=timestamp, nonce=nonce, body=body
        )
        environ["wsgi.input"] = io.BytesIO(body)
        environ.update(
            HTTP_X_XINRONG_KEY=raw_key.split("_")[1],
            HTTP_X_XINRONG_TIMESTAMP=timestamp,
            HTTP_X_XINRONG_NONCE=nonce,
            HTTP_X_XINRONG_SIGNATURE_METHOD=HMAC_SHA256,
            HTTP_X_XINRONG_SIGNATURE=hmac_hex(
                algorithm=HMAC_SHA256, secret=raw_key, message=message
            ),
        )
        return APP(environ, start_response)

    return app


@dataclass
class World:
    """Real objects the valid requests aim at, and who may call."""

    users: dict[str, Any]
    raw_key: str
    path_values: dict[str, Any] = field(default_factory=dict)


@pytest.fixture
def world(
    operator: Any,
    substation_operator: Any,
    gov_reviewer: Any,
    bank_officer: Any,
    make_user: Any,
    enterprise_user: Any,
) -> World:
    from xinrong.accounts.services.api_keys import api_key_create
    from xinrong.marketplace.tests.factories import published_product
    from xinrong.marketplace.tests.test_applications import _apply

    admin = make_user("bank", ["institution_admin"], org=bank_officer.organisation)
    MarketEntityFactory()
    entity = enterprise_user.organisation.market_entity
    product = published_product(bank_officer, operator, code="FUZZ-1")
    application = _apply(enterprise_user, entity, product, purpose="采购原材料")
    _key, raw = api_key_create(organisation=admin.organisation, name="fuzz", actor=admin)
    return World(
        users={
            "operator": operator,
            "substation": substation_operator,
            "department": gov_reviewer,
            "institution_officer": bank_officer,
            "institution_admin": admin,
            "enterprise": enterprise_user,
        },
        raw_key=raw,
        path_values={
            "uscc": entity.uscc,
            "code": product.code,
            "number": application.number,
        },
    )


def _session_cookie(user: Any) -> dict[str, str]:
    client = Client()
    client.force_login(user)
    return {
        django_settings.SESSION_COOKIE_NAME: client.cookies[
            django_settings.SESSION_COOKIE_NAME
        ].value
    }


def _call_kwargs(role: str, world: World) -> dict[str, Any]:
    if role == "anonymous":
        return {}
    if role == "api_key":
        return {"headers": {"X-API-Key": world.raw_key}}
    if role == "signed_client":
        return {"app": signing_app(world.raw_key)}
    return {"cookies": _session_cookie(world.users[role])}


def _strategies(operation: Any, world: World) -> Any:
    names = {p.name for p in operation.path_parameters}
    aimed = {k: v for k, v in world.path_values.items() if k in names}
    choices = [
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    ]
    if aimed:
        choices.append(
            operation.as_strategy(generation_mode=GenerationMode.POSITIVE, path_parameters=aimed)
        )
    return st.one_of(*choices)


def _fuzz(operation: Any, world: World, kwargs: dict[str, Any], failures: list[str]) -> int:
    """Send the operation's sampled cases; record what breaks the contract; return the calls."""
    calls = 0

    @given(case=_strategies(operation, world))
    @hypothesis_settings(
        max_examples=EXAMPLES * 3,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        nonlocal calls
        calls += 1
        try:
            case.call_and_validate(checks=CHECKS, **kwargs)
        except (AssertionError, BaseExceptionGroup) as exc:  # schemathesis' Failure(Group)
            failures.append(f"{operation.label}: {str(exc)[:800]}")

    run()
    return calls


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_every_operation_answers_only_as_its_schema_says(
    role: str, world: World, settings: Any
) -> None:
    settings.XINRONG_API_FEED_LAG_SECONDS = 0  # the feed serves the application made just now
    kwargs = _call_kwargs(role, world)
    failures: list[str] = []
    calls = sum(_fuzz(operation, world, kwargs, failures) for operation in OPERATIONS)
    print(f"{role}: {len(OPERATIONS)} operations, {calls} calls, {len(failures)} failures")
    assert calls >= len(OPERATIONS)
    assert not failures, "\n\n".join(failures)
