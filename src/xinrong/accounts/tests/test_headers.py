"""Security headers: a Content-Security-Policy with no inline script, and a Permissions-Policy."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _directives(header: str) -> dict[str, list[str]]:
    out = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


@pytest.mark.parametrize("path", ["/accounts/login/", "/api/v1/docs"])
def test_pages_carry_a_content_security_policy_without_inline_script(client, path):
    response = client.get(path)
    policy = _directives(response["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy.get("script-src", [])
    assert "'unsafe-eval'" not in policy.get("script-src", [])
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]


def test_pages_carry_a_permissions_policy(client):
    response = client.get(reverse("accounts:login"))
    header = response["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
        assert feature in header


def test_logged_in_pages_have_no_inline_script_or_handlers(client, operator):
    import re

    client.force_login(operator)
    for url in (reverse("web:home"), reverse("accounts:organisation_list")):
        body = client.get(url).content.decode()
        # data islands (json_script) are not run; every other <script> must load a file
        assert not re.search(r"<script(?![^>]*\b(src=|type=\"application/json\"))[^>]*>", body), url
        assert not re.search(r"\son[a-z]+\s*=\s*\"", body), url
        assert 'name="htmx-config"' in body
