import datetime as dt
from decimal import Decimal

import numpy as np
import pytest
from django.utils import timezone

from xinrong.common.errors import NotFoundError
from xinrong.marketplace import matching
from xinrong.marketplace.models import Product
from xinrong.marketplace.selectors import common as common_selectors
from xinrong.marketplace.selectors import demands as demand_selectors
from xinrong.marketplace.services import demands as demand_services
from xinrong.marketplace.services import products as product_services
from xinrong.marketplace.tests.factories import demand_in, published_product

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_catalogue():
    matching.catalogue_forget()
    yield
    matching.catalogue_forget()


@pytest.fixture
def demand(enterprise_user):
    entity = common_selectors.user_entity(user=enterprise_user)
    return demand_services.demand_publish(actor=enterprise_user, entity=entity, data=demand_in())


def codes_of(result):
    return {e.product_id: e.code for e in result.excluded}


def test_each_hard_filter_excludes_with_its_reason(demand, bank_officer, operator):
    good = published_product(bank_officer, operator, code="OK-1")
    region = published_product(bank_officer, operator, code="F-REGION", regions=["632801"])
    amount = published_product(bank_officer, operator, code="F-AMOUNT", amount_min="1000000")
    term = published_product(
        bank_officer, operator, code="F-TERM", term_min_months=60, term_max_months=120
    )
    rate = published_product(bank_officer, operator, code="F-RATE", rate_min="7", rate_max="9")
    modes = published_product(bank_officer, operator, code="F-MODE", collateral_modes=["mortgage"])

    result = demand_selectors.demand_matches(demand=demand, with_excluded=True)

    assert [m.product_id for m in result.matches] == [good.pk]
    assert result.eligible_count == 1 and result.considered == 6
    assert codes_of(result) == {
        region.pk: "eligibility",
        amount.pk: "amount",
        term.pk: "term",
        rate.pk: "rate",
        modes.pk: "guarantee",
    }
    messages = {e.product_id: e.message for e in result.excluded}
    assert "所在地区不符" in messages[region.pk]
    assert "不覆盖您需要的 500,000 元" in messages[amount.pk]
    assert "最低利率 7% 高于您可接受的 6%" in messages[rate.pk]
    assert "抵押" in messages[modes.pk] and "纯信用" in messages[modes.pk]


def test_first_failing_filter_is_the_reason(demand, bank_officer, operator):
    both = published_product(
        bank_officer, operator, code="F-BOTH", regions=["632801"], rate_min="7", rate_max="9"
    )
    result = demand_selectors.demand_matches(demand=demand, with_excluded=True)
    assert codes_of(result) == {both.pk: "eligibility"}


def test_cheaper_faster_product_ranks_first_and_explains_itself(demand, bank_officer, operator):
    dear = published_product(
        bank_officer, operator, code="R-DEAR", rate_min="5.50", rate_max="5.90", days_to_decide=20
    )
    cheap = published_product(
        bank_officer, operator, code="R-CHEAP", rate_min="3.85", rate_max="6.50"
    )
    result = demand_selectors.demand_matches(demand=demand)
    assert [m.product_id for m in result.matches] == [cheap.pk, dear.pk]
    best = result.matches[0]
    assert best.score > result.matches[1].score
    assert set(best.components) == set(matching.WEIGHTS)
    text = " ".join(best.explanations)
    assert "利率 3.85% 起，低于您可接受的 6%" in text
    assert "额度 100,000–3,000,000 元，覆盖您需要的 500,000 元" in text
    assert "覆盖您需要的 24 个月" in text
    assert "暂无评价" in text


def test_the_holders_products_come_first_while_it_holds_the_demand(
    demand, bank_officer, operator, make_user
):
    other = make_user("bank", ["loan_officer"])
    cheap = published_product(other, operator, code="H-CHEAP", rate_min="3.85", rate_max="6.50")
    dear = published_product(
        bank_officer, operator, code="H-DEAR", rate_min="5.50", rate_max="5.90", days_to_decide=20
    )
    assert [
        m.product_id for m in demand_selectors.demand_matches(demand=demand, limit=1).matches
    ] == [cheap.pk]
    demand_services.demand_take(demand=demand, actor=bank_officer)
    demand.refresh_from_db()
    held = demand_selectors.demand_matches(demand=demand, limit=1).matches
    assert [m.product_id for m in held] == [dear.pk]  # within the limit, despite its score
    demand.held_until = timezone.now() - dt.timedelta(minutes=1)  # the hold has lapsed
    assert [
        m.product_id for m in demand_selectors.demand_matches(demand=demand, limit=1).matches
    ] == [cheap.pk]


