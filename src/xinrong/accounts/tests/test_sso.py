"""Unified sign-on without a provider: off unless configured, the start redirect, bad callbacks."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from xinrong.accounts.models import SecurityAction, SecurityEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def configured(settings):
    settings.XINRONG_OIDC_ISSUER = "https://idp.example.gov.cn/oidc"
    settings.XINRONG_OIDC_CLIENT_ID = "xinrong"
    settings.XINRONG_OIDC_CLIENT_SECRET = "s"
    settings.XINRONG_OIDC_AUTHORIZATION_ENDPOINT = "https://idp.example.gov.cn/oidc/authorize"
    settings.XINRONG_OIDC_TOKEN_ENDPOINT = "https://idp.example.gov.cn/oidc/token"
    settings.XINRONG_OIDC_USERINFO_ENDPOINT = "https://idp.example.gov.cn/oidc/userinfo"
    settings.XINRONG_OIDC_JWKS_ENDPOINT = "https://idp.example.gov.cn/oidc/jwks"


def test_off_unless_configured(client, settings):
    settings.XINRONG_OIDC_ISSUER = ""
    page = client.get("/accounts/login/").content.decode()
    assert "统一身份认证登录" not in page
    assert client.get("/accounts/sso/start/").status_code == 404
    assert client.get("/accounts/sso/callback/?code=x&state=y").status_code == 404


def test_login_page_offers_sign_on_and_start_sends_pkce_state_nonce(client, configured):
    page = client.get("/accounts/login/?next=/credit/").content.decode()
    assert "统一身份认证登录" in page and "/accounts/sso/start/?next=/credit/" in page
    response = client.get("/accounts/sso/start/?next=/credit/")
    assert response.status_code == 302
    target = urlparse(response["Location"])
    assert target.netloc == "idp.example.gov.cn" and target.path == "/oidc/authorize"
    query = {k: v[0] for k, v in parse_qs(target.query).items()}
    assert query["client_id"] == "xinrong" and query["response_type"] == "code"
    assert query["redirect_uri"] == "http://testserver/accounts/sso/callback/"
    assert query["code_challenge_method"] == "S256" and query["code_challenge"]
    assert query["state"] in client.session["oidc_states"] and query["nonce"]
    assert client.session["oidc_login_next"] == "/credit/"


def test_callback_with_a_foreign_state_is_refused_in_chinese_and_recorded(client, configured):
    client.get("/accounts/sso/start/")
    response = client.get("/accounts/sso/callback/?code=abc&state=not-ours")
    assert response.status_code == 400
    assert "统一身份认证未能登录" in response.content.decode()
    (event,) = SecurityEvent.objects.filter(action=SecurityAction.SSO_FAILURE)
    assert event.details["reason"] == "state_mismatch"
    assert "_auth_user_id" not in client.session


def test_provider_error_is_refused_and_recorded(client, configured):
    response = client.get("/accounts/sso/callback/?error=access_denied&state=x")
    assert response.status_code == 403
    assert "使用账号密码登录" in response.content.decode()
    (event,) = SecurityEvent.objects.filter(action=SecurityAction.SSO_FAILURE)
    assert event.details == {"reason": "provider_error", "detail": "access_denied"}


def test_password_login_is_untouched_by_the_sso_backend(client, configured, enterprise_user):
    from conftest import PASSWORD

    response = client.post(
        "/accounts/login/", {"username": "ent_test", "password": PASSWORD}, follow=False
    )
    assert response.status_code == 302
    assert client.session["_auth_user_backend"] != "xinrong.accounts.sso.backend.SsoBackend"


def test_a_signed_on_session_ends_when_the_login_is_disabled(client, enterprise_user):
    from xinrong.accounts.sso.backend import SsoBackend

    client.force_login(enterprise_user, backend="xinrong.accounts.sso.backend.SsoBackend")
    assert SsoBackend().get_user(enterprise_user.pk) == enterprise_user
    enterprise_user.is_active = False
    enterprise_user.save(update_fields=["is_active"])
    assert SsoBackend().get_user(enterprise_user.pk) is None
    assert client.get("/").status_code == 302
