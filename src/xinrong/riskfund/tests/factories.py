"""Test builders of the risk fund: a funded fund with Qinghai's rules, defaulted platform loans.

Use with the root conftest's ``make_user`` fixture::

    w = fund_world(make_user)                      # fund (balance ¥10 m), rules v1, users
    loan = platform_loan(w.bank, w.officer, principal="1000000.00", status="defaulted")
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from itertools import count
from typing import Any

from django.utils import timezone

from xinrong.accounts.models import Organisation
from xinrong.enterprises.tests.factories import MarketEntityFactory
from xinrong.marketplace.choices import ProductStatus, VersionStatus
from xinrong.marketplace.models import Loan, LoanApplication, Product, ProductVersion
from xinrong.marketplace.services.products import _apply_terms
from xinrong.marketplace.tests.factories import product_terms
from xinrong.riskfund.models import Fund, RuleSet
from xinrong.riskfund.services import ledger

SEQ = count(1)


@dataclass
class FundWorld:
    fund: Fund
    rules: RuleSet
    office: Any  # the platform office's operator admin (平台运营方)
    finance: Any  # a fund approver of 财政厅
    finance2: Any  # a second fund approver of the same finance department (复核)
    officer: Any  # the lending bank's loan officer
    bank: Any  # the lending bank (Organisation)
    product: Any  # a published credit product of the bank


def fund_world(
    make_user: Any,
    *,
    balance: Decimal | str = "10000000.00",
    division_code: str = "63",
    rules_from: dt.date = dt.date(2020, 1, 1),
    **rule_overrides: Any,
) -> FundWorld:
    n = next(SEQ)
    # Organisations and the product are written directly: the services' checks (names, regions,
    # the product's review through the workflow) are tested where they live and cost a lot here.
    office_org, finance_org, bank = (
        Organisation.objects.create(name=name, kind=kind)
        for name, kind in (
            (f"平台运营中心{n}", "operator"),
            (f"青海省财政厅{n}", "government"),
            (f"测试银行{n}", "bank"),
        )
    )
    office = make_user("operator", ["operator_admin"], org=office_org)
    finance = make_user(
        "government", ["fund_approver"], org=finance_org, display_name=f"财政审批人{n}"
    )
    finance2 = make_user(
        "government", ["fund_approver"], org=finance_org, display_name=f"财政复核人{n}"
    )
    officer = make_user("bank", ["loan_officer"], org=bank)
    make_user("bank", ["reviewer"], org=bank)  # the bank's reviewer (审贷分离), as before
    make_user("operator", ["operator_admin"], org=office_org)  # a second platform admin
    product = _published_product(officer, code=f"RF-P{n}", name=f"信用贷{n}")
    fund = Fund.objects.create(
        code=f"fund-{n}",
        name=f"青海省小微企业信用贷款风险补偿基金{n}",
        level="province" if len(division_code) <= 2 else "city",
        division_code=division_code,
        manager=finance.organisation,
        office=office.organisation,
        yearly_injection=Decimal("100000000.00"),
        opened_on=dt.date(2020, 1, 1),
    )
    rules = RuleSet.objects.create(
        fund=fund, version=1, effective_from=rules_from, **rule_overrides
    )
    if Decimal(str(balance)) > 0:
        ledger.injection_post(fund=fund, amount=Decimal(str(balance)), actor=finance)
    return FundWorld(fund, rules, office, finance, finance2, officer, officer.organisation, product)


def _published_product(officer: Any, *, code: str, name: str) -> Product:
    """A published credit product of the officer's institution, its version rows written directly
    (what ``marketplace.tests.factories.published_product`` makes through the review workflow)."""
    now = timezone.now()
    product = Product.objects.create(
        institution=officer.organisation,
        code=code,
        name=name,
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
    return product


def platform_loan(
    institution: Any,
    user: Any,
    product: Any,
    *,
    entity: Any = None,
    principal: str | Decimal = "1000000.00",
    outstanding: str | Decimal | None = None,
    disbursed_on: dt.date | None = None,
    status: str = "defaulted",
    first_loan: bool = False,
    overdue_days: int = 120,
    division_code: str = "630102",
    entity_type: str = "enterprise",
    size_class: str = "small",
) -> Loan:
    """A platform loan of ``institution`` to ``entity`` (a small enterprise by default)."""
    n = next(SEQ)
    entity = entity or MarketEntityFactory(
        division_code=division_code, entity_type=entity_type, size_class=size_class
    )
    principal = Decimal(str(principal))
    disbursed_on = disbursed_on or timezone.localdate() - dt.timedelta(days=400)
    app = LoanApplication.objects.create(
        number=f"LA-RF-{n}",
        entity=entity,
        product=product,
        product_version=product.versions.order_by("-id").first(),
        institution=institution,
        amount=principal,
        term_months=12,
        repayment_method="equal_instalment",
        submitted_by=user,
        submitted_at=timezone.now(),
        status="disbursed",
    )
    defaulted = status == "defaulted"
    return Loan.objects.create(
        application=app,
        entity=entity,
        institution=institution,
        number=f"LN-RF-{n}",
        principal=principal,
        annual_rate=Decimal("4.35"),
        term_months=12,
        repayment_method="equal_instalment",
        disbursed_on=disbursed_on,
        maturity_on=disbursed_on + dt.timedelta(days=365),
        first_loan=first_loan,
        outstanding=principal if outstanding is None else Decimal(str(outstanding)),
        overdue_days=overdue_days if status in ("overdue", "defaulted") else 0,
        max_overdue_days=overdue_days if status in ("overdue", "defaulted") else 0,
        status=status,
        defaulted_on=timezone.localdate() - dt.timedelta(days=10) if defaulted else None,
    )
