"""贴息: hand-computed subsidies to the fen, caps, periods, lender confirmation, the loan's cost."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from xinrong.common.errors import ApplicationError, ConflictError, PermissionDeniedError
from xinrong.enterprises.services import enterprise_register
from xinrong.enterprises.tests.factories import valid_id_number, valid_uscc
from xinrong.marketplace.costs import loan_cost
from xinrong.marketplace.models import LoanSubsidy
from xinrong.marketplace.selectors.subsidies import loan_cost_of
from xinrong.notifications.models import Notification
from xinrong.policies.choices import GrantStatus, SubsidyBatchStatus, SubsidyLineStatus
from xinrong.policies.models import Grant, SubsidyLine
from xinrong.policies.services import subsidy as svc
from xinrong.policies.tests.test_subsidy_support import (
    eligible,
    first_loan,
    loan_like,
    measure_make,
    paid,
)

pytestmark = pytest.mark.django_db
D = Decimal
JAN, MAR = dt.date(2026, 1, 1), dt.date(2026, 3, 31)


@pytest.fixture
def bank(bank_officer, make_user):
    org = bank_officer.organisation
    return {
        "loan_officer": bank_officer,
        "reviewer": make_user("bank", ["reviewer"], org=org),
        "admin": make_user("bank", ["institution_admin"], org=org),
    }


@pytest.fixture
def gov(make_user):
    return make_user("government", ["policy_publisher"])


@pytest.fixture
def world(enterprise_user, bank, operator, gov):
    """Entity A (eligible) with two loans, entity B (eligible) with one, C (not eligible)."""
    a = enterprise_user.organisation.market_entity
    loan1 = first_loan(enterprise_user, bank, operator)
    loan1.repayments.all().delete()  # the tests write their own repayment records
    loan2 = loan_like(loan1, disbursed_on=dt.date(2026, 2, 1))
    b_user = enterprise_register(
        uscc=valid_uscc(seed=2),
        name="格尔木测试工贸有限公司",
        legal_rep_name="李华",
        legal_rep_id_number=valid_id_number(seed=2),
        username="ent_b",
        password="Test-pass-2026",
        industry_code="C13",
        division_code="632801",
    )
    b = b_user.organisation.market_entity
    loan3 = loan_like(loan1, entity=b)
    c_user = enterprise_register(
        uscc=valid_uscc(seed=3),
        name="海东测试农业有限公司",
        legal_rep_name="王芳",
        legal_rep_id_number=valid_id_number(seed=3),
        username="ent_c",
        password="Test-pass-2026",
        industry_code="A01",
        division_code="630202",
    )
    loan4 = loan_like(loan1, entity=c_user.organisation.market_entity)
    return {"a": a, "b": b, "loans": [loan1, loan2, loan3, loan4], "b_user": b_user}


def _lines(batch):
    return {ln.loan_id: ln for ln in SubsidyLine.objects.filter(batch=batch)}


def test_hand_computed_subsidy_with_caps_and_period(world, gov):
    """Ratio 50%, 单笔上限 1,000.00, 单户上限 1,500.00, Q1 2026.

    loan1 (A, disbursed 01-10): interest 01-31 333.33 + 02-28 666.67 + 03-31 1,001.11 = 2,001.11;
        a repayment on 04-01 (1,000.00) is outside the period; the 2025-12-31 one too.
        50% = 1,000.555 → 1,000.56 → 单笔上限 1,000.00.
    loan2 (A, disbursed 02-01): interest 02-28 401.01 + 03-31 600.00 = 1,001.01 → 500.505 →
        500.51; A's room left 1,500.00 − 1,000.00 = 500.00 → 500.00 (单户上限).
    loan3 (B): interest 123.45 → 61.725 → 61.73 (half-up).
    loan4 (C, not eligible): none.
    """
    loan1, loan2, loan3, loan4 = world["loans"]
    m = measure_make(gov.organisation, cap_per_loan=D("1000.00"), cap=D("1500.00"))
    eligible(m, world["a"])
    eligible(m, world["b"])
    paid(loan1, dt.date(2025, 12, 31), "999.99")
    paid(loan1, dt.date(2026, 1, 31), "333.33", "9000")
    paid(loan1, dt.date(2026, 2, 28), "666.67", "9000")
    paid(loan1, dt.date(2026, 3, 31), "1001.11", "9000")
    paid(loan1, dt.date(2026, 4, 1), "1000.00", "9000")
    paid(loan2, dt.date(2026, 2, 28), "401.01")
    paid(loan2, dt.date(2026, 3, 31), "600.00")
    paid(loan3, dt.date(2026, 3, 15), "123.45")
    paid(loan4, dt.date(2026, 3, 15), "500.00")

    batch = svc.subsidy_batch_calculate(measure=m, period_start=JAN, period_end=MAR, actor=gov)
    lines = _lines(batch)
    assert set(lines) == {loan1.pk, loan2.pk, loan3.pk}
    l1, l2, l3 = lines[loan1.pk], lines[loan2.pk], lines[loan3.pk]
    assert (l1.interest_paid, l1.computed, l1.amount) == (D("2001.11"), D("1000.56"), D("1000.00"))
    assert "单笔贷款上限" in l1.cap_note
    assert (l2.interest_paid, l2.computed, l2.amount) == (D("1001.01"), D("500.51"), D("500.00"))
    assert "单户上限" in l2.cap_note
    assert (l3.interest_paid, l3.computed, l3.amount) == (D("123.45"), D("61.73"), D("61.73"))
    assert l3.cap_note == ""
    assert all(ln.status == SubsidyLineStatus.PENDING for ln in lines.values())
    assert batch.status == SubsidyBatchStatus.CALCULATED


def test_enterprise_cap_across_batches_and_disputes(world, gov, bank):
    """单户上限 300.00 over two quarters; a disputed line frees its share of the cap."""
    loan1, loan2, _loan3, _loan4 = world["loans"]
    m = measure_make(gov.organisation, cap=D("300.00"), ratio=D("0.3"))
    eligible(m, world["a"])
    paid(loan1, dt.date(2026, 3, 10), "700.00")  # 30% = 210.00
    q1 = svc.subsidy_batch_calculate(measure=m, period_start=JAN, period_end=MAR, actor=gov)
    assert _lines(q1)[loan1.pk].amount == D("210.00")
    paid(loan1, dt.date(2026, 4, 10), "500.00")  # 150.00, room 90.00
    paid(loan2, dt.date(2026, 4, 20), "100.00")  # 30.00, room 0 → 0.00
    q2 = svc.subsidy_batch_calculate(
        measure=m, period_start=dt.date(2026, 4, 1), period_end=dt.date(2026, 4, 30), actor=gov
    )
    l2 = _lines(q2)
    assert (l2[loan1.pk].computed, l2[loan1.pk].amount) == (D("150.00"), D("90.00"))
    assert (l2[loan2.pk].computed, l2[loan2.pk].amount) == (D("30.00"), D("0.00"))
    # the lender disputes Q1's line: it no longer counts against the cap in a later batch
    svc.subsidy_line_dispute(line=_lines(q1)[loan1.pk], actor=bank["admin"], note="利息有误")
    paid(loan1, dt.date(2026, 5, 10), "1000.00")  # 300.00; held 90.00 → 210.00
    q3 = svc.subsidy_batch_calculate(
        measure=m, period_start=dt.date(2026, 5, 1), period_end=dt.date(2026, 5, 31), actor=gov
    )
    assert _lines(q3)[loan1.pk].amount == D("210.00")


def test_period_checks_and_overlap(world, gov):
    loan1 = world["loans"][0]
    m = measure_make(gov.organisation)
    eligible(m, world["a"])
    with pytest.raises(ApplicationError) as e:
        svc.subsidy_batch_calculate(measure=m, period_start=MAR, period_end=JAN, actor=gov)
    assert "结束日期不能早于开始日期" in e.value.message
    with pytest.raises(ApplicationError) as e:
        svc.subsidy_batch_calculate(measure=m, period_start=JAN, period_end=MAR, actor=gov)
    assert e.value.code == "no_subsidy_loans"
    paid(loan1, dt.date(2026, 2, 1), "10.00")
    svc.subsidy_batch_calculate(measure=m, period_start=JAN, period_end=MAR, actor=gov)
    with pytest.raises(ConflictError) as e:
        svc.subsidy_batch_calculate(
            measure=m, period_start=dt.date(2026, 3, 1), period_end=dt.date(2026, 4, 30), actor=gov
        )
    assert e.value.code == "subsidy_period_overlap"
    other = measure_make(gov.organisation, kind="subsidy", ratio=None)
    with pytest.raises(ApplicationError) as e:
        svc.subsidy_batch_calculate(measure=other, period_start=JAN, period_end=MAR, actor=gov)
    assert set(e.value.extra["errors"]) == {"measure", "ratio"}  # all errors at once


def test_only_the_department_calculates(world, gov, make_user, bank):
    m = measure_make(gov.organisation)
    paid(world["loans"][0], dt.date(2026, 2, 1), "10.00")
    eligible(m, world["a"])
    stranger = make_user("government", ["policy_publisher"])
    for who in (stranger, bank["admin"]):
        with pytest.raises(PermissionDeniedError):
            svc.subsidy_batch_calculate(measure=m, period_start=JAN, period_end=MAR, actor=who)


def test_confirm_grant_record_and_cost(
    world, gov, bank, make_user, django_capture_on_commit_callbacks
):
    """Confirmed lines are granted against the budget and lower the loan's cost of financing."""
    loan1, _loan2, loan3, _ = world["loans"]
    m = measure_make(gov.organisation, budget=D("10000.00"))
    eligible(m, world["a"])
    eligible(m, world["b"])
    paid(loan1, dt.date(2026, 2, 1), "2000.00")  # 1,000.00
    paid(loan3, dt.date(2026, 2, 1), "300.01")  # 150.005 → 150.01
    batch = svc.subsidy_batch_calculate(measure=m, period_start=JAN, period_end=MAR, actor=gov)
    # another institution cannot confirm this bank's lines
    other = make_user("bank", ["institution_admin"])
    with pytest.raises(ApplicationError):
        svc.subsidy_lines_confirm(batch=batch, actor=other)
    with pytest.raises(PermissionDeniedError):
        svc.subsidy_lines_confirm(batch=batch, actor=other, line_ids=[_lines(batch)[loan1.pk].pk])
    with pytest.raises(ConflictError):  # not before every line is answered
        svc.subsidy_batch_grant(batch=batch, actor=gov)
    svc.subsidy_line_dispute(
        line=_lines(batch)[loan3.pk], actor=bank["admin"], note="未收到该笔利息"
    )
    assert svc.subsidy_lines_confirm(batch=batch, actor=bank["admin"]) == 1
    batch.refresh_from_db()
    assert batch.status == SubsidyBatchStatus.CONFIRMED
    with django_capture_on_commit_callbacks(execute=True):
        grants = svc.subsidy_batch_grant(batch=batch, actor=gov)
    assert [g.amount for g in grants] == [D("1000.00")]
    batch.refresh_from_db()
    assert batch.status == SubsidyBatchStatus.GRANTED
    rec = LoanSubsidy.objects.get(loan=loan1)
    assert rec.amount == D("1000.00")
    assert not LoanSubsidy.objects.filter(loan=loan3).exists()
    # loan1: 120,000 yuan, 12 months, 4.35%: 1,000 / 120,000 × 100 = 0.8333 → 4.35 − 0.83 = 3.52
    cost = loan_cost_of(loan=loan1)
    assert (cost.gross, cost.subsidy_rate, cost.net) == (D("4.35"), D("0.83"), D("3.52"))
    assert Notification.objects.filter(
        recipient=world["a"].organisation.users.first(), kind="policy_subsidy"
    ).exists()
    assert svc.subsidy_batch_disburse(batch=batch, voucher_no="PZ-2026-001", actor=gov) == 1
    assert Grant.objects.get(subsidy_line__batch=batch).status == GrantStatus.DISBURSED


