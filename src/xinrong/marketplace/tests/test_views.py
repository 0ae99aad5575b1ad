import pytest

from xinrong.marketplace.models import Product
from xinrong.marketplace.services import products as product_services
from xinrong.marketplace.tests.factories import product_terms, published_product, terms

pytestmark = pytest.mark.django_db


@pytest.fixture
def shelf(bank_officer, operator, make_user):
    micro = make_user("microloan", ["loan_officer"])
    return [
        published_product(
            bank_officer,
            operator,
            code="V-1",
            name="青银银税贷",
            tags=["银税贷"],
            rate_min="3.20",
            amount_max="3000000",
            days_to_accept=1,
            days_to_decide=2,
            tax_grades=["A", "B"],
        ),
        published_product(
            bank_officer,
            operator,
            code="V-2",
            name="拉面贷",
            tags=["拉面贷"],
            rate_min="4.80",
            amount_max="500000",
            regions=["630200"],
            entity_types=["individual_business"],
        ),
        published_product(
            micro,
            operator,
            code="V-3",
            name="小贷快贷",
            tags=["首贷"],
            rate_min="6.50",
            rate_max="9.0",
            amount_max="800000",
            days_to_accept=5,
            days_to_decide=9,
        ),
    ]


def codes(response):
    return [p.code for p in response.context["rows"]]


def test_enterprise_browses_with_filters_and_sort(client, enterprise_user, shelf):
    client.force_login(enterprise_user)
    response = client.get("/marketplace/")
    assert response.status_code == 200
    assert set(codes(response)) == {"V-1", "V-2", "V-3"}
    assert codes(client.get("/marketplace/", {"tag": "拉面贷"})) == ["V-2"]
    assert codes(client.get("/marketplace/", {"q": "银税"})) == ["V-1"]
    assert codes(client.get("/marketplace/", {"max_rate": "5", "sort": "rate"})) == ["V-1", "V-2"]
    assert codes(client.get("/marketplace/", {"sort": "amount"})) == ["V-1", "V-3", "V-2"]
    assert codes(client.get("/marketplace/", {"sort": "service"})) == ["V-1", "V-2", "V-3"]
    assert codes(client.get("/marketplace/", {"institution_kind": "microloan"})) == ["V-3"]
    assert codes(client.get("/marketplace/", {"amount": "2000000"})) == ["V-1"]
    assert set(codes(client.get("/marketplace/", {"region": "630102"}))) == {"V-1", "V-3"}
    assert set(codes(client.get("/marketplace/", {"region": "630202"}))) == {"V-1", "V-2", "V-3"}


def test_bad_filter_shows_chinese_message(client, enterprise_user, shelf):
    client.force_login(enterprise_user)
    response = client.get("/marketplace/", {"max_rate": "abc"})
    assert response.status_code == 200
    assert "最高年利率" in response.context["error"]


def test_list_shows_eligibility_without_per_product_queries(
    client, enterprise_user, shelf, django_assert_max_num_queries
):
    client.force_login(enterprise_user)
    with django_assert_max_num_queries(45):
        response = client.get("/marketplace/")
    content = response.content.decode()
    assert "条件不符" in content


def test_detail_shows_every_reason_for_an_enterprise(client, enterprise_user, shelf):
    client.force_login(enterprise_user)
    response = client.get("/marketplace/p/V-2/")
    reasons = [r.code for r in response.context["verdict"].reasons]
    assert reasons == ["entity_type", "region"]
    assert "个体工商户" in response.content.decode()
    response = client.get("/marketplace/p/V-3/")
    assert response.context["verdict"].eligible
    assert "符合申请条件" in response.content.decode()


def test_detail_of_draft_is_404(client, enterprise_user, bank_officer):
    product_services.product_create(
        actor=bank_officer, code="V-9", name="草稿", terms=product_terms()
    )
    client.force_login(enterprise_user)
    assert client.get("/marketplace/p/V-9/").status_code == 404


