"""Reference API (routed without the project's exception handlers)."""

from __future__ import annotations

import pytest
from ninja import NinjaAPI
from ninja.testing import TestClient

from xinrong.reference.api import router
from xinrong.reference.errors import ReferenceNotFoundError as NotFoundError
from xinrong.reference.uscc import UsccError


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(router)


def test_provinces_are_listed_without_parent(client):
    response = client.get("/divisions")
    assert response.status_code == 200
    data = response.json()
    assert len(data) == 34
    qinghai = next(d for d in data if d["code"] == "630000")
    assert qinghai == {
        "code": "630000",
        "name": "青海省",
        "level": 1,
        "level_name": "省级",
        "has_children": True,
    }


def test_children_of_a_parent(client):
    data = client.get("/divisions?parent=63").json()
    assert [d["name"] for d in data][:2] == ["西宁市", "海东市"]
    assert len(data) == 8


def test_unknown_parent_is_not_found(client):
    with pytest.raises(NotFoundError) as info:
        client.get("/divisions?parent=999999")
    assert info.value.code == "division_not_found"
    assert info.value.extra == {"field": "parent"}
    assert "999999" in info.value.message


def test_division_detail_has_full_name_and_ancestors(client):
    data = client.get("/divisions/630102001001").json()
    assert data["full_name"] == "青海省西宁市城东区东关大街街道北关社区居民委员会"
    assert data["level_name"] == "村级"
    assert data["parent_code"] == "630102001"
    assert data["has_children"] is False
    assert [a["code"] for a in data["ancestors"]] == ["630000", "630100", "630102", "630102001"]


def test_unknown_division_detail_is_not_found(client):
    with pytest.raises(NotFoundError):
        client.get("/divisions/999999")


def test_industry_sections_and_divisions(client):
    sections = client.get("/industries").json()
    assert len(sections) == 20
    assert sections[0]["code"] == "A" and sections[0]["is_section"] is True
    divisions = client.get("/industries?section=I").json()
    assert [d["code"] for d in divisions] == ["I63", "I64", "I65"]
    assert divisions[2]["name"] == "软件和信息技术服务业"


def test_unknown_industry_section_is_not_found(client):
    with pytest.raises(NotFoundError):
        client.get("/industries?section=Z")


def test_uscc_is_parsed(client):
    data = client.get("/uscc/91350100M000100Y43").json()
    assert data["division_name"] == "福建省福州市"
    assert data["warnings"] == []


def test_invalid_uscc_raises_422_error(client):
    with pytest.raises(UsccError) as info:
        client.get("/uscc/91350100M000100Y44")
    assert info.value.code == "uscc_check"
    assert info.value.status == 422


def test_endpoints_are_public_even_under_an_authenticated_api():
    api = NinjaAPI(auth=lambda request: None, urls_namespace="reference-auth-test")
    api.add_router("/reference", router)
    client = TestClient(api)
    for path in ["/reference/divisions", "/reference/divisions/630000", "/reference/industries"]:
        assert client.get(path).status_code == 200
    assert client.get("/reference/uscc/91350100M000100Y43").status_code == 200
