"""The loan on the application page: paid sums to the fen, arrears of overdue instalments, days
past due from the oldest unpaid due instalment (also after default)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import PASSWORD
from xinrong.marketplace.models import Loan, LoanInstalment
from xinrong.marketplace.selectors.loans import loan_position
from xinrong.marketplace.tests.test_applications import _build

pytestmark = pytest.mark.django_db


@pytest.fixture
def bank(bank_officer, make_user):
    org = bank_officer.organisation
    return {
        "loan_officer": bank_officer,
        "reviewer": make_user("bank", ["reviewer"], org=org),
        "institution_admin": make_user("bank", ["institution_admin"], org=org),
    }


@pytest.fixture
def entity(enterprise_user):
    return enterprise_user.organisation.market_entity


def _loan_with_cents(enterprise_user, entity, bank, operator, status):
    app = _build(status, enterprise_user, entity, bank, operator)
    return app, Loan.objects.get(application=app)


def test_paid_keeps_the_cents_and_arrears_are_shown(
    client,
    enterprise_user,
    entity,
    bank,
    operator,
):
    app, loan = _loan_with_cents(enterprise_user, entity, bank, operator, "defaulted")
    today = timezone.localdate()
    first = loan.instalments.get(seq=1)
    # a part payment with cents on the first instalment; it fell due in May (long ago)
    LoanInstalment.objects.filter(pk=first.pk).update(
        principal_paid=Decimal("5000.50"),
        interest_paid=Decimal("182.44"),
        due_on=today - dt.timedelta(days=200),
    )
    first.refresh_from_db()
    owed = first.principal_due + first.interest_due - Decimal("5182.94")
    pos = loan_position(loan, today)
    assert pos.rows[0].paid == Decimal("5182.94")
    assert pos.paid_total == Decimal("5182.94")
    assert pos.days_past_due == 200  # not the 90 frozen at default
    assert pos.rows[0].days_overdue == 200 and pos.rows[0].left == owed
    assert pos.overdue_amount >= owed and pos.overdue_count >= 1
    assert client.login(username=enterprise_user.username, password=PASSWORD)
    html = client.get(reverse("marketplace:application_detail", args=[app.pk])).content.decode()
    assert ">5,182.94<" in html  # not 5182.00 (`|add` on decimals)
    assert "逾期 200 天" in html
    assert "逾期 90 天" not in html
    assert f"未还 {owed:,.2f} 元" in html


def test_current_loan_has_no_arrears(enterprise_user, entity, bank, operator):
    _app, loan = _loan_with_cents(enterprise_user, entity, bank, operator, "repaying")
    loan.instalments.filter(seq=2).update(due_on=timezone.localdate() + dt.timedelta(days=3))
    pos = loan_position(loan, timezone.localdate())
    assert pos.days_past_due == 0 and pos.overdue_amount == 0
    assert pos.paid_total == pos.rows[0].paid > 0
