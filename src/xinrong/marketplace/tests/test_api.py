import pytest

from xinrong.marketplace.services import products as product_services
from xinrong.marketplace.tests.factories import product_terms, published_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(bank_officer, operator):
    published_product(bank_officer, operator, code="API-1", name="银税贷A", tags=["银税贷"])
    published_product(
        bank_officer, operator, code="API-2", name="拉面贷B", tags=["拉面贷"], rate_min="4.2"
    )
    product_services.product_create(
        actor=bank_officer, code="API-3", name="草稿产品", terms=product_terms()
    )


def test_lists_published_products_only(client, enterprise_user, catalogue):
    client.force_login(enterprise_user)
    body = client.get("/api/v1/marketplace/products").json()
    assert body["count"] == 2
    assert {r["code"] for r in body["results"]} == {"API-1", "API-2"}


def test_filters_by_tag_and_max_rate(client, enterprise_user, catalogue):
    client.force_login(enterprise_user)
    body = client.get("/api/v1/marketplace/products", {"tag": "拉面贷"}).json()
    assert [r["code"] for r in body["results"]] == ["API-2"]
    body = client.get("/api/v1/marketplace/products", {"max_rate": "4"}).json()
    assert [r["code"] for r in body["results"]] == ["API-1"]


def test_detail_of_published_and_404_for_draft(client, enterprise_user, catalogue):
    client.force_login(enterprise_user)
    body = client.get("/api/v1/marketplace/products/API-1").json()
    assert body["name"] == "银税贷A" and body["repayment_methods"]
    response = client.get("/api/v1/marketplace/products/API-3")
    assert response.status_code == 404
    assert "未上架" in response.json()["message"]


@pytest.mark.parametrize(
    ("params", "field", "fragment"),
    [
        ({"type": "lease"}, "type", "产品类型"),
        ({"amount": "abc"}, "amount", "融资金额"),
        ({"amount": "-5"}, "amount", "融资金额"),
        ({"term": "0"}, "term", "1–360"),
        ({"max_rate": "99"}, "max_rate", "0–36"),
        ({"max_rate": "NaN"}, "max_rate", "0–36"),
        ({"region": "999999"}, "region", "不存在"),
        ({"institution_kind": "government"}, "institution_kind", "机构类型"),
        ({"sort": "price"}, "sort", "排序方式"),
        ({"page": "0"}, "page", "不能小于"),
        ({"page_size": "1000"}, "page_size", "不能大于"),
    ],
)
def test_bad_filters_are_422_naming_the_field(client, enterprise_user, params, field, fragment):
    client.force_login(enterprise_user)
    response = client.get("/api/v1/marketplace/products", params)
    assert response.status_code == 422
    body = response.json()
    assert body["extra"]["field"] == field
    assert fragment in body["message"]


def test_requires_authentication(client):
    assert client.get("/api/v1/marketplace/products").status_code == 401


def test_nul_bytes_are_refused_not_500(client, enterprise_user, catalogue):
    client.force_login(enterprise_user)
    response = client.get("/api/v1/marketplace/products", {"q": "a\x00b"})
    assert response.status_code == 422 and response.json()["extra"]["field"] == "q"
    assert client.get("/api/v1/marketplace/products/A%00B").status_code == 404
    assert client.get("/marketplace/", {"tag": "\x00"}).status_code == 200


def test_list_query_count_does_not_grow_with_products(
    client, enterprise_user, bank_officer, operator, django_assert_max_num_queries
):
    for n in range(25):
        published_product(bank_officer, operator, code=f"QC-{n}")
    client.force_login(enterprise_user)
    with django_assert_max_num_queries(8):
        body = client.get("/api/v1/marketplace/products", {"page_size": 25}).json()
    assert len(body["results"]) == 25


def test_admin_lists_products_read_only(admin_client, bank_officer, operator):
    published_product(bank_officer, operator, code="ADM-1")
    assert admin_client.get("/admin/marketplace/product/").status_code == 200
    product = published_product(bank_officer, operator, code="ADM-2")
    assert admin_client.get(f"/admin/marketplace/product/{product.pk}/change/").status_code == 200
