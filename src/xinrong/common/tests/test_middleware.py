"""ApplicationErrorMiddleware: a page that lets a service error through shows the error page."""

from __future__ import annotations

import pytest
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from xinrong.common.errors import (
    ApplicationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
)

ERRORS: dict[str, Exception] = {
    "not_found": NotFoundError("x_not_found", "该申请不存在或您无权查看"),
    "denied": PermissionDeniedError("x_denied", "只有经办机构可以受理该申请"),
    "conflict": ConflictError("x_state", "当前状态为「已放款」，不能「撤回」"),
    "plain": ApplicationError("x_rule", "金额须大于0元"),
    "teapot": ApplicationError("x_teapot", "自定义状态码", status=418),
    "invalid": ValidationError({"amount": ["金额须为数字"]}),
    "bug": RuntimeError("a bug"),
}


@login_not_required
def boom(request: HttpRequest, kind: str) -> HttpResponse:
    raise ERRORS[kind]


@login_not_required
@transaction.atomic
def half_write(request: HttpRequest) -> HttpResponse:
    from xinrong.accounts.models import Organisation

    Organisation.objects.create(name="半途机构", kind="bank")
    raise ConflictError("x_state", "写到一半被拒绝")


urlpatterns = [
    path("boom/<str:kind>/", boom),
    path("api/boom/<str:kind>/", boom),
    path("half/", half_write),
    path("", include("xinrong.config.urls")),
]

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


@pytest.mark.parametrize(
    ("kind", "status", "message"),
    [
        ("not_found", 404, "该申请不存在或您无权查看"),
        ("denied", 403, "只有经办机构可以受理该申请"),
        ("conflict", 409, "当前状态为「已放款」，不能「撤回」"),
        ("plain", 400, "金额须大于0元"),
        ("teapot", 418, "自定义状态码"),
        ("invalid", 422, "金额须为数字"),
    ],
)
def test_a_service_error_renders_the_error_page_with_its_status(client, kind, status, message):
    response = client.get(f"/boom/{kind}/")
    assert response.status_code == status
    assert "web/error.html" in [t.name for t in response.templates]
    assert message in response.content.decode()


def test_other_exceptions_are_not_swallowed(client):
    with pytest.raises(RuntimeError):
        client.get("/boom/bug/")


def test_the_api_is_left_to_its_own_handlers(client):
    with pytest.raises(ConflictError):
        client.get("/api/boom/conflict/")


def test_nothing_half_written_remains(client):
    from xinrong.accounts.models import Organisation

    response = client.get("/half/")
    assert response.status_code == 409
    assert not Organisation.objects.filter(name="半途机构").exists()
