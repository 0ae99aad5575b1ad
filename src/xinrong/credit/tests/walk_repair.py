"""How the workflow walk (web/tests/test_workflow_walk.py) makes credit objects in any status."""

from __future__ import annotations

import io
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from xinrong.accounts.services.organisations import organisation_create
from xinrong.accounts.services.users import user_create
from xinrong.credit.choices import RepairStatus
from xinrong.credit.models import RepairApplication
from xinrong.datahub.services.ingest import batch_ingest
from xinrong.datahub.services.sources import source_create
from xinrong.enterprises.services import enterprise_register
from xinrong.enterprises.tests.factories import valid_id_number, valid_uscc

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _user(kind: str, roles: list[str], name: str, **org: Any) -> Any:
    organisation = organisation_create(name=f"走查-{name}", kind=kind, **org)
    return user_create(
        username=f"walk_{name}", password="walk-Pass-2024!", organisation=organisation, roles=roles
    )


def repair_walk() -> tuple[Any, dict[str, Any], Any]:
    """A repair application of an enterprise about a penalty the tax department delivered."""
    from xinrong.credit.services import repair as repair_services

    owner = enterprise_register(
        uscc=valid_uscc(seed=77),
        name="走查商贸有限公司",
        legal_rep_name="马明",
        legal_rep_id_number=valid_id_number(seed=77),
        username="walk_owner",
        password="walk-Pass-2024!",
        industry_code="F51",
        division_code="630102",
    )
    assert owner.organisation is not None
    entity = owner.organisation.market_entity
    clerk = _user("government", ["data_provider"], "clerk")
    source = source_create(
        code="walk-tax", name="走查税务", organisation=clerk.organisation, categories=["penalty"]
    )
    people = {
        "enterprise": owner,
        "department": clerk,
        "other_department": _user("government", ["data_provider"], "other"),
        "operator": _user("operator", ["operator_admin"], "operator"),
        "bank": _user("bank", ["loan_officer"], "bank"),
        "platform": None,
    }
    counter = {"n": 0}

    def make(status: str) -> RepairApplication:
        counter["n"] += 1
        text = (
            "统一社会信用代码,决定书文号,严重程度,处罚日期\n"
            f"{entity.uscc},走查罚〔2020〕{counter['n']}号,general,2020-01-{counter['n']:02d}\n"
        )
        batch = batch_ingest(
            source=source,
            category="penalty",
            fileobj=io.BytesIO(text.encode()),
            filename="p.csv",
            channel="cli",
        )
        application = repair_services.repair_apply(
            actor=owner,
            fact=batch.facts.get(),
            statement="已整改",
            evidence=[SimpleUploadedFile("证明.pdf", PDF, content_type="application/pdf")],
        )
        if status != RepairStatus.SUBMITTED:
            RepairApplication.objects.filter(pk=application.pk).update(
                status=status, reason="走查意见"
            )
            application.refresh_from_db()
        return application

    def decided(application: RepairApplication) -> None:
        application.reason = "走查意见"  # what the service writes beside the move

    return make, people, lambda action: {"note": "走查", "update": decided}


WALKS = {"credit.repair": repair_walk}  # merged into walk.WALKS
