"""The coverage verdict on the real loan application page: the lender sees whether the loan is
(or would be) covered and every reason why not; judged today before disbursement, by the loan's
day after; the enterprise does not see it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from xinrong.enterprises.tests.factories import MarketEntityFactory
from xinrong.marketplace.models import LoanApplication
from xinrong.riskfund import slots
from xinrong.riskfund.models import RuleSet
from xinrong.riskfund.services.rules import breaker_sweep
from xinrong.riskfund.tests.factories import fund_world, platform_loan

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _panel():
    slots.register()  # the lead calls it from RiskfundConfig.ready; registering twice replaces


def application(w, *, amount="8000000.00", entity=None, status="submitted"):
    entity = entity or MarketEntityFactory(division_code="630102", size_class="small")
    return LoanApplication.objects.create(
        number=f"LA-COV-{LoanApplication.objects.count() + 1}",
        entity=entity,
        product=w.product,
        product_version=w.product.versions.order_by("-id").first(),
        institution=w.bank,
        amount=Decimal(amount),
        term_months=12,
        repayment_method="equal_instalment",
        submitted_by=w.officer,
        submitted_at=timezone.now(),
        status=status,
    )


def panel(client, user, app) -> str:
    client.force_login(user)
    response = client.get(reverse("marketplace:application_detail", args=[app.pk]))
    assert response.status_code == 200
    text = response.content.decode()
    if 'id="riskfund-coverage"' not in text:
        return ""
    start = text.index('id="riskfund-coverage"')
    return text[start : text.index("</section>", start)]


def test_before_approval_the_lender_sees_todays_rules_with_every_reason(client, make_user):
    w = fund_world(make_user)
    today = timezone.localdate()
    RuleSet.objects.create(
        fund=w.fund,
        version=2,
        effective_from=today + dt.timedelta(days=30),
        loan_cap=Decimal("10000000"),
    )
    entity = MarketEntityFactory(division_code="630102", size_class="medium")
    app = application(w, entity=entity)
    text = panel(client, w.officer, app)
    assert 'data-covered="no"' in text
    assert "不在风险补偿范围" in text
    assert "企业规模为中型，规则只覆盖小型、微型企业" in text
    assert "贷款金额 800 万元超过单笔上限 500 万元" in text  # today's v1, not v2 to come
    assert f"尚未放款：按今天（{today.isoformat()}）有效的第 1 版规则" in text


def test_a_covered_application_says_the_fund_and_the_share(client, make_user):
    w = fund_world(make_user)
    app = application(w, amount="3000000.00")
    text = panel(client, w.officer, app)
    assert 'data-covered="yes"' in text
    assert f"风险补偿：可纳入{w.fund.name}（政府分担 3:7）" in text
    # the operator sees it too; the enterprise does not
    assert "可纳入" in panel(client, w.office, app)


def test_after_disbursement_the_loans_day_decides(client, make_user, enterprise_user):
    w = fund_world(make_user)
    RuleSet.objects.create(
        fund=w.fund, version=2, effective_from=dt.date(2024, 1, 1), loan_cap=Decimal("10000000")
    )
    entity = enterprise_user.organisation.market_entity
    entity.size_class = "small"
    entity.save(update_fields=["size_class"])
    old = platform_loan(
        w.bank,
        w.officer,
        w.product,
        entity=entity,
        principal="8000000.00",
        disbursed_on=dt.date(2023, 6, 1),
        status="active",
    )
    text = panel(client, w.officer, old.application)
    assert "贷款金额 800 万元超过单笔上限 500 万元" in text
    assert "按放款日 2023-06-01 有效的第 1 版规则" in text
    new = platform_loan(
        w.bank,
        w.officer,
        w.product,
        principal="8000000.00",
        disbursed_on=dt.date(2024, 6, 1),
        status="active",
    )
    text = panel(client, w.officer, new.application)
    assert 'data-covered="yes"' in text and "按放款日 2024-06-01 有效的第 2 版规则" in text
    # the enterprise sees its application page, without the verdict
    assert panel(client, enterprise_user, old.application) == ""


def test_a_tripped_lender_is_warned_on_the_panel(client, make_user):
    w = fund_world(make_user, breaker_threshold=Decimal("5"))
    platform_loan(w.bank, w.officer, w.product, principal="1000000.00")
    breaker_sweep()
    text = panel(client, w.officer, application(w, amount="1000000.00"))
    assert "补偿暂停" in text and "高于熔断线 5%" in text
