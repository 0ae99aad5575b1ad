import pytest

from xinrong.common.errors import NotFoundError
from xinrong.enterprises.selectors import EntityFilters, market_entity_get, market_entity_search
from xinrong.enterprises.tests.factories import MarketEntityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def entities():
    return {
        "xining": MarketEntityFactory(name="西宁拉面有限公司", division_code="630102001"),
        "golmud": MarketEntityFactory(
            name="格尔木枸杞有限公司",
            division_code="632801",
            industry_code="A01",
            size_class="micro",
        ),
        "haidong": MarketEntityFactory(
            name="海东拉面馆",
            division_code="630202",
            entity_type="individual_business",
            industry_code="H62",
        ),
    }


def test_search_by_chinese_substring(entities, operator):
    found = list(market_entity_search(user=operator, filters=EntityFilters(q="拉面")))
    assert {e.pk for e in found} == {entities["xining"].pk, entities["haidong"].pk}


def test_search_by_full_uscc(entities, operator):
    code = entities["golmud"].uscc
    found = list(market_entity_search(user=operator, filters=EntityFilters(q=code.lower())))
    assert found == [entities["golmud"]]


def test_region_filter_includes_lower_levels(entities, operator):
    found = list(market_entity_search(user=operator, filters=EntityFilters(region="630100")))
    assert found == [entities["xining"]]


def test_industry_section_and_type_filters(entities, operator):
    assert list(market_entity_search(user=operator, filters=EntityFilters(industry="A"))) == [
        entities["golmud"]
    ]
    found = market_entity_search(
        user=operator, filters=EntityFilters(entity_type="individual_business")
    )
    assert list(found) == [entities["haidong"]]


def test_size_filter(entities, operator):
    found = market_entity_search(user=operator, filters=EntityFilters(size_class="micro"))
    assert list(found) == [entities["golmud"]]


def test_unknown_region_is_a_clear_error(entities, operator):
    with pytest.raises(NotFoundError) as exc:
        list(market_entity_search(user=operator, filters=EntityFilters(region="999999")))
    assert exc.value.extra["field"] == "region"


def test_substation_sees_only_its_region(entities, substation_operator):
    found = list(market_entity_search(user=substation_operator, filters=EntityFilters()))
    assert found == [entities["golmud"]]
    with pytest.raises(NotFoundError):
        market_entity_get(user=substation_operator, uscc=entities["xining"].uscc)


def test_enterprise_user_sees_only_itself(entities, enterprise_user):
    found = list(market_entity_search(user=enterprise_user, filters=EntityFilters()))
    assert [e.organisation_id for e in found] == [enterprise_user.organisation_id]


def test_search_list_does_not_query_per_row(entities, operator, django_assert_max_num_queries):
    from xinrong.enterprises.presenters import entity_row

    with django_assert_max_num_queries(2):
        rows = [entity_row(e) for e in market_entity_search(user=operator, filters=EntityFilters())]
    assert len(rows) == 3