def test_compare_two_and_refuse_a_fifth(client, enterprise_user, shelf, bank_officer, operator):
    client.force_login(enterprise_user)
    ids = [p.pk for p in shelf]
    response = client.get("/marketplace/compare/", {"ids": ids[:2]})
    assert [c[0].code for c in response.context["columns"]] == ["V-1", "V-2"]
    extra = [published_product(bank_officer, operator, code=f"V-{n}") for n in (4, 5)]
    response = client.get(
        "/marketplace/compare/", {"ids": ",".join(str(i) for i in ids + [p.pk for p in extra])}
    )
    assert response.context["columns"] == []
    assert "最多只能同时对比 4 个产品" in response.content.decode()


def test_institution_creates_edits_and_submits_through_pages(client, bank_officer, operator):
    client.force_login(bank_officer)
    data = {
        **terms(),
        "code": "WEB-1",
        "name": "网页新建",
        "tags": "首贷,续贷",
        "industries": "",
        "regions": "",
    }
    response = client.post("/marketplace/mine/new/", data)
    product = Product.objects.get(code="WEB-1")
    assert response.status_code == 302
    bad = {**data, "rate_min": "8", "rate_max": "5"}
    response = client.post(f"/marketplace/manage/{product.pk}/edit/", bad)
    assert response.status_code == 200
    assert "不能小于最低年利率" in response.content.decode()
    client.post(f"/marketplace/manage/{product.pk}/submit/")
    product.refresh_from_db()
    assert product.status == "in_review"
    assert "WEB-1" in client.get("/marketplace/mine/").content.decode()
    client.force_login(operator)
    assert [p.code for p in client.get("/marketplace/review/").context["rows"]] == ["WEB-1"]
    client.post(f"/marketplace/manage/{product.pk}/approve/")
    product.refresh_from_db()
    assert product.status == "published"


def test_enterprise_cannot_reach_institution_or_review_pages(client, enterprise_user, shelf):
    client.force_login(enterprise_user)
    assert client.get("/marketplace/mine/").status_code == 403
    assert client.get("/marketplace/review/").status_code == 403
    assert client.get(f"/marketplace/manage/{shelf[0].pk}/").status_code == 404
    response = client.post(f"/marketplace/manage/{shelf[0].pk}/withdraw/")
    shelf[0].refresh_from_db()
    assert shelf[0].status == "published"
    assert response.status_code == 302


def test_navigation_entries_per_role(client, enterprise_user, bank_officer, operator):
    for user, label in (
        (enterprise_user, "金融产品超市"),
        (bank_officer, "我的产品"),
        (operator, "产品审核"),
    ):
        client.force_login(user)
        assert label in client.get("/").content.decode()


def test_forms_and_manage_pages_render(client, bank_officer, operator, shelf):
    client.force_login(bank_officer)
    assert client.get("/marketplace/mine/new/").status_code == 200
    response = client.get(f"/marketplace/manage/{shelf[0].pk}/edit/")
    assert response.status_code == 200
    assert "生成新的草稿版本" in response.content.decode()
    assert client.get(f"/marketplace/manage/{shelf[0].pk}/").status_code == 200
    client.force_login(operator)
    assert client.get("/marketplace/review/").status_code == 200
    assert client.get(f"/marketplace/manage/{shelf[0].pk}/").status_code == 200


def test_editing_a_live_product_in_the_page_keeps_the_old_terms_live(
    client, bank_officer, enterprise_user, shelf
):
    product = shelf[0]
    client.force_login(bank_officer)
    data = {
        **terms(rate_min="2.95", rate_max="4.00"),
        "name": product.name,
        "tags": "银税贷",
        "industries": "",
        "regions": "",
    }
    response = client.post(f"/marketplace/manage/{product.pk}/edit/", data)
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.draft_version.number == 2
    client.force_login(enterprise_user)
    assert "3.20%" in client.get("/marketplace/p/V-1/").content.decode()


def test_list_of_the_seeded_catalogue_stays_cheap(
    client, enterprise_user, django_assert_max_num_queries
):
    from xinrong.web.seed import SeedReport
    from xinrong.web.seed.organisations import seed_organisations
    from xinrong.web.seed.products import seed_products

    seed_products(seed_organisations(SeedReport()), 20221)
    client.force_login(enterprise_user)
    with django_assert_max_num_queries(45):
        response = client.get("/marketplace/", {"sort": "rate"})
    assert response.context["page"].paginator.count == 392
    assert len(response.context["rows"]) == 20
