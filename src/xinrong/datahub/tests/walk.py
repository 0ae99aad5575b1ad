"""The data hub's workflows for the kernel's walk (web/tests/test_workflow_walk.py).

Per workflow, a function run inside a test database returns ``(make, people, kwargs_for)``:
``make(status)`` gives an object in that status, ``people`` the actors that matter (the involved
department's data provider, a department not involved, the operator admin, a sub-station outside
the entity's region, the auditor, an institution, an enterprise and the platform as ``None``),
and ``kwargs_for(action)`` the note, data and field changes the services pass for that action.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from django.utils import timezone

from xinrong.accounts.models import Organisation, User
from xinrong.accounts.services.organisations import organisation_create
from xinrong.accounts.services.users import user_create
from xinrong.datahub.choices import ConflictStatus, ResolutionStatus
from xinrong.datahub.models import Conflict, IngestBatch, Source, UnresolvedRow
from xinrong.datahub.services.conflicts import (
    conflict_closing,
    conflict_opening,
    conflict_recurring,
)
from xinrong.datahub.services.sources import source_create
from xinrong.enterprises.models import MarketEntity
from xinrong.enterprises.services import enterprise_register
from xinrong.enterprises.tests.factories import (
    MarketEntityFactory,
    valid_id_number,
    valid_uscc,
)

PASSWORD = "Walk-pass-2026!"
_serial = itertools.count(1)

Walk = tuple[Callable[[str], Any], dict[str, User | None], Callable[[Any], dict[str, Any]]]


def _user(
    kind: str, roles: list[str], *, region_code: str = "", org: Organisation | None = None
) -> User:
    n = next(_serial)
    if org is None:
        org = organisation_create(name=f"走查机构{n}-{kind}", kind=kind, region_code=region_code)
    return user_create(username=f"walk{n}_{kind}", password=PASSWORD, organisation=org, roles=roles)


def _department(code: str) -> tuple[Source, User]:
    provider = _user("government", ["data_provider"])
    assert provider.organisation is not None
    source = source_create(
        code=code, name=f"{code}部门", organisation=provider.organisation, categories=["tax"]
    )
    return source, provider


def _people(involved: User, uninvolved: User) -> dict[str, User | None]:
    n = next(_serial)
    enterprise = enterprise_register(
        uscc=valid_uscc(seed=900_000 + n),
        name=f"走查商贸{n}有限公司",
        legal_rep_name="马明",
        legal_rep_id_number=valid_id_number(seed=900_000 + n),
        username=f"walk{n}_enterprise",
        password=PASSWORD,
        industry_code="F51",
        division_code="630102",
    )
    return {
        "involved department's data provider": involved,
        "uninvolved department's data provider": uninvolved,
        "operator admin": _user("operator", ["operator_admin"]),
        "sub-station outside the region": _user(
            "substation", ["operator_admin"], region_code="632801"
        ),
        "auditor": _user("operator", ["auditor"]),
        "institution": _user("bank", ["loan_officer"]),
        "enterprise": enterprise,
        "platform": None,
    }


def conflict_walk() -> Walk:
    """Conflicts between the registry and source ``tax``; ``hrss`` is not involved."""
    tax, tax_provider = _department("tax")
    _hrss, hrss_provider = _department("hrss")
    entity: MarketEntity = MarketEntityFactory()

    def make(status: str) -> Conflict:
        closed = status != ConflictStatus.OPEN
        return Conflict.objects.create(
            entity=entity,
            rule="legal_rep_mismatch",
            severity="high",
            sources=["registry", "tax"],
            detail={"registry": "马明", "tax": "韩梅"},
            fingerprint=f"walk-{next(_serial)}",
            status=status,
            resolution_note="核实" if closed else "",
            resolved_at=timezone.now() if closed else None,
        )

    def kwargs_for(action: Any) -> dict[str, Any]:
        if action.name == "confirm_error":
            return {
                "note": "税务数据录入有误",
                "data": {"blamed": "tax"},
                "update": conflict_closing(
                    actor=None, note="税务数据录入有误", blamed_source=tax, blamed_registry=False
                ),
            }
        if action.name in ("explain", "dismiss"):
            return {
                "note": "核实无误",
                "update": conflict_closing(
                    actor=None, note="核实无误", blamed_source=None, blamed_registry=False
                ),
            }
        if action.name == "reopen":
            return {"note": "企业反映仍不一致", "update": conflict_opening}
        detail = {"registry": "马明", "tax": "韩梅", "period": "2024-07"}
        return {
            "note": "再次出现",
            "data": {"detail": detail},
            "update": conflict_recurring(detail),
        }

    return make, _people(tax_provider, hrss_provider), kwargs_for


def unresolved_row_walk() -> Walk:
    """Rows of source ``tax`` that matched no entity; one registered entity to associate."""
    tax, tax_provider = _department("tax")
    _hrss, hrss_provider = _department("hrss")
    entity: MarketEntity = MarketEntityFactory()
    batch = IngestBatch.objects.create(
        source=tax,
        category="tax",
        channel="upload",
        filename="walk.csv",
        content_hash=f"walk-{next(_serial)}",
        status="completed",
    )

    def make(status: str) -> UnresolvedRow:
        return UnresolvedRow.objects.create(
            batch=batch,
            row_number=next(_serial),
            name="简称公司",
            values={"name": "简称公司", "period": "2024-06", "tax_paid": "1.00"},
            status=status,
            resolved_entity=entity if status == ResolutionStatus.RESOLVED else None,
        )

    def kwargs_for(action: Any) -> dict[str, Any]:
        return {"data": {"uscc": entity.uscc}} if action.name == "associate" else {}

    return make, _people(tax_provider, hrss_provider), kwargs_for


WALKS: dict[str, Callable[[], Walk]] = {
    "datahub.conflict": conflict_walk,
    "datahub.unresolved_row": unresolved_row_walk,
}