def test_budget_refuses_the_whole_batch(world, gov, bank):
    loan1, loan2, _, _ = world["loans"]
    m = measure_make(gov.organisation, budget=D("1200.00"))
    eligible(m, world["a"])
    paid(loan1, dt.date(2026, 2, 1), "2000.00")  # 1,000.00
    paid(loan2, dt.date(2026, 2, 1), "400.02")  # 200.01 → total 1,200.01 > 1,200.00
    batch = svc.subsidy_batch_calculate(measure=m, period_start=JAN, period_end=MAR, actor=gov)
    svc.subsidy_lines_confirm(batch=batch, actor=bank["admin"])
    with pytest.raises(ConflictError) as e:
        svc.subsidy_batch_grant(batch=batch, actor=gov)
    assert e.value.code == "budget_exceeded"
    batch.refresh_from_db()
    assert batch.status == SubsidyBatchStatus.CONFIRMED
    assert not Grant.objects.filter(measure=m).exists()
    assert not LoanSubsidy.objects.exists()


def test_loan_page_shows_subsidy_and_net_cost(world, gov, bank, enterprise_user):
    loan1 = world["loans"][0]
    m = measure_make(gov.organisation)
    eligible(m, world["a"])
    paid(loan1, dt.date(2026, 2, 1), "2000.00")
    batch = svc.subsidy_batch_calculate(measure=m, period_start=JAN, period_end=MAR, actor=gov)
    svc.subsidy_lines_confirm(batch=batch, actor=bank["admin"])
    svc.subsidy_batch_grant(batch=batch, actor=gov)
    c = Client()
    c.force_login(enterprise_user)
    html = c.get(reverse("marketplace:application_detail", args=[loan1.application_id])).content
    text = html.decode()
    assert "政策贴息" in text and "首贷贴息" in text
    assert "3.52%" in text and "贴息折合" in text


