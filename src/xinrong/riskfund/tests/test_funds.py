"""Funds: who sees which fund, figures and balance history from the ledger, the services'
checks (every problem at once, nothing half written), reversals, the workbench card."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from xinrong.accounts.permissions import can
from xinrong.common.errors import ConflictError, PermissionDeniedError
from xinrong.riskfund.choices import EntryKind
from xinrong.riskfund.models import Fund, LedgerEntry
from xinrong.riskfund.selectors import funds as selectors
from xinrong.riskfund.services import funds as services
from xinrong.riskfund.services import ledger
from xinrong.riskfund.tests.factories import fund_world

pytestmark = pytest.mark.django_db


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    return {k: [m for e in v for m in e.messages] for k, v in exc.error_dict.items()}


def test_a_golmud_substation_sees_only_the_golmud_fund(make_user):
    province = fund_world(make_user)
    golmud = fund_world(make_user, division_code="632801")
    station = make_user("substation", ["operator_admin"], region_code="632801")
    haixi_station = make_user("substation", ["operator_admin"], region_code="632800")
    central = make_user("operator", ["operator_admin"])
    auditor = make_user("operator", ["auditor"])
    assert list(selectors.funds_visible(user=station)) == [golmud.fund]
    assert list(selectors.funds_visible(user=haixi_station)) == [golmud.fund]
    assert set(selectors.funds_visible(user=central)) == {province.fund, golmud.fund}
    assert set(selectors.funds_visible(user=auditor)) == {province.fund, golmud.fund}
    assert can(station, "riskfund.fund_view", golmud.fund)
    assert not can(station, "riskfund.fund_view", province.fund)
    # the ledger rows follow the funds
    assert {e.fund_id for e in LedgerEntry.objects.restrict(station)} == {golmud.fund.pk}


def test_finance_sees_the_funds_it_manages_and_institutions_none(make_user):
    a = fund_world(make_user)
    b = fund_world(make_user, division_code="632801")
    assert list(selectors.funds_visible(user=a.finance)) == [a.fund]
    assert list(selectors.funds_visible(user=b.finance2)) == [b.fund]
    assert can(a.finance, "riskfund.fund_post", a.fund)
    assert not can(a.finance, "riskfund.fund_post", b.fund)
    assert not can(a.office, "riskfund.fund_post", a.fund)
    for outsider in (a.officer, make_user("bank", ["institution_admin"])):
        assert not selectors.funds_visible(user=outsider).exists()
        assert not can(outsider, "riskfund.fund_view")
        assert selectors.fund_card(user=outsider) is None


def test_summaries_split_this_year_from_earlier_years_and_net_reversals(make_user):
    w = fund_world(make_user, balance="0")
    today = timezone.localdate()
    last_year = dt.date(today.year - 1, 6, 30)
    ledger.injection_post(fund=w.fund, amount="1000.00", actor=w.finance, value_date=last_year)
    wrong = ledger.injection_post(fund=w.fund, amount="300.00", actor=w.finance)
    ledger.injection_post(fund=w.fund, amount="200.00", actor=w.finance)
    ledger.reverse_entry(entry=wrong, actor=w.finance, memo="重复登记")
    ledger.adjustment_post(
        fund=w.fund, amount="0.50", into_fund=True, memo="专户利息", actor=w.finance
    )
    s = selectors.fund_summary(w.fund)
    assert s.balance == Decimal("1200.50") == ledger.fund_balance(w.fund)
    assert s.injected == Decimal("1200.00")
    assert s.injected_year == Decimal("200.00")
    assert s.adjusted == s.adjusted_year == Decimal("0.50")
    assert s.compensated == s.recovered == Decimal("0.00")
    assert s.plan_pct == 0 and s.plan_left == w.fund.yearly_injection - Decimal("200.00")


def test_balance_by_month_fills_quiet_months_and_ends_this_month(make_user):
    w = fund_world(make_user, balance="0")
    today = timezone.localdate()
    first = (today.replace(day=1) - dt.timedelta(days=70)).replace(day=3)
    ledger.injection_post(fund=w.fund, amount="500.00", actor=w.finance, value_date=first)
    ledger.adjustment_post(
        fund=w.fund, amount="20.00", into_fund=False, memo="手续费", actor=w.finance
    )
    rows = selectors.balance_by_month(w.fund, today=today)
    assert rows[0]["month"] == first.strftime("%Y-%m")
    assert rows[0]["balance"] == Decimal("500.00") and rows[0]["inflow"] == Decimal("500.00")
    assert rows[-1]["month"] == today.strftime("%Y-%m")
    assert rows[-1]["balance"] == Decimal("480.00") and rows[-1]["outflow"] == Decimal("20.00")
    assert len(rows) >= 3  # the months between keep the balance
    assert all(r["balance"] == Decimal("500.00") for r in rows[1:-1])
    assert selectors.balance_by_month(fund_world(make_user, balance="0").fund) == []


def test_balance_after_each_entry_follows_posting_order(make_user):
    w = fund_world(make_user, balance="100.00")
    ledger.injection_post(fund=w.fund, amount="50.00", actor=w.finance)
    ledger.adjustment_post(
        fund=w.fund, amount="30.00", into_fund=False, memo="手续费", actor=w.finance
    )
    ledger.injection_post(fund=w.fund, amount="5.25", actor=w.finance)
    entries = list(selectors.ledger_entries(user=w.office, fund=w.fund))
    after = selectors.balances_after(w.fund, entries)
    assert [after[e.pk] for e in entries] == [
        Decimal("125.25"),
        Decimal("120.00"),
        Decimal("150.00"),
        Decimal("100.00"),
    ]
    # one page in the middle: the same figures
    assert selectors.balances_after(w.fund, entries[1:3]) == {
        entries[1].pk: Decimal("120.00"),
        entries[2].pk: Decimal("150.00"),
    }
    assert [(e.cash_in, e.cash_out) for e in entries[:2]] == [
        (Decimal("5.25"), Decimal("0.00")),
        (Decimal("0.00"), Decimal("30.00")),
    ]


def test_fund_create_reports_every_problem_at_once_and_writes_nothing(make_user):
    w = fund_world(make_user)
    station = make_user("substation", ["operator_admin"], region_code="632801")
    bank = w.officer.organisation
    with pytest.raises(ValidationError) as refused:
        services.fund_create(
            actor=station,
            code="Bad Code!",
            name="",
            level="city",
            division_code="630000",
            manager=bank,
            office=bank,
            yearly_injection="-1",
            opened_on=timezone.localdate() + dt.timedelta(days=3),
        )
    errors = _errors(refused.value)
    assert set(errors) == {
        "code",
        "name",
        "division_code",
        "manager",
        "office",
        "yearly_injection",
        "opened_on",
    }
    assert any("不在您管辖的区域内" in m for m in errors["division_code"])
    assert any("不能选择全省" in m for m in errors["division_code"])
    assert "财政" in errors["manager"][0]
    assert Fund.objects.count() == 1


def test_fund_create_by_a_substation_in_its_region(make_user):
    w = fund_world(make_user)
    station = make_user("substation", ["operator_admin"], region_code="632801")
    fund = services.fund_create(
        actor=station,
        code="golmud",
        name="格尔木市小微企业信用贷款风险补偿基金",
        level="city",
        division_code="632801",
        manager=w.finance.organisation,
        office=station.organisation,
        yearly_injection="20000000",
        opened_on=dt.date(2024, 1, 1),
    )
    assert fund.division_code == "632801" and fund.yearly_injection == Decimal("20000000.00")
    assert can(station, "riskfund.fund_view", fund)
    # the same region twice, a taken code: refused
    with pytest.raises(ValidationError) as again:
        services.fund_create(
            actor=station,
            code="golmud",
            name="另一个基金",
            level="city",
            division_code="632801",
            manager=w.finance.organisation,
            office=station.organisation,
            yearly_injection="",
            opened_on=dt.date(2024, 1, 1),
        )
    errors = _errors(again.value)
    assert "已被使用" in errors["code"][0] and "已有运行中的基金" in errors["division_code"][0]
    with pytest.raises(PermissionDeniedError):
        services.fund_create(
            actor=w.finance,
            code="x-1",
            name="x",
            level="city",
            division_code="632801",
            manager=w.finance.organisation,
            office=station.organisation,
            yearly_injection="0",
            opened_on=dt.date(2024, 1, 1),
        )


def test_inject_checks_every_field_and_refuses_a_voucher_twice(make_user):
    w = fund_world(make_user, balance="0")
    future = timezone.localdate() + dt.timedelta(days=1)
    with pytest.raises(ValidationError) as refused:
        services.fund_inject(
            actor=w.finance, fund=w.fund, amount="12.345", value_date=future, voucher_no="x" * 65
        )
    errors = _errors(refused.value)
    assert set(errors) == {"amount", "value_date", "voucher_no"}
    assert "两位小数" in errors["amount"][0] and "不能晚于今天" in errors["value_date"][0]
    with pytest.raises(ValidationError) as early:
        services.fund_inject(
            actor=w.finance, fund=w.fund, amount="1", value_date=dt.date(2019, 12, 31)
        )
    assert "设立日期" in _errors(early.value)["value_date"][0]
    services.fund_inject(actor=w.finance, fund=w.fund, amount="1000", voucher_no="GK-2026-001")
    with pytest.raises(ConflictError) as twice:
        services.fund_inject(actor=w.finance, fund=w.fund, amount="1000", voucher_no="GK-2026-001")
    assert "GK-2026-001" in twice.value.message and twice.value.extra["field"] == "voucher_no"
    with pytest.raises(PermissionDeniedError):
        services.fund_inject(actor=w.office, fund=w.fund, amount="1")
    assert ledger.fund_balance(w.fund) == Decimal("1000.00")
    assert LedgerEntry.objects.filter(fund=w.fund).count() == 1


def test_adjust_needs_a_reason_and_never_overdraws(make_user):
    w = fund_world(make_user, balance="100.00")
    with pytest.raises(ValidationError) as refused:
        services.fund_adjust(actor=w.finance, fund=w.fund, amount="abc", direction="", memo="")
    assert set(_errors(refused.value)) == {"amount", "direction", "memo"}
    with pytest.raises(ConflictError) as overdraft:
        services.fund_adjust(
            actor=w.finance, fund=w.fund, amount="100.01", direction="out", memo="手续费"
        )
    assert "余额" in overdraft.value.message
    services.fund_adjust(actor=w.finance, fund=w.fund, amount="0.99", direction="in", memo="利息")
    assert ledger.fund_balance(w.fund) == Decimal("100.99")


def test_reversal_mirrors_an_injection_once_and_only_injections_or_adjustments(make_user):
    w = fund_world(make_user, balance="500.00")
    entry = LedgerEntry.objects.get(fund=w.fund, kind=EntryKind.INJECTION)
    with pytest.raises(ValidationError):
        services.entry_reverse(actor=w.finance, entry=entry, memo="  ")
    with pytest.raises(PermissionDeniedError):
        services.entry_reverse(actor=w.office, entry=entry, memo="录错")
    mirror = services.entry_reverse(actor=w.finance, entry=entry, memo="金额录错")
    assert mirror.kind == EntryKind.REVERSAL and mirror.reverses == entry
    assert "金额录错" in mirror.memo
    assert ledger.fund_balance(w.fund) == Decimal("0.00")
    assert not selectors.entry_reversible(entry)
    with pytest.raises(ConflictError):
        services.entry_reverse(actor=w.finance, entry=entry, memo="再冲一次")
    with pytest.raises(ConflictError) as of_reversal:
        services.entry_reverse(actor=w.finance, entry=mirror, memo="冲销冲销")
    assert "不能再冲销" in of_reversal.value.message
    # an injection spent by an adjustment cannot be reversed below zero
    again = services.fund_inject(actor=w.finance, fund=w.fund, amount="100")
    services.fund_adjust(actor=w.finance, fund=w.fund, amount="60", direction="out", memo="费")
    with pytest.raises(ConflictError):
        services.entry_reverse(actor=w.finance, entry=again, memo="录错")
    assert ledger.fund_balance(w.fund) == Decimal("40.00") and ledger.ledger_consistent(w.fund)


def test_fund_card_sums_this_year_per_visible_fund(make_user):
    a = fund_world(make_user, balance="1000.00")
    fund_world(make_user, balance="7.00", division_code="632801")
    card = selectors.fund_card(user=a.finance)
    assert card is not None and [s.fund for s in card["funds"]] == [a.fund]
    assert card["totals"].balance == Decimal("1000.00")
    assert card["totals"].injected_year == Decimal("1000.00")
    assert card["may_post"] is True
    central = make_user("operator", ["operator_admin"])
    both = selectors.fund_card(user=central)
    assert both is not None and both["totals"].balance == Decimal("1007.00")
    assert both["may_post"] is False
