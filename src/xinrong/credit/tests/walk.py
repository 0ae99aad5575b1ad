"""How to walk the credit workflows (see ``web/tests/test_workflow_walk.py``).

For each workflow: a function, run inside a test database, returning ``make(status)`` (a new
object in that status), the people who matter ``{label: user}`` (``None`` is the platform) and
``kwargs(action)``, the arguments a real caller passes to ``transition_apply`` (a note, and the
field changes the database's constraints require of a closing action).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any

from django.db.models import Model
from django.utils import timezone

from xinrong.accounts.services.organisations import organisation_create
from xinrong.accounts.services.users import user_create
from xinrong.credit.choices import CultivationStatus, DisputeStatus, ModelStatus
from xinrong.credit.models import CultivationCase, Dispute, ScoreModel
from xinrong.credit.tests.walk_repair import WALKS as REPAIR_WALKS
from xinrong.credit.workflows import model_activated
from xinrong.datahub.services.ingest import batch_ingest
from xinrong.datahub.services.sources import source_create
from xinrong.enterprises.services import enterprise_register
from xinrong.enterprises.tests.factories import valid_id_number, valid_uscc

PASSWORD = "Test-pass-2026"
Walk = tuple[Callable[[str], Model], dict[str, Any], Callable[[Any], dict[str, Any]]]


class _People:
    """Users of every kind of organisation the credit workflows meet."""

    def __init__(self) -> None:
        self.n = 0

    def user(self, kind: str, roles: list[str], *, region_code: str = "", org: Any = None) -> Any:
        self.n += 1
        if org is None:
            org = organisation_create(
                name=f"走查机构{self.n}-{kind}", kind=kind, region_code=region_code
            )
        return user_create(
            username=f"walk{self.n}_{kind}",
            password=PASSWORD,
            organisation=org,
            roles=roles,
            display_name=f"走查用户{self.n}",
        )

    def enterprise(self, seed: int, division_code: str = "630102") -> Any:
        return enterprise_register(
            uscc=valid_uscc(seed=seed),
            name=f"走查企业{seed}有限公司",
            legal_rep_name="马明",
            legal_rep_id_number=valid_id_number(seed=seed),
            username=f"walk_ent{seed}",
            password=PASSWORD,
            industry_code="F51",
            division_code=division_code,
        )

    def common(self) -> dict[str, Any]:
        """The operator side, an institution and the platform itself."""
        return {
            "operator admin": self.user("operator", ["operator_admin"]),
            "sub-station outside the region": self.user(
                "substation", ["operator_admin"], region_code="632801"
            ),
            "auditor": self.user("operator", ["auditor"]),
            "institution": self.user("bank", ["loan_officer"]),
            "system": None,
        }


def _closing(status: str) -> Callable[[Any], None]:
    def update(locked: Any) -> None:
        locked.resolved_at = timezone.now()
        locked.resolution = "走查：处理意见"

    return update


def dispute_walk() -> Walk:
    """Disputes about tax facts of one enterprise, delivered by a tax department."""
    people = _People()
    owner = people.enterprise(seed=71)
    entity = owner.organisation.market_entity
    clerk = people.user("government", ["data_provider"])
    source = source_create(
        code="walk-tax", name="走查税务局", organisation=clerk.organisation, categories=["tax"]
    )
    rows = "\n".join(f"{entity.uscc},2024-{m:02d},1000,0" for m in range(1, 13))
    batch = batch_ingest(
        source=source,
        category="tax",
        fileobj=io.BytesIO(
            f"统一社会信用代码,所属期,实缴税额（元）,欠税金额（元）\n{rows}\n".encode()
        ),
        filename="tax.csv",
        channel="cli",
    )
    facts = iter(list(batch.facts.order_by("id")))
    today = timezone.localdate()

    def make(status: str) -> Model:
        fact = next(facts)  # one open dispute per fact: each object gets its own
        closed = status not in (DisputeStatus.SUBMITTED, DisputeStatus.IN_REVIEW)
        return Dispute.objects.create(
            entity=entity,
            fact=fact,
            source=source,
            category=fact.category,
            kind="objection",
            claim="走查：该记录有误",
            original_values=fact.values(),
            status=status,
            filed_by=owner,
            submitted_at=timezone.now() - dt.timedelta(days=30),
            due_on=today - dt.timedelta(days=10),  # past its deadline: escalation may run
            resolution="走查：处理意见" if closed else "",
            resolved_at=timezone.now() if closed else None,
        )

    users = {
        "the enterprise's owner": owner,
        "another enterprise": people.enterprise(seed=72),
        "the source department's data provider": clerk,
        "another department's data provider": people.user("government", ["data_provider"]),
        **people.common(),
    }

    def kwargs(action: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"note": "走查"}
        if action.target in (
            DisputeStatus.CORRECTED,
            DisputeStatus.UPHELD,
            DisputeStatus.WITHDRAWN,
        ):
            out["update"] = _closing(action.target)
        return out

    return make, users, kwargs


def cultivation_walk() -> Walk:
    """Cultivation cases run by an industry department for one enterprise."""
    people = _People()
    owner = people.enterprise(seed=73)
    entity = owner.organisation.market_entity
    department = people.user("government", ["policy_publisher"])

    def make(status: str) -> Model:
        return CultivationCase.objects.create(
            entity=entity,
            authority=department.organisation,
            status=status,
            plan="走查：培植计划",
            score_at_start=520,
            grade_at_start="B",
            started_by=department,
            ended_at=None if status == CultivationStatus.ACTIVE else timezone.now(),
        )

    users = {
        "the department running the case": department,
        "another department": people.user("government", ["policy_publisher"]),
        "the source department's data provider": people.user("government", ["data_provider"]),
        "the enterprise's owner": owner,
        "another enterprise": people.enterprise(seed=74),
        **people.common(),
    }

    def ended(locked: Any) -> None:
        locked.ended_at = timezone.now()

    def kwargs(action: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"note": "走查"}
        if action.target is not None:
            out["update"] = ended
        return out

    return make, users, kwargs


def model_walk() -> Walk:
    """Scoring model versions: the provincial operator admin activates; the platform may too."""
    from xinrong.credit.tests.test_scoring import _card

    people = _People()
    card = _card().to_json()
    counter = {"v": 0}

    def make(status: str) -> Model:
        counter["v"] += 1
        return ScoreModel.objects.create(
            version=counter["v"],
            name=f"走查模型{counter['v']}",
            card=card,
            status=status,
            activated_at=timezone.now() if status != ModelStatus.DRAFT else None,
        )

    owner = people.enterprise(seed=75)
    users = {"the enterprise's owner": owner, **people.common()}

    def kwargs(action: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"note": "走查"}
        if action.name == "activate":
            out["update"] = model_activated(actor=None, note="走查")
        return out

    return make, users, kwargs


def fraud_walk() -> Walk:
    """Fraud reports by a bank about one enterprise (in 城东区), decided by the operator."""
    from xinrong.credit.services.lists import fraud_confirm, fraud_dismiss, fraud_report_file

    people = _People()
    owner = people.enterprise(seed=76)
    entity = owner.organisation.market_entity
    users = {"the enterprise's owner": owner, **people.common()}
    reporter = users["institution"]
    operator = users["operator admin"]

    def make(status: str) -> Model:
        report = fraud_report_file(
            actor=reporter, uscc=entity.uscc, description="走查：伪造流水骗取贷款，涉及一笔贷款"
        )
        if status == "confirmed":
            fraud_confirm(actor=operator, report=report, note="走查")
        elif status == "dismissed":
            fraud_dismiss(actor=operator, report=report, note="走查")
        report.refresh_from_db()
        return report

    def kwargs(action: Any) -> dict[str, Any]:
        return {"note": "走查"}

    return make, users, kwargs


WALKS: dict[str, Callable[[], Walk]] = {
    "credit.fraud": fraud_walk,
    "credit.dispute": dispute_walk,
    "credit.cultivation": cultivation_walk,
    "credit.model": model_walk,
    **REPAIR_WALKS,
}
