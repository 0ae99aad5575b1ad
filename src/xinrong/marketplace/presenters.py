"""Plain-dict views of products for the API and templates."""

from __future__ import annotations

from typing import Any

from xinrong.marketplace.models import Demand, Product, ProductVersion


def _version(product: Product) -> ProductVersion:
    version = product.current_version
    assert version is not None, "published products have a live version"
    return version


def product_row(product: Product) -> dict[str, Any]:
    """Return the list fields of a published product."""
    v = _version(product)
    return {
        "code": product.code,
        "name": product.name,
        "institution": product.institution.name,
        "institution_kind": product.institution.kind,
        "version": v.number,
        "product_type": v.product_type,
        "product_type_label": str(v.get_product_type_display()),
        "amount_min": v.amount_min,
        "amount_max": v.amount_max,
        "term_min_months": v.term_min_months,
        "term_max_months": v.term_max_months,
        "rate_min": v.rate_min,
        "rate_max": v.rate_max,
        "tags": list(v.tags),
        "days_to_accept": v.days_to_accept,
        "days_to_decide": v.days_to_decide,
        "published_at": product.published_at,
    }


def product_detail(product: Product) -> dict[str, Any]:
    """Return every live term of a published product."""
    v = _version(product)
    return {
        **product_row(product),
        "repayment_methods": list(v.repayment_methods),
        "entity_types": list(v.entity_types),
        "industries": list(v.industries),
        "regions": list(v.regions),
        "min_years_in_business": v.min_years_in_business,
        "min_credit_grade": v.min_credit_grade,
        "tax_grades": list(v.tax_grades),
        "collateral_modes": list(v.collateral_modes),
        "supports_relending": v.supports_relending,
        "supports_rediscount": v.supports_rediscount,
        "description": v.description,
    }


def demand_out(demand: Demand) -> dict[str, Any]:
    """Return the API shape of a demand."""
    return {
        "id": demand.pk,
        "entity_uscc": demand.entity.uscc,
        "entity_name": demand.entity.name,
        "amount": demand.amount,
        "term_months": demand.term_months,
        "purpose_category": demand.purpose_category,
        "purpose": demand.purpose,
        "collateral_modes": demand.collateral_modes,
        "max_rate": demand.max_rate,
        "urgency": demand.urgency,
        "status": demand.status,
        "created_at": demand.created_at,
    }


def demand_hold_out(demand: Demand) -> dict[str, Any]:
    """Return the API shape of a demand's hold."""
    return {
        "id": demand.pk,
        "status": demand.status,
        "held_by": demand.held_by.name if demand.held_by else None,
        "held_until": demand.held_until,
    }
