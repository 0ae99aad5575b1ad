import datetime as dt
from decimal import Decimal

import pytest

from xinrong.marketplace import demand_board, matching
from xinrong.marketplace.selectors import common as common_selectors
from xinrong.marketplace.selectors import demands as demand_selectors
from xinrong.marketplace.services import demands as demand_services
from xinrong.marketplace.tests.factories import demand_in, published_product

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    matching.catalogue_forget()
    yield
    matching.catalogue_forget()


def publish(user, **overrides):
    entity = common_selectors.user_entity(user=user)
    return demand_services.demand_publish(actor=user, entity=entity, data=demand_in(**overrides))


def test_hall_lists_only_demands_in_the_institutions_product_regions(
    enterprise_user, other_enterprise_user, bank_officer, operator
):
    xining = publish(enterprise_user)  # 630102
    golmud = publish(other_enterprise_user)  # 632801
    published_product(bank_officer, operator, code="H-1", regions=["632800"])
    rows, total = demand_selectors.demand_hall(user=bank_officer)
    assert total == 1 and [d for _e, d in rows] == [golmud]
    assert xining not in [d for _e, d in rows]


def test_hall_without_regional_limit_covers_everywhere_and_ranks_urgent_first(
    enterprise_user, other_enterprise_user, bank_officer, operator
):
    calm = publish(enterprise_user, urgency="normal")
    urgent = publish(other_enterprise_user, urgency="very_urgent")
    published_product(bank_officer, operator, code="H-2", regions=[])
    rows, total = demand_selectors.demand_hall(user=bank_officer)
    assert total == 2
    assert [d for _e, d in rows] == [urgent, calm]
    assert rows[0][0].components["urgency"] == 1.0


def test_hall_skips_withdrawn_demands(enterprise_user, bank_officer):
    demand = publish(enterprise_user)
    assert demand_selectors.demand_hall(user=bank_officer)[1] == 1  # no products: everywhere
    demand_services.demand_withdraw(demand=demand, actor=enterprise_user)
    assert demand_selectors.demand_hall(user=bank_officer)[1] == 0


def test_hall_prefers_amounts_its_products_cover():
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    rows = [
        (1, Decimal("500000"), 12, "normal", "630102", now),
        (2, Decimal("50000000"), 12, "normal", "630102", now),
        (3, Decimal("5000000"), 12, "normal", "630102", now),
    ]
    board = demand_board.demand_board_build(rows)
    entries, total = demand_board.rank_demands(
        board,
        ranges=None,
        amount_ranges=[(Decimal("100000"), Decimal("1000000"))],
        now=now,
    )
    assert total == 3
    assert [e.demand_id for e in entries] == [1, 3, 2]
    assert [e.components["amount"] for e in entries] == [1.0, pytest.approx(0.301, abs=1e-3), 0.0]


def test_hall_page_for_institutions_only(client, enterprise_user, bank_officer):
    demand = publish(enterprise_user)
    client.force_login(bank_officer)
    page = client.get("/marketplace/demands/hall/").content.decode()
    assert "需求大厅" in page and f"/marketplace/demands/{demand.pk}/" in page
    assert "西宁测试商贸有限公司" in page
    client.force_login(enterprise_user)
    assert client.get("/marketplace/demands/hall/").status_code == 403


def test_hall_query_count_does_not_grow_with_demands(
    client, enterprise_user, other_enterprise_user, bank_officer, django_assert_max_num_queries
):
    for _ in range(3):
        publish(enterprise_user)
        publish(other_enterprise_user)
    client.force_login(bank_officer)
    with django_assert_max_num_queries(15):
        page = client.get("/marketplace/demands/hall/").content.decode()
    assert page.count("data-id=") == 6