def test_loan_cost_formula():
    c = loan_cost(
        annual_rate=D("6.00"), principal=D("200000"), term_months=24, subsidy_total=D("3000")
    )
    # 3,000 / 200,000 / 2 × 100 = 0.75
    assert (c.gross, c.subsidy_rate, c.net) == (D("6.00"), D("0.75"), D("5.25"))
    assert loan_cost(annual_rate=D("4.35"), principal=D("1"), term_months=12).net == D("4.35")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 4), st.integers(0, 5_000_000)), min_size=1, max_size=12),
    st.decimals(min_value=D("0.000001"), max_value=D("1"), places=6),
    st.one_of(st.none(), st.integers(0, 3_000_000)),
    st.one_of(st.none(), st.integers(0, 5_000_000)),
)
def test_vectorised_equals_decimal_reference(rows, ratio, loan_cap, ent_cap):
    """The integer-fen vectorised computation equals a per-loan Decimal reference."""
    frame = pd.DataFrame(
        [(i, e, f, i) for i, (e, f) in enumerate(rows)],
        columns=["loan_id", "entity_id", "interest", "order"],
    )
    cap_pl = None if loan_cap is None else D(loan_cap) / 100
    cap = None if ent_cap is None else D(ent_cap) / 100
    out = svc.subsidy_compute(frame, ratio=ratio, cap_per_loan=cap_pl, cap=cap)
    used: dict[int, Decimal] = {}
    for r in out.itertuples():
        ref = svc.subsidy_of(D(r.interest) / 100, ratio)
        assert D(int(r.computed)) / 100 == ref
        if cap_pl is not None:
            ref = min(ref, cap_pl)
        if cap is not None:
            ref = min(ref, max(cap - used.get(r.entity_id, D(0)), D(0)))
        used[r.entity_id] = used.get(r.entity_id, D(0)) + ref
        assert D(int(r.amount)) / 100 == ref


