"""Shared fixtures: one user per role, factories, a browser for Playwright tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

# Playwright's sync API runs an event loop; Django's ORM calls from the test thread are safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "Test-pass-2026"


def _one_request_at_a_time_on_a_shared_connection() -> None:
    """Serialise the live server's requests when they share the test's in-memory SQLite database.

    Django's live server (``LiveServerThread``, behind pytest-django's ``live_server`` and our
    journeys' ``demo_site``) serves each browser connection in its own thread, and with the
    in-memory SQLite test database every one of those threads is handed the *same* database
    connection (``connections_override``). A page that fires several requests at once (the
    browser's parallel connections, htmx fragments, chart data) then runs queries on one
    ``sqlite3`` connection from several threads, and the threads can block each other for good:
    six clients reloading home pages hung the server within a minute here, and browser journeys
    timed out in CI after 30 s waiting for a load that never came. One request at a time is what
    one connection allows; a lock around each request's handling (not around the wait for the
    next request on a kept-alive socket) gives exactly that. PostgreSQL and file databases give
    each thread its own connection and are left alone.
    """
    import threading

    from django.core.servers import basehttp

    lock = threading.Lock()
    run = basehttp.ServerHandler.run

    def run_alone(self: Any, application: Any) -> Any:
        if getattr(self.request_handler.server, "connections_override", None):
            with lock:
                return run(self, application)
        return run(self, application)

    basehttp.ServerHandler.run = run_alone  # type: ignore[method-assign]


_one_request_at_a_time_on_a_shared_connection()


def _test_logins_give_the_second_factor() -> None:
    """``Client.force_login``/``Client.login`` count as a full login, second factor included.

    They are authentication shortcuts for tests about something else; the two-factor flow itself
    is tested through its forms (accounts/tests/test_twofactor.py) and in the browser through
    ``browser_login``.
    """
    from django.test.client import Client, ClientMixin

    force_login, login = ClientMixin.force_login, ClientMixin.login

    def verified(client: Any) -> None:
        from xinrong.accounts.middleware import SESSION_KEY, VERIFIED

        session = client.session
        session[SESSION_KEY] = VERIFIED
        session.save()

    def force_login_verified(self: Any, user: Any, backend: Any = None) -> None:
        force_login(self, user, backend)
        verified(self)

    def login_verified(self: Any, **credentials: Any) -> bool:
        ok = login(self, **credentials)
        if ok:
            verified(self)
        return bool(ok)

    Client.force_login = force_login_verified  # type: ignore[method-assign]
    Client.login = login_verified  # type: ignore[method-assign]


_test_logins_give_the_second_factor()


@pytest.fixture
def make_user(db: Any):
    """Return a factory creating a user of an organisation kind with roles."""
    from xinrong.accounts.services.organisations import organisation_create
    from xinrong.accounts.services.users import user_create

    counter = {"n": 0}

    def factory(kind: str, roles: list[str], *, region_code: str = "", org=None, **kw: Any):
        counter["n"] += 1
        n = counter["n"]
        if org is None:
            org = organisation_create(
                name=f"测试机构{n}-{kind}", kind=kind, region_code=region_code
            )
        return user_create(
            username=kw.pop("username", f"user{n}_{kind}"),
            password=PASSWORD,
            organisation=org,
            roles=roles,
            display_name=kw.pop("display_name", f"测试用户{n}"),
            **kw,
        )

    return factory


@pytest.fixture
def operator(make_user):
    return make_user("operator", ["operator_admin"])


@pytest.fixture
def bank_officer(make_user):
    return make_user("bank", ["loan_officer"])


@pytest.fixture
def bank_admin(make_user):
    return make_user("bank", ["institution_admin"])


@pytest.fixture
def gov_reviewer(make_user):
    return make_user("government", ["fund_approver"])


@pytest.fixture
def substation_operator(make_user):
    return make_user("substation", ["operator_admin"], region_code="632801")


@pytest.fixture
def enterprise_user(db: Any):
    """An enterprise owner registered through the self-registration service."""
    from xinrong.enterprises.services import enterprise_register
    from xinrong.enterprises.tests.factories import valid_id_number, valid_uscc

    return enterprise_register(
        uscc=valid_uscc(seed=1),
        name="西宁测试商贸有限公司",
        legal_rep_name="马明",
        legal_rep_id_number=valid_id_number(seed=1),
        username="ent_test",
        password=PASSWORD,
        industry_code="F51",
        division_code="630102",
    )


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """A headless Debian Chromium driven by Playwright (no downloaded browser)."""
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=executable,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    """Dashboards cache figures briefly; each test starts with an empty cache."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
