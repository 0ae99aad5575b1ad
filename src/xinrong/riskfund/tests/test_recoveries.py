"""Recoveries (追偿): reported by the institution, confirmed by the office; the government's
pro-rata share goes back to the fund, never more in total than the fund paid."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from xinrong.common.errors import ApplicationError, PermissionDeniedError
from xinrong.riskfund.choices import EntryKind, RecoveryStatus
from xinrong.riskfund.models import LedgerEntry
from xinrong.riskfund.services import claims as services
from xinrong.riskfund.services import ledger
from xinrong.riskfund.tests.factories import fund_world
from xinrong.riskfund.tests.test_claims import file_claim

pytestmark = pytest.mark.django_db


def paid_claim(w, principal="1000000.00"):
    claim = file_claim(w, principal=principal)
    services.claim_decide(claim=claim, actor=w.office, approved=True)
    services.claim_decide(claim=claim, actor=w.finance, approved=True)
    claim.refresh_from_db()
    return claim


def test_recovery_returns_the_share_and_never_more_than_paid(make_user):
    w = fund_world(make_user, balance="1000000.00")
    claim = paid_claim(w)  # pays 300,000
    today = timezone.localdate()
    first = services.recovery_report(
        actor=w.officer, claim=claim, amount="400000.00", recovered_on=today, note="法院执行款"
    )
    assert first.status == RecoveryStatus.REPORTED and first.gov_return is None
    services.recovery_confirm(actor=w.office, recovery=first)
    first.refresh_from_db()
    assert first.status == RecoveryStatus.CONFIRMED
    assert first.gov_return == Decimal("120000.00")  # 30% of 400,000
    assert ledger.fund_balance(w.fund) == Decimal("820000.00")
    second = services.recovery_report(
        actor=w.officer, claim=claim, amount="600000.00", recovered_on=today
    )
    services.recovery_confirm(actor=w.office, recovery=second)
    second.refresh_from_db()
    assert second.gov_return == Decimal("180000.00")
    # in total the fund got back exactly what it paid
    assert ledger.fund_balance(w.fund) == Decimal("1000000.00")
    assert services.claim_returned_amount(claim) == services.claim_paid_amount(claim)
    assert LedgerEntry.objects.filter(claim=claim, kind=EntryKind.RECOVERY).count() == 2
    assert ledger.ledger_consistent(w.fund)


def test_the_cap_on_returns_with_cents(make_user):
    w = fund_world(make_user, balance="1000000.00")
    claim = paid_claim(w, principal="100000.00")  # pays 30,000
    r = services.recovery_report(
        actor=w.officer, claim=claim, amount="0.05", recovered_on=timezone.localdate()
    )
    services.recovery_confirm(actor=w.office, recovery=r)
    r.refresh_from_db()
    assert r.gov_return == Decimal("0.02")  # 0.015 rounds half up


def test_report_errors_all_at_once_and_wrong_people(make_user):
    w = fund_world(make_user)
    claim = paid_claim(w)
    with pytest.raises(ValidationError) as refused:
        services.recovery_report(
            actor=w.officer,
            claim=claim,
            amount="2000000.00",
            recovered_on=timezone.localdate() + dt.timedelta(days=3),
        )
    assert set(refused.value.message_dict) == {"amount", "recovered_on"}
    with pytest.raises(ValidationError) as bad:
        services.recovery_report(actor=w.officer, claim=claim, amount="abc", recovered_on="x")
    assert set(bad.value.message_dict) == {"amount", "recovered_on"}
    stranger = make_user("bank", ["loan_officer"])
    with pytest.raises(PermissionDeniedError):
        services.recovery_report(
            actor=stranger, claim=claim, amount="1", recovered_on=timezone.localdate()
        )
    r = services.recovery_report(
        actor=w.officer, claim=claim, amount="1000", recovered_on=timezone.localdate()
    )
    for person in (w.officer, w.finance):
        with pytest.raises(PermissionDeniedError):
            services.recovery_confirm(actor=person, recovery=r)


def test_recoveries_only_on_paid_claims(make_user):
    w = fund_world(make_user)
    claim = file_claim(w)
    with pytest.raises(ValidationError) as refused:
        services.recovery_report(
            actor=w.officer, claim=claim, amount="1000", recovered_on=timezone.localdate()
        )
    assert "claim" in refused.value.message_dict


def test_return_needs_a_reason_and_writes_nothing_to_the_fund(make_user):
    w = fund_world(make_user)
    claim = paid_claim(w)
    balance = ledger.fund_balance(w.fund)
    r = services.recovery_report(
        actor=w.officer, claim=claim, amount="1000", recovered_on=timezone.localdate()
    )
    with pytest.raises(ApplicationError):
        services.recovery_return(actor=w.office, recovery=r, note="")
    services.recovery_return(actor=w.office, recovery=r, note="缺少法院执行凭证")
    r.refresh_from_db()
    assert r.status == RecoveryStatus.RETURNED and r.gov_return is None
    assert ledger.fund_balance(w.fund) == balance