def test_demand_accepting_any_guarantee_matches_secured_products(
    enterprise_user, bank_officer, operator
):
    entity = common_selectors.user_entity(user=enterprise_user)
    demand = demand_services.demand_publish(
        actor=enterprise_user, entity=entity, data=demand_in(collateral_modes=[])
    )
    secured = published_product(bank_officer, operator, code="M-1", collateral_modes=["mortgage"])
    result = demand_selectors.demand_matches(demand=demand)
    assert [m.product_id for m in result.matches] == [secured.pk]


def test_catalogue_reloads_when_a_product_changes(demand, bank_officer, operator):
    first = published_product(bank_officer, operator, code="C-1")
    assert len(demand_selectors.demand_matches(demand=demand).matches) == 1
    product_services.product_withdraw(product=first, actor=bank_officer)
    assert demand_selectors.demand_matches(demand=demand).matches == []


def test_reputation_hook_reorders_equal_products():
    row = [
        None,
        None,
        None,
        Decimal("100000"),
        Decimal("3000000"),
        12,
        36,
        Decimal("4"),
        Decimal("5"),
        2,
        5,
        [],
        [],
        [],
        Decimal("0"),
        "",
        [],
        ["none"],
    ]
    rows = [[1, 11, 100, *row[3:]], [2, 12, 200, *row[3:]]]
    cat = matching.catalogue_build(rows)
    assert all(len(v) == 1 for v in cat.dim_values.values())  # each condition checked once

    class D:
        amount = Decimal("500000")
        term_months = 24
        max_rate = Decimal("6")
        collateral_modes = ["none"]

    from xinrong.marketplace.eligibility import EntityFacts

    facts = EntityFacts("enterprise", "F51", "630102", 5.0, "A", "A")
    plain = matching.rank_products(cat, D(), facts)
    assert [m.product_id for m in plain.matches] == [1, 2]  # tie: by id
    favoured = matching.rank_products(
        cat, D(), facts, reputation=lambda ids: np.where(ids == 200, 0.9, 0.5)
    )
    assert [m.product_id for m in favoured.matches] == [2, 1]
    assert "机构信誉得分 90 / 100" in favoured.matches[0].explanations


def test_only_own_users_institutions_and_operator_read_a_demand(
    demand,
    enterprise_user,
    other_enterprise_user,
    bank_officer,
    operator,
):
    for user in (enterprise_user, bank_officer, operator):
        assert demand_selectors.demand_visible_get(user=user, pk=demand.pk) == demand
    with pytest.raises(NotFoundError):
        demand_selectors.demand_visible_get(user=other_enterprise_user, pk=demand.pk)
    demand_services.demand_withdraw(demand=demand, actor=enterprise_user)
    with pytest.raises(NotFoundError):
        demand_selectors.demand_visible_get(user=bank_officer, pk=demand.pk)


def test_fast_eligibility_checks_agree_with_evaluate():
    import random

    from xinrong.marketplace.eligibility import EntityFacts, evaluate

    rng = random.Random(7)
    for _ in range(500):
        terms = matching.EligibilityTerms(
            entity_types=rng.choice([[], ["enterprise"], ["individual_business"]]),
            industries=rng.choice([[], ["F"], ["F51"], ["A", "C"]]),
            regions=rng.choice([[], ["630000"], ["630100"], ["632801"]]),
            min_years_in_business=Decimal(rng.choice(["0", "1", "3.5"])),
            min_credit_grade=rng.choice(["", "A", "BBB", "AAA"]),
            tax_grades=rng.choice([[], ["A"], ["A", "B"]]),
        )
        facts = EntityFacts(
            rng.choice(["enterprise", "individual_business"]),
            rng.choice(["F51", "A01", "C13", ""]),
            rng.choice(["630102", "632801", "620102"]),
            rng.choice([None, 0.5, 2.0, 5.0]),
            rng.choice([None, "AAA", "A", "BBB", "C"]),
            rng.choice([None, "A", "B", "D"]),
        )
        fast = all(
            check(getattr(terms, name), facts)
            for name, check in matching.ELIGIBILITY_CHECKS.items()
        )
        assert fast == evaluate(terms, facts).eligible, (terms, facts)


