"""Unified sign-on against a real OpenID Connect provider, through a real browser.

The provider is a tiny django-oauth-toolkit project (``oidc_provider/``) started once for the
module as a subprocess on a free loopback port with its own SQLite file and a fresh RSA key; the
platform runs on the live server. Each test drives the whole redirect flow in Chromium:
platform login page → provider login → authorisation code (PKCE, state, nonce) → callback.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CLIENT_ID = "xinrong-test"
CLIENT_SECRET = "provider-test-secret-0123456789"  # test provider only
PROVIDER_PASSWORD = "provider-pass-1"
SHOTS = Path(os.environ.get("XINRONG_SHOTS") or Path(tempfile.gettempdir()) / "shots-oidc")
SRC = Path(__file__).resolve().parents[3]

ENT_USCC_SEED, PERSON_SEED, DISABLED_SEED, UNKNOWN_SEED = 1, 2, 3, 99


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _users() -> dict[str, Any]:
    from xinrong.enterprises.tests.factories import valid_id_number, valid_uscc

    def entry(name: str, **claims: str) -> dict[str, Any]:
        return {"password": PROVIDER_PASSWORD, "name": name, "claims": claims}

    return {
        "ent": entry("西宁测试商贸有限公司", uscc=valid_uscc(seed=ENT_USCC_SEED)),
        "person": entry("李芳", id_number=valid_id_number(seed=PERSON_SEED)),
        "disabled": entry("停用测试有限公司", uscc=valid_uscc(seed=DISABLED_SEED)),
        "unknown": entry("未登记有限公司", uscc=valid_uscc(seed=UNKNOWN_SEED)),
    }


@pytest.fixture(scope="module")
def provider(live_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start the test provider; yield its issuer URL; stop it."""
    data = tmp_path_factory.mktemp("oidc-provider")
    port = _free_port()
    (data / "users.json").write_text(json.dumps(_users(), ensure_ascii=False), encoding="utf-8")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "xinrong.accounts.tests.oidc_provider.settings",
        "OIDC_PROVIDER_DIR": str(data),
        "OIDC_PROVIDER_PORT": str(port),
        "PYTHONPATH": str(SRC),
    }
    django = [sys.executable, "-m", "django"]
    subprocess.run(
        [
            *django,
            "oidc_provider_setup",
            "--redirect-uri",
            f"{live_server.url}/accounts/sso/callback/",
            "--client-id",
            CLIENT_ID,
            "--client-secret",
            CLIENT_SECRET,
        ],
        env=env,
        check=True,
        timeout=60,
    )
    log = (data / "server.log").open("wb")
    server = subprocess.Popen(
        [*django, "runserver", "--noreload", f"127.0.0.1:{port}"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    issuer = f"http://127.0.0.1:{port}/o"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(issuer + "/.well-known/openid-configuration", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((data / "server.log").read_text(errors="replace"))
            time.sleep(0.2)
        yield issuer
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture
def sso_on(settings: Any, provider: str) -> str:
    settings.XINRONG_OIDC_ISSUER = provider
    settings.XINRONG_OIDC_CLIENT_ID = CLIENT_ID
    settings.XINRONG_OIDC_CLIENT_SECRET = CLIENT_SECRET
    return provider


def _register(seed: int, *, username: str, rep: str, individual: bool = False) -> Any:
    from xinrong.enterprises.services import enterprise_register
    from xinrong.enterprises.tests.factories import valid_id_number, valid_uscc

    return enterprise_register(
        uscc=valid_uscc(seed=seed, individual=individual),
        name=f"测试主体{seed}",
        legal_rep_name=rep,
        legal_rep_id_number=valid_id_number(seed=seed),
        username=username,
        password=PASSWORD,
        industry_code="F51",
        division_code="630102",
    )


def _sign_on(page: Any, base: str, provider_user: str) -> None:
    page.goto(f"{base}/accounts/login/")
    with page.expect_navigation():
        page.click("#sso-login-button")
    assert page.url.startswith("http://127.0.0.1:"), page.url  # at the provider
    page.fill("#id_username", provider_user)
    page.fill("#id_password", PROVIDER_PASSWORD)
    with page.expect_navigation(url=lambda u: u.startswith(base)):
        page.click("#provider-login")
    page.wait_for_load_state("networkidle")


def _shots(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)


def _events(action: str) -> list[Any]:
    from xinrong.accounts.models import SecurityEvent

    return list(SecurityEvent.objects.filter(action=action).order_by("id"))


def test_enterprise_signs_on_by_uscc_then_by_the_stored_link(page, live_server, sso_on):
    from xinrong.accounts.models import SecurityAction, SsoIdentity

    owner = _register(ENT_USCC_SEED, username="ent_sso", rep="马明")
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    assert page.locator("#sso-login-button").inner_text().strip() == "统一身份认证登录"
    _shots(page, "login")
    _sign_on(page, base, "ent")
    assert page.url.rstrip("/") == base, page.url  # the enterprise's home page
    assert "测试主体1" in page.content()
    _shots(page, "enterprise-home")
    link = SsoIdentity.objects.get()
    assert (link.user_id, link.issuer) == (owner.pk, sso_on)
    assert [e.target_user_id for e in _events(SecurityAction.SSO_LINK)] == [owner.pk]
    assert _events(SecurityAction.SSO_LINK)[0].details["by"] == "uscc"

    # a later sign-on finds the login by issuer + subject alone
    page.context.clear_cookies()
    _sign_on(page, base, "ent")
    assert page.url.rstrip("/") == base
    assert SsoIdentity.objects.count() == 1
    assert len(_events(SecurityAction.SSO_LOGIN)) == 2
    assert not _events(SecurityAction.SSO_FAILURE)


def test_person_signs_on_by_id_number_to_the_business_they_run(page, live_server, sso_on):
    from xinrong.accounts.models import SecurityAction, SsoIdentity

    owner = _register(PERSON_SEED, username="ib_sso", rep="李芳", individual=True)
    _sign_on(page, live_server.url, "person")
    assert page.url.rstrip("/") == live_server.url, page.url
    assert "测试主体2" in page.content()
    assert SsoIdentity.objects.get().user_id == owner.pk
    assert _events(SecurityAction.SSO_LINK)[0].details["by"] == "id_number"
    assert "id_number" not in json.dumps(_events(SecurityAction.SSO_LINK)[0].details)[20:]


def test_unknown_uscc_gets_the_chinese_refusal_and_no_account(page, live_server, sso_on):
    from xinrong.accounts.models import SecurityAction, SsoIdentity, User

    before = User.objects.count()
    _sign_on(page, live_server.url, "unknown")
    assert "/accounts/sso/callback/" in page.url
    message = page.locator("#sso-refusal-message").inner_text()
    assert "市场主体库中没有统一社会信用代码" in message and "注册账户" in message
    _shots(page, "refused")
    assert User.objects.count() == before and not SsoIdentity.objects.exists()
    failure = _events(SecurityAction.SSO_FAILURE)
    assert [f.details["reason"] for f in failure] == ["no_match"]
    # not logged in: a platform page still asks for the login
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url


def test_disabled_login_cannot_sign_on(page, live_server, sso_on):
    from xinrong.accounts.models import SecurityAction, SsoIdentity

    owner = _register(DISABLED_SEED, username="off_sso", rep="王强")
    owner.is_active = False
    owner.save(update_fields=["is_active"])
    _sign_on(page, live_server.url, "disabled")
    assert "已停用" in page.locator("#sso-refusal-message").inner_text()
    assert not SsoIdentity.objects.exists()
    (failure,) = _events(SecurityAction.SSO_FAILURE)
    assert (failure.details["reason"], failure.target_user_id) == ("account_disabled", owner.pk)
