"""Error pages in the platform's layout, in Chinese, each with the way forward."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import path, reverse

from xinrong.config.urls import (  # noqa: F401  (the error handlers of this test urlconf)
    handler400,
    handler403,
    handler404,
    handler500,
)
from xinrong.config.urls import urlpatterns as _platform_urls

pytestmark = pytest.mark.django_db


def _boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


def _forbidden(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied


# this module is also a urlconf: the platform's pages and a page that fails with a bug
urlpatterns = [path("test-boom/", _boom), path("test-forbidden/", _forbidden), *_platform_urls]


def _in_layout(body: str) -> None:
    assert 'id="mainnav"' in body, "the page keeps the menu"
    assert 'id="notification-bell"' in body
    assert 'id="error-page"' in body
    page = body.split('id="error-page"', 1)[1].split("</main>", 1)[0]
    for english in ("Forbidden", "Not Found", "Server Error", "Bad Request", "CSRF"):
        assert english not in page


def _actions(body: str) -> list[tuple[str, str]]:
    block = body.split('id="error-actions"', 1)[1].split("</div>", 1)[0]
    return re.findall(r'<a href="([^"]*)" class="btn[^"]*">([^<]+)</a>', block)


def test_404_in_chinese_in_the_layout_with_the_way_back(client, bank_officer):
    client.force_login(bank_officer)
    r = client.get("/no-such-page/")
    assert r.status_code == 404
    body = r.content.decode()
    _in_layout(body)
    assert "页面不存在" in body
    assert ("/", "返回首页") in _actions(body)


def test_404_under_a_list_offers_that_list(client, bank_officer):
    client.force_login(bank_officer)
    r = client.get(reverse("marketplace:applications") + "999999999/")
    assert r.status_code == 404
    body = r.content.decode()
    _in_layout(body)
    assert (reverse("marketplace:applications"), "返回“贷款申请”") in _actions(body)


def test_django_permission_denied_gives_the_chinese_403_page(client, enterprise_user, settings):
    settings.ROOT_URLCONF = __name__
    client.force_login(enterprise_user)
    r = client.get("/test-forbidden/")
    assert r.status_code == 403
    body = r.content.decode()
    _in_layout(body)
    assert "没有权限" in body and "您的账号没有访问此页面或执行此操作的权限" in body
    assert ("/", "返回首页") in _actions(body)


def test_a_403_with_the_views_message_says_what_is_missing(client, bank_officer):
    """PermissionDenied(_("…")) raised by a view (a bank has no enterprise portrait of its own)."""
    client.force_login(bank_officer)
    r = client.get(reverse("credit:portrait_own"))
    assert r.status_code == 403
    body = r.content.decode()
    _in_layout(body)
    assert "您的账户没有关联的市场主体" in body


def test_an_institution_refused_a_portrait_is_told_how_authorisation_is_obtained(
    client, bank_officer
):
    from xinrong.enterprises.tests.factories import MarketEntityFactory

    entity = MarketEntityFactory()
    client.force_login(bank_officer)
    r = client.get(reverse("credit:portrait", args=[entity.uscc]))
    assert r.status_code == 403
    body = r.content.decode()
    _in_layout(body)
    assert "授权" in body.split('id="error-message"')[1]
    assert "查询授权" in body  # the hint: the enterprise grants it on its 查询授权 page
    actions = _actions(body)
    assert (reverse("credit:archive", args=[entity.uscc]), "查看该企业的公示信息") in actions
    assert (reverse("marketplace:demand_hall"), "到需求大厅承接融资需求") in actions


def test_a_service_error_raised_by_a_page_uses_the_same_page(client, enterprise_user):
    """ApplicationErrorMiddleware (a PermissionDeniedError from a selector) → the same page."""
    client.force_login(enterprise_user)
    r = client.get(reverse("credit:alerts"))
    assert r.status_code == 403
    body = r.content.decode()
    _in_layout(body)
    assert "风险预警只发送给金融机构" in body
    assert "没有权限" in body


def test_400_for_a_bad_request_is_chinese(operator):
    client = Client(raise_request_exception=False)
    r = client.get("/", HTTP_HOST="evil.example.com")
    assert r.status_code == 400
    body = r.content.decode()
    assert "请求有误" in body and "返回首页" in body
    assert "Bad Request" not in body


@override_settings(ROOT_URLCONF=__name__)
def test_500_apologises_with_a_reference(bank_officer):
    client = Client(raise_request_exception=False)
    client.force_login(bank_officer)
    r = client.get("/test-boom/")
    assert r.status_code == 500
    body = r.content.decode()
    _in_layout(body)
    assert "很抱歉" in body
    assert re.search(
        r'id="error-reference">错误编号：<span class="xr-mono">[0-9A-F]{10}</span>', body
    )
    assert ("/test-boom/", "重新打开此页") in _actions(body)


def test_csrf_failure_is_the_chinese_page_with_a_way_back(bank_officer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(bank_officer)
    r = client.post(reverse("accounts:password_change"), {"old_password": "x"})
    assert r.status_code == 403
    body = r.content.decode()
    _in_layout(body)
    assert "表单安全校验未通过" in body and "刷新" in body
    assert "您的账号没有访问此页面" not in body  # not a missing right: an expired form
    assert (reverse("accounts:password_change"), "刷新此页") in _actions(body)


def test_an_over_long_search_gets_the_chinese_414_page(client, bank_officer):
    client.force_login(bank_officer)
    url = reverse("enterprises:list") + "?q=" + "很长的搜索" * 2000
    r = client.get(url)
    assert r.status_code == 414
    body = r.content.decode()
    _in_layout(body)
    assert "查询条件过长" in body
    assert (reverse("enterprises:list"), "清除查询条件") in _actions(body)
    # a normal search still works
    assert client.get(reverse("enterprises:list") + "?q=西宁").status_code == 200


def test_an_over_long_query_string_is_refused_before_the_login_redirect():
    r = Client().get("/?q=" + "x" * 10_000)
    assert r.status_code == 414
    assert "查询条件过长" in r.content.decode()


def test_serve_lets_gunicorn_pass_long_request_lines_to_django(monkeypatch):
    """gunicorn's default (4094 bytes; at most 8190 unless 0) would answer a bare English error."""
    from xinrong import cli

    started: list[list[str]] = []

    class FakeProcess:
        def __init__(self, args: list[str], *a: object, **kw: object) -> None:
            started.append(list(args))

        def wait(self) -> int:
            return 0

        def terminate(self) -> None:
            pass

    monkeypatch.setattr(cli.subprocess, "Popen", FakeProcess)
    monkeypatch.setattr(cli, "_print_demo_logins", lambda host, port: None)
    monkeypatch.setattr(cli.signal, "signal", lambda *a: None)
    assert cli.serve(["--no-worker", "--port", "8199"]) == 0
    (gunicorn,) = started
    args = dict(zip(gunicorn[2::2], gunicorn[3::2], strict=False))
    assert args["--limit-request-line"] == "0"
    assert int(args["--limit-request-field_size"]) >= 16384


def test_the_api_answers_an_over_long_query_string_in_its_own_json_contract():
    r = Client().get("/api/v1/enterprises?q=" + "x" * 10_000)
    assert r.status_code == 414
    body = r.json()
    assert body["code"] == "query_too_long" and "查询条件过长" in body["message"]
