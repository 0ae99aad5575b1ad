"""The marketplace's workflows for the walk test (``web/tests/test_workflow_walk.py``).

For each workflow, a function run inside a test database returns ``(make, people, kwargs_for)``:
``make(status)`` builds an object of the workflow in that status (through the services where that
is cheap, then put into the status directly), ``people`` are the kinds of actor that matter — the
object's own enterprise and institution, another enterprise and institution, the operator's admin
and auditor, a department, and ``None`` for the platform itself — and ``kwargs_for(action)`` the
arguments every attempt passes (a note, which some actions require).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from typing import Any

from django.db.models import Model
from django.utils import timezone

from xinrong.accounts.models import User
from xinrong.accounts.services.organisations import organisation_create
from xinrong.accounts.services.users import user_create
from xinrong.enterprises.models import MarketEntity
from xinrong.enterprises.services import enterprise_register
from xinrong.enterprises.tests.factories import valid_id_number, valid_uscc
from xinrong.marketplace.models import (
    Demand,
    GuaranteeRequest,
    LoanApplication,
    Product,
    ReserveCandidate,
)
from xinrong.marketplace.services import applications as application_services
from xinrong.marketplace.services import demands as demand_services
from xinrong.marketplace.services import guarantees as guarantee_services
from xinrong.marketplace.tests.factories import demand_in, published_product

Walk = tuple[Callable[[str], Model], dict[str, User | None], Callable[[Any], dict[str, Any]]]

PASSWORD = "Walk-pass-2026"
_n = itertools.count(1)


def _user(kind: str, roles: list[str], *, org: Any = None, region_code: str = "") -> User:
    n = next(_n)
    if org is None:
        org = organisation_create(name=f"走查机构{n}-{kind}", kind=kind, region_code=region_code)
    return user_create(
        username=f"walk{n}_{kind}",
        password=PASSWORD,
        organisation=org,
        roles=roles,
        display_name=f"走查用户{n}",
    )


def _enterprise() -> User:
    """An enterprise owner registered through the self-registration service."""
    n = next(_n)
    return enterprise_register(
        uscc=valid_uscc(seed=7000 + n),
        name=f"走查企业{n}有限公司",
        legal_rep_name="马明",
        legal_rep_id_number=valid_id_number(seed=7000 + n),
        username=f"walk_ent{n}",
        password=PASSWORD,
        industry_code="F51",
        division_code="630102",
    )


def _note(action: Any) -> dict[str, Any]:
    return {"note": "走查"}


def _people() -> dict[str, User | None]:
    """The kinds of actor every marketplace workflow is walked with."""
    owner = _enterprise()
    officer = _user("bank", ["loan_officer"])
    bank = officer.organisation
    return {
        "enterprise_owner": owner,
        "enterprise_agent": _user("enterprise", ["enterprise_agent"], org=owner.organisation),
        "other_enterprise": _enterprise(),
        "loan_officer": officer,
        "reviewer": _user("bank", ["reviewer"], org=bank),
        "institution_admin": _user("bank", ["institution_admin"], org=bank),
        "other_bank_officer": _user("bank", ["loan_officer", "reviewer", "institution_admin"]),
        "investor": _user("investor", ["institution_admin", "loan_officer"]),
        "operator_admin": _user("operator", ["operator_admin"]),
        "auditor": _user("operator", ["auditor"]),
        "substation_admin": _user("substation", ["operator_admin"], region_code="632801"),
        "department": _user("government", ["data_provider"]),
        "system": None,
    }


def _entity(people: dict[str, User | None]) -> MarketEntity:
    owner = people["enterprise_owner"]
    assert owner is not None and owner.organisation is not None
    return MarketEntity.objects.get(organisation=owner.organisation)


def product_walk() -> Walk:
    """Products of the officer's bank; the operator reviews them."""
    people = _people()
    officer = people["loan_officer"]

    def make(status: str) -> Product:
        product = published_product(officer, people["operator_admin"], code=f"WALK-{next(_n)}")
        Product.objects.filter(pk=product.pk).update(status=status)
        product.refresh_from_db()
        return product

    return make, people, _note


