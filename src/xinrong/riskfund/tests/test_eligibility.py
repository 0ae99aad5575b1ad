"""Rule versions judged by the loan's date; every reason at once; the loss arithmetic."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from xinrong.riskfund.arithmetic import claim_figures, recovery_return
from xinrong.riskfund.eligibility import LoanFacts, coverage
from xinrong.riskfund.models import RuleSet
from xinrong.riskfund.tests.factories import fund_world

pytestmark = pytest.mark.django_db


def facts(**kw: Any) -> LoanFacts:
    base: dict[str, Any] = dict(
        division_code="630102",
        entity_type="enterprise",
        size_class="small",
        amount=Decimal("5000000.00"),
        on=dt.date(2024, 6, 1),
        credit=True,
        first=False,
    )
    base.update(kw)
    return LoanFacts(**base)


def test_a_loan_is_judged_by_the_rules_in_force_when_it_was_made(make_user):
    w = fund_world(make_user)
    RuleSet.objects.create(
        fund=w.fund,
        version=2,
        effective_from=dt.date(2025, 1, 1),
        loan_cap=Decimal("10000000"),
        entity_types=["enterprise", "individual_business"],
    )
    big = facts(amount=Decimal("8000000.00"))
    old = coverage(big)
    assert not old.covered and old.rule_set.version == 1
    assert old.reasons == ("贷款金额 800 万元超过单笔上限 500 万元",)
    new = coverage(facts(amount=Decimal("8000000.00"), on=dt.date(2025, 1, 1)))
    assert new.covered and new.rule_set.version == 2 and new.share_text == "3:7"
    ib = coverage(facts(entity_type="individual_business", size_class="", on=dt.date(2024, 12, 31)))
    assert ib.reasons == ("借款主体是个体工商户，规则只覆盖企业",)
    assert coverage(
        facts(entity_type="individual_business", size_class="", on=dt.date(2025, 2, 1))
    ).covered


def test_every_reason_is_given_at_once(make_user):
    fund_world(make_user)
    verdict = coverage(
        facts(size_class="medium", credit=False, first=False, amount=Decimal("6000000"))
    )
    assert not verdict.covered
    assert verdict.reasons == (
        "企业规模为中型，规则只覆盖小型、微型企业",
        "该笔贷款不是信用贷款、首贷",
        "贷款金额 600 万元超过单笔上限 500 万元",
    )
    assert coverage(facts(credit=False, first=True)).kinds == ("first",)


def test_the_most_specific_fund_and_a_date_before_any_rules(make_user):
    province = fund_world(make_user)
    golmud = fund_world(make_user, division_code="632801", rules_from=dt.date(2025, 1, 1))
    early = coverage(facts(division_code="632801", on=dt.date(2024, 1, 1)))
    assert early.fund == golmud.fund and not early.covered
    assert "尚无补偿规则" in early.reasons[0]
    assert coverage(facts(division_code="630102")).fund == province.fund


def test_guarantee_first_then_the_share_of_what_remains():
    f = claim_figures(
        loss_principal=Decimal("1000000.00"),
        loss_interest=Decimal("12345.67"),
        guarantor_paid=Decimal("600000.00"),
        share=Decimal("0.300"),
        covers_interest=False,
    )
    assert (f.loss_interest, f.base, f.amount) == (
        Decimal("0.00"),
        Decimal("400000.00"),
        Decimal("120000.00"),
    )
    g = claim_figures(
        loss_principal=Decimal("333.33"),
        loss_interest=Decimal("0.02"),
        guarantor_paid=Decimal("0"),
        share=Decimal("0.300"),
        covers_interest=True,
    )
    assert g.base == Decimal("333.35") and g.amount == Decimal("100.01")  # 100.005 → 100.01
    over = claim_figures(
        loss_principal=Decimal("100"),
        loss_interest=Decimal("0"),
        guarantor_paid=Decimal("150"),
        share=Decimal("0.3"),
        covers_interest=False,
    )
    assert over.guarantor_paid == Decimal("100.00") and over.amount == Decimal("0.00")


def test_recovery_returns_the_pro_rata_share_never_more_than_paid():
    paid = Decimal("120000.00")
    assert recovery_return(
        recovered=Decimal("100000.00"),
        share=Decimal("0.3"),
        paid=paid,
        returned_before=Decimal("0"),
    ) == Decimal("30000.00")
    assert recovery_return(
        recovered=Decimal("0.05"), share=Decimal("0.3"), paid=paid, returned_before=Decimal("0")
    ) == Decimal("0.02")
    assert recovery_return(
        recovered=Decimal("500000"),
        share=Decimal("0.3"),
        paid=paid,
        returned_before=Decimal("110000"),
    ) == Decimal("10000.00")