def test_guarantee_products_are_offered_beside_loans_not_ranked_as_loans(
    enterprise_user, bank_officer, operator, make_user
):
    """¥800k, 12 months, ≤6%: the guarantors' 0.65%–0.9% is a fee, not interest. Only loans are
    ranked; fitting guarantee products come apart, and a loan accepting 担保公司担保 shows its
    total cost with the cheapest one."""
    entity = common_selectors.user_entity(user=enterprise_user)
    demand = demand_services.demand_publish(
        actor=enterprise_user,
        entity=entity,
        data=demand_in(amount="800000", term_months=12, max_rate="6", collateral_modes=[]),
    )
    guarantor = make_user("guarantor", ["loan_officer"])
    cheap_fee = published_product(
        guarantor,
        operator,
        code="G-1",
        product_type="guarantee",
        rate_min="0.65",
        rate_max="0.90",
        collateral_modes=["guarantee_company"],
    )
    published_product(
        guarantor,
        operator,
        code="G-0",
        product_type="guarantee",
        rate_min="0",
        rate_max="0.5",
        collateral_modes=["guarantee_company"],
        amount_min="1000000",  # does not cover ¥800k
    )
    loan = published_product(
        bank_officer,
        operator,
        code="L-1",
        rate_min="3.85",
        rate_max="5.20",
        collateral_modes=["none", "guarantee_company"],
    )
    result = demand_selectors.demand_matches(demand=demand)
    assert [m.product_id for m in result.matches] == [loan.pk]
    assert result.considered == 1  # loans only
    assert [e.product_id for e in result.enhancements] == [cheap_fee.pk]
    assert result.enhancements[0].fee_label == "担保费率"
    (match,) = result.matches
    assert (match.cost.low, match.cost.high) == (Decimal("3.85"), Decimal("5.20"))
    (combo,) = match.combinations
    assert combo.enhancement.product_id == cheap_fee.pk
    assert not match.needs_enhancement  # it also lends without a guarantee
    assert (combo.cost.low, combo.cost.high) == (Decimal("4.50"), Decimal("6.10"))


def test_demand_page_shows_total_cost_and_enhancements(
    client, enterprise_user, bank_officer, operator, make_user
):
    entity = common_selectors.user_entity(user=enterprise_user)
    demand = demand_services.demand_publish(
        actor=enterprise_user, entity=entity, data=demand_in(collateral_modes=[])
    )
    insurer = make_user("insurer", ["loan_officer"])
    published_product(
        insurer,
        operator,
        code="I-1",
        name="贷款保证保险",
        product_type="guarantee",
        rate_min="1.00",
        rate_max="2.00",
        collateral_modes=["insurance"],
    )
    published_product(
        bank_officer, operator, code="L-2", collateral_modes=["insurance"], rate_min="4.00"
    )
    client.force_login(enterprise_user)
    body = client.get(f"/marketplace/demands/{demand.pk}/").content.decode()
    assert 'id="matches"' in body and 'data-code="L-2"' in body
    assert "综合融资成本（年化）" in body and 'id="cost-formula"' in body
    assert "保费率 1.00%–2.00%" in body
    assert "5.00%–7.80%" in body  # 4.00–5.80 + 1.00–2.00
    # L-2 accepts only insurance: no "loan alone" cost is offered
    row = body[body.index('data-code="L-2"') : body.index('id="enhancements"')]
    assert "仅贷款" not in row
    matches = body[body.index('id="matches"') : body.index('id="enhancements"')]
    assert 'data-code="I-1"' not in matches.split("match-combination")[0]


def test_supermarket_sorts_loans_by_rate_and_guarantees_after_with_their_fee_label(
    client, enterprise_user, bank_officer, operator, make_user
):
    guarantor = make_user("guarantor", ["loan_officer"])
    published_product(
        guarantor,
        operator,
        code="S-GFREE",
        name="创业担保",
        product_type="guarantee",
        rate_min="0",
        rate_max="0.5",
        collateral_modes=["guarantee_company"],
    )
    published_product(bank_officer, operator, code="S-L2", rate_min="4.10", rate_max="5")
    published_product(
        bank_officer,
        operator,
        code="S-L1",
        rate_min="3.60",
        rate_max="5",
        collateral_modes=["none", "guarantee_company"],
    )
    client.force_login(enterprise_user)
    body = client.get("/marketplace/?sort=rate").content.decode()
    order = [body.index(f'href="/marketplace/p/{c}/"') for c in ("S-L1", "S-L2", "S-GFREE")]
    assert order == sorted(order)
    assert "担保费率" in body
    detail = client.get("/marketplace/p/S-L1/").content.decode()
    assert "综合融资成本（年化）" in detail
    assert "仅贷款 3.60% – 5.00%" in detail
    assert "搭配“创业担保”（担保费率 0.00% – 0.50%）3.60% – 5.50%" in detail
    published_product(
        bank_officer,
        operator,
        code="S-ONLY",
        rate_min="2.00",
        rate_max="3.00",
        collateral_modes=["guarantee_company"],
    )
    only = client.get("/marketplace/p/S-ONLY/").content.decode()
    assert "仅贷款" not in only and "搭配“创业担保”（担保费率 0.00% – 0.50%）2.00% – 3.50%" in only
    fee = client.get("/marketplace/p/S-GFREE/").content.decode()
    assert "担保费率（年化）0.00% – 0.50%" in fee and "年利率 0" not in fee
    compare = client.get(
        "/marketplace/compare/?ids="
        + ",".join(
            str(p)
            for p in Product.objects.filter(code__in=["S-L1", "S-GFREE"]).values_list(
                "pk", flat=True
            )
        )
    ).content.decode()
    assert "综合融资成本（年化）" in compare and "担保费率" in compare
