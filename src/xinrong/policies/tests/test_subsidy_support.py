"""Shared set-up of the 贴息 and PBoC tests (no tests here): a measure, loans, repayments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from itertools import count
from typing import Any

from xinrong.marketplace.models import Loan, LoanApplication, Repayment
from xinrong.marketplace.services import applications as application_services
from xinrong.marketplace.services import loans as loan_services
from xinrong.marketplace.tests.factories import published_product
from xinrong.policies.choices import MeasureKind, MeasureStatus, PolicyLevel
from xinrong.policies.models import Measure, PolicyDocument, PolicyMatch

_seq = count(1)


def measure_make(department: Any, **terms: Any) -> Measure:
    """A published interest-subsidy measure of ``department`` (ratio 50% unless overridden)."""
    doc = PolicyDocument.objects.create(
        title="关于开展首贷贴息的通知",
        level=PolicyLevel.PROVINCIAL,
        department=department,
        issued_on=dt.date(2026, 1, 5),
        effective_from=dt.date(2026, 1, 5),
        status="published",
    )
    base: dict[str, Any] = {
        "code": f"TX-{next(_seq)}",
        "title": "首贷贴息",
        "kind": MeasureKind.INTEREST_SUBSIDY,
        "ratio": Decimal("0.5"),
        "status": MeasureStatus.PUBLISHED,
    }
    base.update(terms)
    return Measure.objects.create(document=doc, **base)


def eligible(measure: Measure, entity: Any) -> None:
    PolicyMatch.objects.create(
        measure=measure,
        entity=entity,
        measure_version=measure.version,
        eligible=True,
        matched_at=dt.datetime(2026, 1, 6, tzinfo=dt.UTC),
    )


def first_loan(enterprise_user: Any, bank: dict[str, Any], operator: Any, **product: Any) -> Loan:
    """Apply, approve, sign and disburse one loan the real way; return it."""
    entity = enterprise_user.organisation.market_entity
    prod = published_product(bank["loan_officer"], operator, code=f"PRD-{next(_seq)}", **product)
    app = application_services.application_submit(
        actor=enterprise_user,
        entity=entity,
        product=prod,
        data={"amount": "500000", "term_months": 12, "repayment_method": "equal_instalment"},
    )
    officer = bank["loan_officer"]
    app = application_services.application_accept(application=app, actor=officer)
    app = application_services.application_review_start(application=app, actor=officer)
    app = application_services.application_approve(
        application=app,
        actor=bank["reviewer"],
        amount=Decimal("400000"),
        rate=Decimal("4.35"),
        term_months=12,
    )
    app = application_services.application_sign(
        application=app, actor=officer, contract_no=f"HT-{app.pk}"
    )
    start = dt.date(2026, 1, 10)
    app.contract_signed_on = start
    app.save(update_fields=["contract_signed_on"])
    return loan_services.application_disburse(
        application=app, actor=officer, amount=Decimal("120000"), disbursed_on=start
    )


def loan_like(
    template: Loan,
    *,
    entity: Any = None,
    institution: Any = None,
    disbursed_on: dt.date = dt.date(2026, 1, 10),
    principal: Decimal = Decimal("100000"),
    first: bool = False,
    product_version: Any = None,
) -> Loan:
    """Another loan shaped like ``template`` (its own application row), written directly."""
    n = next(_seq)
    app = LoanApplication.objects.get(pk=template.application_id)
    app.pk = None
    app.id = None
    app._state.adding = True
    app.number = f"SQ-T{n:06d}"
    if entity is not None:
        app.entity = entity
    if institution is not None:
        app.institution = institution
    if product_version is not None:
        app.product_version = product_version
        app.product = product_version.product
    app.save()
    return Loan.objects.create(
        application=app,
        entity=app.entity,
        institution=app.institution,
        number=f"DK-T{n:06d}",
        principal=principal,
        annual_rate=Decimal("4.35"),
        term_months=12,
        repayment_method=template.repayment_method,
        disbursed_on=disbursed_on,
        maturity_on=disbursed_on + dt.timedelta(days=365),
        outstanding=principal,
        first_loan=first,
    )


def paid(loan: Loan, on: dt.date, interest: str, principal: str = "0") -> None:
    i, p = Decimal(interest), Decimal(principal)
    Repayment.objects.create(loan=loan, paid_on=on, amount=i + p, principal=p, interest=i)
