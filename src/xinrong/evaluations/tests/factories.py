"""Test builders of 融资评价: a bank with a published product, enterprises with users, loans."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from itertools import count
from typing import Any

from django.utils import timezone

from xinrong.enterprises.tests.factories import MarketEntityFactory
from xinrong.marketplace.choices import ProductStatus, VersionStatus
from xinrong.marketplace.models import Loan, LoanApplication, Product, ProductVersion
from xinrong.marketplace.services.products import _apply_terms
from xinrong.marketplace.tests.factories import product_terms

SEQ = count(1)


@dataclass
class Lender:
    org: Any
    officer: Any
    product: Any


@dataclass
class Borrower:
    entity: Any
    user: Any


def lender(make_user: Any, *, name: str = "") -> Lender:
    n = next(SEQ)
    officer = make_user("bank", ["loan_officer"])
    if name:
        officer.organisation.name = name
        officer.organisation.save(update_fields=["name"])
    now = timezone.now()
    product = Product.objects.create(
        institution=officer.organisation,
        code=f"EV-P{n}",
        name=f"评价信用贷{n}",
        status=ProductStatus.PUBLISHED,
        published_at=now,
    )
    version = ProductVersion(
        product=product,
        number=1,
        status=VersionStatus.PUBLISHED,
        created_by=officer,
        submitted_at=now,
        published_at=now,
    )
    _apply_terms(version, product_terms())
    version.save()
    product.current_version = version
    product.save(update_fields=["current_version", "updated_at"])
    return Lender(officer.organisation, officer, product)


def borrower(make_user: Any, *, division_code: str = "630102") -> Borrower:
    user = make_user("enterprise", ["enterprise_owner"])
    entity = MarketEntityFactory(division_code=division_code, organisation=user.organisation)
    return Borrower(entity, user)


def loan(
    lend: Lender,
    borrow: Borrower,
    *,
    status: str = "current",
    disbursed_days_ago: int = 30,
    principal: str = "500000.00",
) -> Loan:
    n = next(SEQ)
    today = timezone.localdate()
    app = LoanApplication.objects.create(
        number=f"LA-EV-{n}",
        entity=borrow.entity,
        product=lend.product,
        product_version=lend.product.current_version,
        institution=lend.org,
        amount=Decimal(principal),
        term_months=12,
        repayment_method="equal_instalment",
        submitted_by=borrow.user,
        submitted_at=timezone.now(),
        status="disbursed",
    )
    disbursed = today - dt.timedelta(days=disbursed_days_ago)
    settled = status == "settled"
    return Loan.objects.create(
        application=app,
        entity=borrow.entity,
        institution=lend.org,
        number=f"LN-EV-{n}",
        principal=Decimal(principal),
        annual_rate=Decimal("4.35"),
        term_months=12,
        repayment_method="equal_instalment",
        disbursed_on=disbursed,
        maturity_on=disbursed + dt.timedelta(days=365),
        outstanding=Decimal("0.00") if settled else Decimal(principal),
        status=status,
        settled_on=today - dt.timedelta(days=1) if settled else None,
    )


ENTERPRISE_ITEMS = ("speed", "interest", "innovation", "service")
