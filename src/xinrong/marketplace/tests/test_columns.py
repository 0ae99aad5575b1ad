"""The columns: first-loan centre, renewal centre, microloan companies and local specials."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from xinrong.common.errors import PermissionDeniedError
from xinrong.credit.models import CreditProfile, ScoreModel
from xinrong.enterprises.tests.factories import MarketEntityFactory
from xinrong.marketplace.choices import ApplicationStatus, LoanStatus
from xinrong.marketplace.models import Demand, Loan
from xinrong.marketplace.selectors import centres as centre_selectors
from xinrong.marketplace.services import applications as application_services
from xinrong.marketplace.services import demands as demand_services
from xinrong.marketplace.services import loans as loan_services
from xinrong.marketplace.services import products as product_services
from xinrong.marketplace.tests.factories import demand_in, published_product

pytestmark = pytest.mark.django_db
S = ApplicationStatus


@pytest.fixture
def bank(bank_officer, make_user):
    org = bank_officer.organisation
    return {
        "loan_officer": bank_officer,
        "reviewer": make_user("bank", ["reviewer"], org=org),
    }


@pytest.fixture
def entity(enterprise_user):
    return enterprise_user.organisation.market_entity


def _loan(user, entity, product, bank, *, days_ago: int, term: int = 12) -> Loan:
    """Apply, approve, sign and disburse ``days_ago`` days back; return the loan."""
    app = application_services.application_submit(
        actor=user,
        entity=entity,
        product=product,
        data={"amount": "500000", "term_months": term, "repayment_method": "equal_instalment"},
    )
    officer = bank["loan_officer"]
    app = application_services.application_accept(application=app, actor=officer)
    app = application_services.application_review_start(application=app, actor=officer)
    app = application_services.application_approve(
        application=app,
        actor=bank["reviewer"],
        amount=Decimal("400000"),
        rate=Decimal("4.35"),
        term_months=term,
    )
    app = application_services.application_sign(
        application=app, actor=officer, contract_no=f"HT-{app.pk}"
    )
    start = timezone.localdate() - dt.timedelta(days=days_ago)
    app.contract_signed_on = start
    app.save(update_fields=["contract_signed_on"])
    return loan_services.application_disburse(
        application=app, actor=officer, amount=Decimal("120000"), disbursed_on=start
    )


def _profile(entity, grade="A", score=650, days_ago=1):
    model = ScoreModel.objects.first() or ScoreModel.objects.create(version=1, name="测试", card={})
    return CreditProfile.objects.create(
        entity=entity,
        model=model,
        score=score,
        grade=grade,
        computed_at=timezone.now() - dt.timedelta(days=days_ago),
    )


# ---------------------------------------------------------------- 首贷中心


@pytest.fixture
def shelf(bank, operator, make_user):
    micro = make_user("microloan", ["loan_officer"])
    officer = bank["loan_officer"]
    return {
        "first": published_product(officer, operator, code="C-FIRST", tags=["首贷"]),
        "low": published_product(officer, operator, code="C-LOW", tags=["普惠"]),
        "strict": published_product(
            officer,
            operator,
            code="C-STRICT",
            tags=["银税贷"],
            min_years_in_business="3",
            min_credit_grade="AA",
        ),
        "mortgage": published_product(
            officer,
            operator,
            code="C-MORT",
            tags=["普惠"],
            product_type="mortgage",
            collateral_modes=["mortgage"],
        ),
        "renew": published_product(officer, operator, code="C-RENEW", tags=["续贷"]),
        "nowpay": published_product(micro, operator, code="C-NOPAY", tags=["无还本续贷"]),
        "micro": published_product(micro, operator, code="C-MICRO", tags=["拉面贷", "虫草贷"]),
        "goji": published_product(officer, operator, code="C-GOJI", tags=["枸杞贷"]),
        "micro_officer": micro,
    }


def test_first_loan_products_are_tagged_or_low_entry_credit_loans(shelf):
    codes = {p.code for p in centre_selectors.first_loan_products()}
    assert {"C-FIRST", "C-LOW"} <= codes
    assert "C-STRICT" not in codes and "C-MORT" not in codes


def test_enterprise_without_a_loan_gets_first_loan_products_with_verdicts(
    enterprise_user, entity, shelf
):
    offer = centre_selectors.first_loan_offer(user=enterprise_user)
    assert offer is not None and offer.entity == entity and not offer.has_loan
    by_code = {o.product.code: o for o in offer.options}
    assert by_code["C-FIRST"].tagged and not by_code["C-LOW"].tagged
    assert by_code["C-FIRST"].verdict is not None and by_code["C-FIRST"].verdict.eligible
    # eligible options come first
    flags = [bool(o.verdict and o.verdict.eligible) for o in offer.options]
    assert flags == sorted(flags, reverse=True)


def test_first_loan_list_holds_only_entities_without_loans(
    enterprise_user, entity, other_enterprise_user, shelf, bank, operator, bank_officer
):
    other = other_enterprise_user.organisation.market_entity
    demand_services.demand_publish(actor=other_enterprise_user, entity=other, data=demand_in())
    demand_services.demand_publish(actor=enterprise_user, entity=entity, data=demand_in())
    scored = MarketEntityFactory()
    _profile(scored, grade="BB")
    stale = MarketEntityFactory()
    _profile(stale, days_ago=400)
    MarketEntityFactory()  # neither demand nor score: not a first-loan prospect
    filters = centre_selectors.FirstLoanFilter()
    before = set(centre_selectors.first_loan_entities(user=bank_officer, filters=filters))
    assert before == {entity, other}  # institutions: only entities that asked (open demand)
    assert set(centre_selectors.first_loan_entities(user=operator, filters=filters)) == {
        entity,
        other,
        scored,
    }
    _loan(enterprise_user, entity, shelf["first"], bank, days_ago=10)
    after = list(centre_selectors.first_loan_entities(user=bank_officer, filters=filters))
    assert after == [other]
    assert after[0].open_demands == 1
    assert [d.amount for d in after[0].open_demand_list] == [Decimal("500000")]
    # region filter
    in_haidong = centre_selectors.FirstLoanFilter(region="632800")
    assert list(centre_selectors.first_loan_entities(user=bank_officer, filters=in_haidong)) == [
        other
    ]
    # the operator sees and filters by grade; institutions get no grade at all
    rows = {e.pk: e for e in centre_selectors.first_loan_entities(user=operator, filters=filters)}
    assert rows[scored.pk].grade == "BB"
    assert not hasattr(after[0], "grade")
    best = centre_selectors.FirstLoanFilter(grade="BBB")
    assert list(centre_selectors.first_loan_entities(user=operator, filters=best)) == []
    with pytest.raises(PermissionDeniedError):
        centre_selectors.first_loan_entities(user=bank_officer, filters=best)


def test_first_loan_list_is_refused_to_enterprises_and_government(
    enterprise_user, gov_reviewer, make_user
):
    investor = make_user("investor", ["institution_admin"])
    for user in (enterprise_user, gov_reviewer, investor):
        with pytest.raises(PermissionDeniedError):
            centre_selectors.first_loan_entities(
                user=user, filters=centre_selectors.FirstLoanFilter()
            )


def test_enterprise_with_a_loan_is_told_it_is_no_longer_a_first_loan(
    enterprise_user, entity, shelf, bank
):
    loan = _loan(enterprise_user, entity, shelf["first"], bank, days_ago=5)
    assert loan.first_loan
    offer = centre_selectors.first_loan_offer(user=enterprise_user)
    assert offer is not None and offer.has_loan


# ---------------------------------------------------------------- 续贷中心


def test_renewal_lists_only_live_loans_maturing_within_90_days(
    enterprise_user, entity, shelf, bank, bank_officer, make_user, operator
):
    soon = _loan(enterprise_user, entity, shelf["first"], bank, days_ago=335)
    later = _loan(enterprise_user, entity, shelf["low"], bank, days_ago=100)
    settled = _loan(enterprise_user, entity, shelf["renew"], bank, days_ago=330)
    rest = sum(i.due_left for i in settled.instalments.all())
    loan_services.loan_repayment_record(loan=settled, actor=bank["loan_officer"], amount=rest)
    settled.refresh_from_db()
    assert settled.status == LoanStatus.SETTLED
    assert soon.maturity_on <= timezone.localdate() + dt.timedelta(days=90) < later.maturity_on
    for user in (enterprise_user, bank_officer, operator):
        assert list(centre_selectors.renewal_due_loans(user=user)) == [soon]
    other_bank = make_user("bank", ["loan_officer"])
    assert list(centre_selectors.renewal_due_loans(user=other_bank)) == []


def test_renewal_options_are_the_lending_institutions_only(enterprise_user, entity, shelf, bank):
    """A renewal is made with the original lender: another institution's 无还本续贷 product is
    not offered (the service would refuse it)."""
    loan = _loan(enterprise_user, entity, shelf["first"], bank, days_ago=335)
    options = centre_selectors.renewal_options(entity=entity, loans=[loan])[loan.pk]
    assert [o.product.code for o in options] == ["C-RENEW"]
    assert options[0].same_institution and not options[0].without_principal


def test_renewal_page_links_to_the_apply_page_with_the_loan(
    client, enterprise_user, entity, shelf, bank
):
    loan = _loan(enterprise_user, entity, shelf["first"], bank, days_ago=335)
    client.force_login(enterprise_user)
    response = client.get("/marketplace/renewal/")
    assert response.status_code == 200
    body = response.content.decode()
    assert f"/marketplace/p/C-RENEW/apply/?renewal={loan.pk}" in body
    assert f"/marketplace/p/C-NOPAY/apply/?renewal={loan.pk}" not in body
    assert client.get(f"/marketplace/p/C-RENEW/apply/?renewal={loan.pk}").status_code == 200


def test_institution_sees_its_maturing_loans_with_days_left(
    client, enterprise_user, entity, shelf, bank, bank_officer
):
    loan = _loan(enterprise_user, entity, shelf["first"], bank, days_ago=335)
    client.force_login(bank_officer)
    response = client.get("/marketplace/renewal/")
    assert response.status_code == 200
    (row,) = response.context["rows"]
    assert row[0] == loan and row[0].days_left == (loan.maturity_on - timezone.localdate()).days


# ---------------------------------------------------------------- 小贷, 地方特色


def test_microloan_column_holds_only_microloan_products(shelf):
    assert {p.code for p in centre_selectors.microloan_products()} == {"C-NOPAY", "C-MICRO"}
    (company,) = centre_selectors.microloan_companies()
    assert company.published == 2


def test_specials_are_grouped_by_local_tag(shelf):
    groups = dict(centre_selectors.local_specials())
    assert [p.code for p in groups["拉面贷"]] == ["C-MICRO"]
    assert [p.code for p in groups["虫草贷"]] == ["C-MICRO"]
    assert [p.code for p in groups["枸杞贷"]] == ["C-GOJI"]
    assert groups["牦牛贷"] == []


def test_withdrawn_products_leave_the_columns(shelf):
    product_services.product_withdraw(product=shelf["micro"], actor=shelf["micro_officer"])
    assert [p.code for p in centre_selectors.microloan_products()] == ["C-NOPAY"]
    assert dict(centre_selectors.local_specials())["拉面贷"] == []


# ---------------------------------------------------------------- pages


@pytest.mark.parametrize("path", ["first-loan", "renewal", "microloan", "specials"])
def test_enterprise_pages_render(client, enterprise_user, shelf, path):
    client.force_login(enterprise_user)
    assert client.get(f"/marketplace/{path}/").status_code == 200


def test_column_pages_by_role(client, shelf, bank_officer, operator, gov_reviewer, make_user):
    investor = make_user("investor", ["institution_admin"])
    expected = {
        bank_officer: {"first-loan": 200, "renewal": 200},
        operator: {"first-loan": 200, "renewal": 200},
        gov_reviewer: {"first-loan": 403, "renewal": 403},
        investor: {"first-loan": 403, "renewal": 403},
    }
    for user, pages in expected.items():
        client.force_login(user)
        for path, status in pages.items():
            assert client.get(f"/marketplace/{path}/").status_code == status, (user, path)
        assert client.get("/marketplace/microloan/").status_code == 200
        assert client.get("/marketplace/specials/").status_code == 200


def test_first_loan_page_hides_grades_from_institutions(client, bank_officer, operator):
    scored = MarketEntityFactory(name="有分无贷公司")
    _profile(scored, grade="AA")
    Demand.objects.create(
        entity=scored,
        amount=Decimal("500000"),
        term_months=12,
        purpose_category="working_capital",
        max_rate=Decimal("6"),
    )
    client.force_login(bank_officer)
    response = client.get("/marketplace/first-loan/")
    assert "有分无贷公司" in response.content.decode()
    assert "AA" not in response.content.decode().split('id="first-loan-entities"')[1]
    assert client.get("/marketplace/first-loan/", {"grade": "A"}).status_code == 403
    client.force_login(operator)
    response = client.get("/marketplace/first-loan/", {"grade": "AA"})
    assert [e.pk for e in response.context["page"].object_list] == [scored.pk]
    bad = client.get("/marketplace/first-loan/", {"region": "999999"})
    assert bad.status_code == 200 and "999999" in bad.context["error"]


def test_pages_need_login(client):
    for path in ("first-loan", "renewal", "microloan", "specials", "capital-market"):
        assert client.get(f"/marketplace/{path}/").status_code == 302


def test_renewal_recommends_only_products_covering_the_balance_and_prefills_within_range(
    client, enterprise_user, entity, shelf, bank, operator
):
    """A loan with ¥6,828.01 left is not offered a ¥500,000–9,960,000 product as 符合申请条件;
    a product that fits is pre-filled with an amount it accepts."""
    big = published_product(
        bank["loan_officer"],
        operator,
        code="C-BIG",
        tags=["续贷"],
        amount_min="500000",
        amount_max="9960000",
    )
    small = published_product(
        bank["loan_officer"], operator, code="C-SMALL", tags=["续贷"], amount_min="5000"
    )
    loan = _loan(enterprise_user, entity, shelf["first"], bank, days_ago=335)
    Loan.objects.filter(pk=loan.pk).update(outstanding=Decimal("6828.01"))
    loan.refresh_from_db()
    options = centre_selectors.renewal_options(entity=entity, loans=[loan])[loan.pk]
    codes = [o.product.code for o in options]
    assert "C-BIG" not in codes and "C-RENEW" not in codes and codes == ["C-SMALL"]
    assert centre_selectors.renewal_prefill(loan, big.current_version)[0] == Decimal("500000")
    client.force_login(enterprise_user)
    body = client.get("/marketplace/renewal/").content.decode()
    assert "/marketplace/p/C-BIG/apply/" not in body and "/marketplace/p/C-SMALL/apply/" in body
    assert "不覆盖本笔贷款余额" in body
    form = client.get(f"/marketplace/p/C-SMALL/apply/?renewal={loan.pk}")
    assert form.context["form"].initial["amount"] == Decimal("6828.01")
    # reached by hand, the out-of-range product is pre-filled within its range
    form = client.get(f"/marketplace/p/C-BIG/apply/?renewal={loan.pk}")
    amount = form.context["form"].initial["amount"]
    assert Decimal("500000") <= amount <= Decimal("9960000")
    assert small.current_version.amount_min <= Decimal("6828.01")