def demand_walk() -> Walk:
    """A demand of the owner's enterprise, held (while open) by the officer's bank."""
    people = _people()
    entity = _entity(people)
    bank = people["loan_officer"].organisation  # type: ignore[union-attr]

    def make(status: str) -> Demand:
        demand = demand_services.demand_publish(
            actor=people["enterprise_owner"],  # type: ignore[arg-type]
            entity=entity,
            data=demand_in(),
        )
        held = status == "open"
        Demand.objects.filter(pk=demand.pk).update(
            status=status,
            held_by=bank if held else None,
            held_until=timezone.now() + dt.timedelta(hours=24) if held else None,
        )
        demand.refresh_from_db()
        return demand

    return make, people, _note


def application_walk() -> Walk:
    """An application of the owner's enterprise to a product of the officer's bank."""
    people = _people()
    entity = _entity(people)
    officer, operator = people["loan_officer"], people["operator_admin"]

    def make(status: str) -> LoanApplication:
        product = published_product(officer, operator, code=f"WALK-{next(_n)}")
        app = application_services.application_submit(
            actor=people["enterprise_owner"],  # type: ignore[arg-type]
            entity=entity,
            product=product,
            data={"amount": "500000", "term_months": 12},
        )
        LoanApplication.objects.filter(pk=app.pk).update(status=status)
        app.refresh_from_db()
        return app

    return make, people, _note


def reserve_walk() -> Walk:
    """The owner's enterprise in the capital-market reserve."""
    people = _people()
    entity = _entity(people)

    def make(status: str) -> ReserveCandidate:
        ReserveCandidate.objects.filter(entity=entity).delete()
        return ReserveCandidate.objects.create(
            entity=entity, status=status, added_by=people["operator_admin"]
        )

    return make, people, _note


def _guarantee_kwargs(action: Any) -> dict[str, Any]:
    return {
        "note": "走查",
        "data": {"fee_rate": "1.2", "fee_amount": "6000.00", "letter_no": "BH-WALK-1"},
    }


def guarantee_request_walk() -> Walk:
    """A request of the owner's enterprise, on its application to the officer's bank, addressed
    to a guarantor; another guarantor and an insurer are outsiders."""
    people = _people()
    guarantor = _user("guarantor", ["loan_officer"])
    people.update(
        {
            "guarantor": guarantor,
            "guarantor_reviewer": _user("guarantor", ["reviewer"], org=guarantor.organisation),
            "other_guarantor": _user("guarantor", ["loan_officer", "institution_admin"]),
            "insurer": _user("insurer", ["loan_officer"]),
        }
    )
    entity = _entity(people)
    officer, operator = people["loan_officer"], people["operator_admin"]
    cover = published_product(
        guarantor,
        operator,
        code=f"WALK-G-{next(_n)}",
        product_type="guarantee",
        rate_min="0.5",
        rate_max="1.5",
        collateral_modes=["guarantee_company"],
    )

    def make(status: str) -> GuaranteeRequest:
        loan_product = published_product(officer, operator, code=f"WALK-{next(_n)}")
        app = application_services.application_submit(
            actor=people["enterprise_owner"],  # type: ignore[arg-type]
            entity=entity,
            product=loan_product,
            data={"amount": "500000", "term_months": 12},
        )
        request = guarantee_services.guarantee_request_file(
            actor=people["enterprise_owner"],  # type: ignore[arg-type]
            application=app,
            product=cover,
        )
        GuaranteeRequest.objects.filter(pk=request.pk).update(status=status)
        request.refresh_from_db()
        return request

    return make, people, _guarantee_kwargs


WALKS: dict[str, Callable[[], Walk]] = {
    "marketplace.guarantee_request": guarantee_request_walk,
    "marketplace.product": product_walk,
    "marketplace.demand": demand_walk,
    "marketplace.application": application_walk,
    "marketplace.reserve": reserve_walk,
}
