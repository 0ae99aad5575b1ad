"""Plain-dict views of products, demands and applications for the API and templates."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from xinrong.marketplace.models import (
    ApplicationEvent,
    Demand,
    Loan,
    LoanApplication,
    Product,
    ProductVersion,
)
from xinrong.marketplace.workflows import APPLICATION, LENDER_ACTIONS


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


# ---------------------------------------------------------------- bank integration API


def bank_loan_out(loan: Loan) -> dict[str, Any]:
    """Return a loan for the bank API (BankLoanOut)."""
    return {
        "number": loan.number,
        "bank_loan_no": loan.bank_loan_no,
        "principal": loan.principal,
        "annual_rate": loan.annual_rate,
        "term_months": loan.term_months,
        "repayment_method": loan.repayment_method,
        "disbursed_on": loan.disbursed_on,
        "maturity_on": loan.maturity_on,
        "outstanding": loan.outstanding,
        "overdue_days": loan.overdue_days,
        "max_overdue_days": loan.max_overdue_days,
        "status": loan.status,
        "status_label": str(loan.get_status_display()),
        "settled_on": loan.settled_on,
        "defaulted_on": loan.defaulted_on,
    }


def bank_application_out(
    app: LoanApplication,
    *,
    loan: Loan | None,
    events: Iterable[ApplicationEvent],
    archive: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Return an application with its loan, timeline and (on pulls) archive (BankApplicationOut)."""
    return {
        "number": app.number,
        "status": app.status,
        "status_label": str(app.get_status_display()),
        "next_actions": [
            a.name for a in APPLICATION.actions_from(app.status) if a.name in LENDER_ACTIONS
        ],
        "product": {
            "code": app.product.code,
            "name": app.product.name,
            "version": app.product_version.number,
        },
        "entity": {"uscc": app.entity.uscc, "name": app.entity.name},
        "amount": app.amount,
        "term_months": app.term_months,
        "repayment_method": app.repayment_method,
        "purpose": app.purpose,
        "submitted_at": app.submitted_at,
        "updated_at": app.updated_at,
        "accepted_at": app.accepted_at,
        "decided_at": app.decided_at,
        "closed_at": app.closed_at,
        "approved_amount": app.approved_amount,
        "approved_rate": app.approved_rate,
        "approved_term_months": app.approved_term_months,
        "reject_reason": app.reject_reason,
        "reject_note": app.reject_note,
        "contract_no": app.contract_no,
        "contract_signed_on": app.contract_signed_on,
        "loan": bank_loan_out(loan) if loan is not None else None,
        "timeline": [
            {
                "kind": e.kind,
                "kind_label": str(e.get_kind_display()),
                "from_status": e.from_status,
                "to_status": e.to_status,
                "at": e.created_at,
                "via_api": e.via_api,
                "organisation": e.organisation.name if e.organisation is not None else None,
                "note": e.note,
                "data": e.data,
            }
            for e in events
        ],
        "archive": archive,
    }