def test_pages_calculate_confirm_dispute_grant(world, gov, bank, make_user):
    """The department calculates in the page, the lender answers, the department grants."""
    loan1, loan2, _, _ = world["loans"]
    m = measure_make(gov.organisation, budget=D("5000.00"))
    eligible(m, world["a"])
    paid(loan1, dt.date(2026, 2, 1), "100.00")
    paid(loan2, dt.date(2026, 2, 1), "50.00")
    c = Client()
    c.force_login(gov)
    page = c.get(reverse("policies:subsidy_list"))
    assert page.status_code == 200 and "测算新一期贴息" in page.content.decode()
    bad = c.post(
        reverse("policies:subsidy_list"),
        {"measure": m.pk, "period_start": "2026-03-31", "period_end": "2026-01-01"},
    )
    assert bad.status_code == 400 and "结束日期不能早于开始日期" in bad.content.decode()
    r = c.post(
        reverse("policies:subsidy_list"),
        {"measure": m.pk, "period_start": "2026-01-01", "period_end": "2026-03-31"},
    )
    batch = m.subsidy_batches.get()
    assert r.status_code == 302 and r["Location"] == reverse(
        "policies:subsidy_batch", args=[batch.pk]
    )
    assert c.get(r["Location"]).status_code == 200
    # a bank without lines sees no batch; the lender sees its lines and the buttons
    outsider = Client()
    outsider.force_login(make_user("bank", ["institution_admin"]))
    assert outsider.get(reverse("policies:subsidy_batch", args=[batch.pk])).status_code == 404
    lender = Client()
    lender.force_login(bank["admin"])
    text = lender.get(reverse("policies:subsidy_batch", args=[batch.pk])).content.decode()
    assert "confirm-lines" in text and "提出异议" in text
    line2 = _lines(batch)[loan2.pk]
    lender.post(
        reverse("policies:subsidy_dispute", args=[batch.pk]), {"line": line2.pk, "note": ""}
    )
    line2.refresh_from_db()
    assert line2.status == SubsidyLineStatus.PENDING  # a dispute needs a note
    lender.post(
        reverse("policies:subsidy_dispute", args=[batch.pk]), {"line": line2.pk, "note": "重复"}
    )
    lender.post(reverse("policies:subsidy_confirm", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == SubsidyBatchStatus.CONFIRMED
    assert (
        "grant-batch" in c.get(reverse("policies:subsidy_batch", args=[batch.pk])).content.decode()
    )
    assert (
        "grant-batch"
        not in lender.get(reverse("policies:subsidy_batch", args=[batch.pk])).content.decode()
    )
    c.post(reverse("policies:subsidy_grant", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == SubsidyBatchStatus.GRANTED
    assert [g.amount for g in Grant.objects.filter(measure=m)] == [D("50.00")]
