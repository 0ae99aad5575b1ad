"""Defects a review found in the marketplace: bad ids, demand and first-loan visibility, the bank
API's archive after an application ends and its feed's safety lag."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from xinrong.common.ids import id_parse, ids_parse
from xinrong.enterprises.models import MarketEntity
from xinrong.marketplace import matching
from xinrong.marketplace.models import LoanApplication, ReserveCandidate
from xinrong.marketplace.selectors import centres as centre_selectors
from xinrong.marketplace.selectors import common as common_selectors
from xinrong.marketplace.services import applications as application_services
from xinrong.marketplace.services import demands as demand_services
from xinrong.marketplace.tests.factories import demand_in, published_product

pytestmark = pytest.mark.django_db

HUGE = "9" * 30
BAD_IDS = ["²", "١٢", HUGE, "-3", "0", "1e3", "12x", "9" * 19]


@pytest.fixture(autouse=True)
def _fresh_cache():
    matching.catalogue_forget()
    yield
    matching.catalogue_forget()


def _publish(user, **overrides):
    entity = common_selectors.user_entity(user=user)
    return demand_services.demand_publish(actor=user, entity=entity, data=demand_in(**overrides))


# ---------------------------------------------------------------- 1. ids from requests


@pytest.mark.parametrize("value", BAD_IDS)
def test_the_id_parser_refuses_unicode_digits_signs_and_ids_beyond_the_database(value):
    assert id_parse(value) is None


@pytest.mark.parametrize(("value", "expected"), [("7", 7), (" 42 ", 42), ("9" * 18, 10**18 - 1)])
def test_the_id_parser_accepts_ascii_ids_of_up_to_18_digits(value, expected):
    assert id_parse(value) == expected


def test_a_bad_id_in_a_list_is_a_field_error_naming_the_field():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        ids_parse(["1", "²"], field="products", label="产品编号")
    assert "products" in caught.value.message_dict
    assert "²" in caught.value.message_dict["products"][0]


@pytest.mark.parametrize("value", ["²", HUGE, f"1,{HUGE}"])
def test_compare_with_a_bad_or_huge_id_shows_a_chinese_error_not_a_500(
    client, enterprise_user, value
):
    client.force_login(enterprise_user)
    response = client.get("/marketplace/compare/", {"ids": value})
    assert response.status_code == 200
    assert "产品编号" in response.context["error"] and "无效" in response.context["error"]


@pytest.mark.parametrize("param", ["demand", "renewal"])
@pytest.mark.parametrize("value", ["²", HUGE])
def test_apply_with_a_bad_demand_or_loan_id_is_404(
    client, enterprise_user, bank_officer, operator, param, value
):
    product = published_product(bank_officer, operator, code="FIX-A")
    client.force_login(enterprise_user)
    response = client.get(reverse("marketplace:apply", args=[product.code]), {param: value})
    assert response.status_code == 404


@pytest.mark.parametrize("value", ["²", HUGE])
def test_refer_with_a_bad_product_id_names_the_field_and_refers_nothing(
    client, enterprise_user, bank_officer, operator, make_user, value
):
    product = published_product(bank_officer, operator, code="FIX-B")
    published_product(make_user("bank", ["loan_officer"]), operator, code="FIX-C")
    reviewer = make_user("bank", ["reviewer"], org=bank_officer.organisation)
    entity = enterprise_user.organisation.market_entity
    app = application_services.application_submit(
        actor=enterprise_user,
        entity=entity,
        product=product,
        data={"amount": "500000", "term_months": 12},
    )
    application_services.application_reject(
        application=app, actor=reviewer, reason="capacity", note="流水不足"
    )
    client.force_login(enterprise_user)
    url = reverse("marketplace:application_refer", args=[app.pk])
    response = client.post(
        url, {"refer-products": [value], "refer-consent_scope": "public", "refer-confirm": "on"}
    )
    assert response.status_code == 400
    assert "转介给哪些机构的产品" in response.content.decode()
    assert not LoanApplication.objects.filter(referred_from=app).exists()


@pytest.mark.parametrize("value", ["²", HUGE])
def test_reserve_add_with_a_bad_entity_id_names_the_field_and_adds_nothing(client, operator, value):
    client.force_login(operator)
    response = client.post(
        "/marketplace/capital-market/screen/",
        {"min_grade": "A", "entities": [value], "querystring": "min_grade=A"},
    )
    assert response.status_code == 302
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("企业编号" in m and "无效" in m for m in shown)
    assert not ReserveCandidate.objects.exists()


@pytest.mark.parametrize(
    "path",
    [
        "/marketplace/demands/{}/",
        "/marketplace/applications/{}/",
        "/marketplace/capital-market/{}/",
        "/marketplace/manage/{}/",
    ],
)
def test_huge_ids_in_paths_are_404(client, operator, path):
    client.force_login(operator)
    assert client.get(path.format(HUGE)).status_code == 404


# ---------------------------------------------------------------- 2. who opens a demand


def test_a_demand_opens_only_for_lenders_whose_regions_cover_it(
    client, enterprise_user, bank_officer, operator, make_user
):
    demand = _publish(enterprise_user)  # 630102 西宁
    published_product(bank_officer, operator, code="FIX-GOLMUD", regions=["632800"])
    xining_bank = make_user("bank", ["loan_officer"])
    published_product(xining_bank, operator, code="FIX-XINING", regions=["630100"])
    investor = make_user("investor", ["institution_admin"])
    insurer = make_user("insurer", ["institution_admin"])
    url = f"/marketplace/demands/{demand.pk}/"
    for user, status in [
        (xining_bank, 200),
        (bank_officer, 404),  # serves 海东 only
        (investor, 404),
        (insurer, 404),
        (operator, 200),
        (enterprise_user, 200),
    ]:
        client.force_login(user)
        assert client.get(url).status_code == status, user.organisation.kind


def test_the_holder_still_opens_the_demand_it_holds(
    client, enterprise_user, bank_officer, operator
):
    demand = _publish(enterprise_user)
    demand_services.demand_take(demand=demand, actor=bank_officer)
    published_product(bank_officer, operator, code="FIX-ELSEWHERE", regions=["632800"])
    client.force_login(bank_officer)
    assert client.get(f"/marketplace/demands/{demand.pk}/").status_code == 200


def test_the_demand_api_applies_the_same_rule(client, enterprise_user, make_user):
    demand = _publish(enterprise_user)
    investor = make_user("investor", ["institution_admin"])
    client.force_login(investor)
    response = client.get(f"/api/v1/marketplace/demands/{demand.pk}/matches")
    assert response.status_code == 404


# ---------------------------------------------------------------- 3. first-loan centre


def test_institutions_see_only_entities_that_asked_for_financing(
    enterprise_user, other_enterprise_user, bank_officer, operator
):
    from xinrong.credit.models import CreditProfile, ScoreModel

    asked = common_selectors.user_entity(user=enterprise_user)
    scored = common_selectors.user_entity(user=other_enterprise_user)
    model = ScoreModel.objects.create(version=1, name="测试", card={})
    CreditProfile.objects.create(entity=scored, model=model, score=650, grade="A")
    _publish(enterprise_user)
    filters = centre_selectors.FirstLoanFilter()
    seen = set(centre_selectors.first_loan_entities(user=bank_officer, filters=filters))
    assert asked in seen and scored not in seen
    # the operator keeps its wider list: open demand or a recent score
    assert {asked, scored} <= set(
        centre_selectors.first_loan_entities(user=operator, filters=filters)
    )
    assert isinstance(asked, MarketEntity)


# ---------------------------------------------------------------- 4. and 5. the bank API


@pytest.fixture
def bank_system(client, bank_officer, make_user, operator):
    from xinrong.marketplace.tests.test_bank_api import _system

    org = bank_officer.organisation
    admin = make_user("bank", ["institution_admin"], org=org)
    reviewer = make_user("bank", ["reviewer"], org=org)
    product = published_product(bank_officer, operator, code="FIX-API")
    return _system(client, admin), product, reviewer


def _submit(enterprise_user, product):
    return application_services.application_submit(
        actor=enterprise_user,
        entity=enterprise_user.organisation.market_entity,
        product=product,
        data={"amount": "500000", "term_months": 12},
    )


def _api_logs(entity):
    from xinrong.credit.models import QueryLog

    return QueryLog.objects.filter(entity=entity, channel="api").count()


def test_a_live_application_carries_the_archive_and_logs_the_read(enterprise_user, bank_system):
    system, product, _reviewer = bank_system
    app = _submit(enterprise_user, product)
    entity = app.entity
    before = _api_logs(entity)
    body = system.get(f"/applications/{app.number}").json()
    assert body["archive"] is not None and body["archive"]["authorised"] is True
    assert _api_logs(entity) == before + 1


@pytest.mark.parametrize("end", ["rejected", "withdrawn"])
def test_an_ended_application_carries_no_archive_and_logs_nothing(
    enterprise_user, bank_system, settings, end
):
    settings.XINRONG_API_FEED_LAG_SECONDS = 0
    system, product, reviewer = bank_system
    app = _submit(enterprise_user, product)
    if end == "rejected":
        application_services.application_reject(
            application=app, actor=reviewer, reason="capacity", note="流水不足"
        )
    else:
        application_services.application_withdraw(application=app, actor=enterprise_user)
    before = _api_logs(app.entity)
    body = system.get(f"/applications/{app.number}").json()
    assert body["status"] == end and body["archive"] is None
    feed = system.get("/applications").json()
    assert [r["archive"] for r in feed["results"]] == [None]
    assert _api_logs(app.entity) == before


def test_the_feed_holds_back_a_change_until_it_is_older_than_the_lag(
    enterprise_user, bank_system, settings
):
    import datetime as dt

    from django.utils import timezone

    from xinrong.marketplace.models import LoanApplication

    assert settings.XINRONG_API_FEED_LAG_SECONDS == 30
    system, product, _reviewer = bank_system
    app = _submit(enterprise_user, product)
    fresh = system.get("/applications?archive=false").json()
    assert fresh["results"] == [] and fresh["has_more"] is False
    old = timezone.now() - dt.timedelta(seconds=31)
    LoanApplication.objects.filter(pk=app.pk).update(updated_at=old)
    later = system.get(f"/applications?archive=false&cursor={fresh['next_cursor']}").json()
    assert [r["number"] for r in later["results"]] == [app.number]
