"""The ledger's arithmetic: balanced entries, balance from lines only, no overdraft, reversals."""

from __future__ import annotations

from decimal import Decimal

import pytest

from xinrong.common.errors import ApplicationError, ConflictError
from xinrong.riskfund.choices import EntryKind
from xinrong.riskfund.models import LedgerEntry, LedgerLine
from xinrong.riskfund.services import ledger
from xinrong.riskfund.tests.factories import fund_world

pytestmark = pytest.mark.django_db


def test_injection_and_adjustments_move_the_balance_to_the_cent(make_user):
    w = fund_world(make_user, balance="1000.00")
    ledger.injection_post(fund=w.fund, amount="250.55", actor=w.finance, voucher_no="CZ-1")
    ledger.adjustment_post(
        fund=w.fund, amount=Decimal("0.45"), into_fund=True, memo="专户利息", actor=w.finance
    )
    ledger.adjustment_post(
        fund=w.fund, amount="1.00", into_fund=False, memo="银行手续费", actor=w.finance
    )
    assert ledger.fund_balance(w.fund) == Decimal("1250.00")
    figures = ledger.fund_figures(w.fund)
    assert figures.injected == Decimal("1250.55")
    assert figures.adjusted == Decimal("-0.55")
    assert ledger.ledger_consistent(w.fund)


def test_an_adjustment_out_never_overdraws(make_user):
    w = fund_world(make_user, balance="100.00")
    with pytest.raises(ConflictError) as refused:
        ledger.adjustment_post(
            fund=w.fund, amount="100.01", into_fund=False, memo="错误", actor=w.finance
        )
    assert "余额" in refused.value.message
    assert ledger.fund_balance(w.fund) == Decimal("100.00")


@pytest.mark.parametrize("bad", ["0", "-5", "1.001", "abc", "NaN", "1e20"])
def test_bad_amounts_are_refused_with_the_field(make_user, bad):
    w = fund_world(make_user, balance="0")
    with pytest.raises(ApplicationError) as refused:
        ledger.injection_post(fund=w.fund, amount=bad, actor=w.finance)
    assert refused.value.extra == {"field": "amount"}
    assert refused.value.status == 422
    assert not LedgerEntry.objects.filter(fund=w.fund).exists()


def test_a_reversal_mirrors_the_entry_once_and_rows_are_never_edited(make_user):
    w = fund_world(make_user, balance="500.00")
    entry = LedgerEntry.objects.get(fund=w.fund, kind=EntryKind.INJECTION)
    mirror = ledger.reverse_entry(entry=entry, actor=w.finance, memo="注资凭证录错")
    assert mirror.reverses == entry and mirror.amount == Decimal("500.00")
    assert ledger.fund_balance(w.fund) == Decimal("0.00")
    with pytest.raises(ConflictError):
        ledger.reverse_entry(entry=entry, actor=w.finance, memo="再冲一次")
    with pytest.raises(ValueError):
        entry.memo = "改"
        entry.save()
    with pytest.raises(ValueError):
        LedgerLine.objects.filter(entry=entry).first().delete()
    assert ledger.ledger_consistent(w.fund)
