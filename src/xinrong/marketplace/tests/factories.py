"""Helpers building products for tests."""

from __future__ import annotations

from typing import Any

from xinrong.marketplace.inputs import DemandIn, ProductTermsIn
from xinrong.marketplace.models import Product
from xinrong.marketplace.services import products as product_services


def terms(**overrides: Any) -> dict[str, Any]:
    """Return valid credit-loan terms, overridden by keyword."""
    base: dict[str, Any] = {
        "product_type": "credit",
        "amount_min": "100000",
        "amount_max": "3000000",
        "term_min_months": 12,
        "term_max_months": 36,
        "rate_min": "3.45",
        "rate_max": "5.80",
        "repayment_methods": ["equal_instalment", "interest_first"],
        "entity_types": [],
        "industries": [],
        "regions": [],
        "min_years_in_business": "0",
        "min_credit_grade": "",
        "tax_grades": [],
        "collateral_modes": ["none"],
        "tags": ["首贷"],
        "supports_relending": True,
        "supports_rediscount": False,
        "days_to_accept": 2,
        "days_to_decide": 5,
        "description": "测试产品",
    }
    base.update(overrides)
    return base


def product_terms(**overrides: Any) -> ProductTermsIn:
    """Return valid credit-loan terms as the services take them, overridden by keyword."""
    return ProductTermsIn.parse(terms(**overrides))


def published_product(officer, operator, *, code: str, name: str = "", **overrides: Any) -> Product:
    """Create, submit and approve a product; return it published."""
    product = product_services.product_create(
        actor=officer, code=code, name=name or f"测试产品{code}", terms=product_terms(**overrides)
    )
    product_services.product_submit(product=product, actor=officer)
    return product_services.product_approve(product=product, actor=operator)


def demand_data(**overrides: Any) -> dict[str, Any]:
    """Return valid demand fields (50 万元, 24 months, 6%, credit only), overridden by keyword."""
    base = {
        "amount": "500000",
        "term_months": 24,
        "purpose_category": "working_capital",
        "purpose": "采购原材料",
        "collateral_modes": ["none"],
        "max_rate": "6",
        "urgency": "urgent",
    }
    base.update(overrides)
    return base


def demand_in(**overrides: Any) -> DemandIn:
    """Return a valid demand as the services take it, overridden by keyword."""
    return DemandIn.parse(demand_data(**overrides))
