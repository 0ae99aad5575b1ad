"""The policy module's workflows for the walk test (``web/tests/test_workflow_walk.py``).

For each workflow, a function run inside a test database returns ``(make, people, kwargs_for)``:
``make(status)`` builds an object of the workflow in that status (a special-fund application is
taken through its BPMN approval case by the services, so the case's open steps and the people
who completed them are those of a real application in that status), ``people`` the kinds of
actor that matter — the measure's own department (its policy publisher and fund approver),
finance (the fund approver of a 财政 department), another department, the enterprise and
another one, a lender for 贴息 batches, the operator's admin, a sub-station outside the region,
the auditor and ``None`` for the platform itself — and ``kwargs_for(action)`` the arguments
every attempt passes (a note, which withdrawals, exclusions and refusals require).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db.models import Model
from django.utils import timezone

from xinrong.accounts.models import Organisation, User
from xinrong.accounts.services.organisations import organisation_create
from xinrong.accounts.services.users import user_create
from xinrong.enterprises.services import enterprise_register
from xinrong.enterprises.tests.factories import valid_id_number, valid_uscc
from xinrong.policies.choices import (
    AutoListStatus,
    Delivery,
    DocumentStatus,
    FundApplicationStatus,
    MeasureKind,
    MeasureStatus,
    PolicyLevel,
)
from xinrong.policies.models import (
    AutoGrantList,
    FundApplication,
    Measure,
    PolicyDocument,
    SubsidyBatch,
)
from xinrong.policies.services.funds import fund_decide, fund_disburse, fund_withdraw
from xinrong.policies.workflows.funds import PROCESS_KEY
from xinrong.workflows import engine

Walk = tuple[Callable[[str], Model], dict[str, User | None], Callable[[Any], dict[str, Any]]]

PASSWORD = "Walk-pass-2026"
_n = itertools.count(1)
S = FundApplicationStatus


def _user(kind: str, roles: list[str], *, name: str = "", org: Organisation | None = None) -> User:
    n = next(_n)
    if org is None:
        org = organisation_create(
            name=name or f"走查机构{n}-{kind}",
            kind=kind,
            region_code="632801" if kind == "substation" else "",
        )
    return user_create(
        username=f"pwalk{n}_{kind}",
        password=PASSWORD,
        organisation=org,
        roles=roles,
        display_name=f"走查用户{n}",
    )


def _enterprise() -> User:
    """An enterprise owner registered through the self-registration service."""
    n = next(_n)
    return enterprise_register(
        uscc=valid_uscc(seed=8800 + n),
        name=f"走查政策企业{n}有限公司",
        legal_rep_name="马明",
        legal_rep_id_number=valid_id_number(seed=8800 + n),
        username=f"pwalk_ent{n}",
        password=PASSWORD,
        industry_code="C13",
        division_code="630102",
    )


def _people() -> dict[str, User | None]:
    """The kinds of actor every policy workflow is walked with (the department's come first)."""
    publisher = _user("government", ["policy_publisher"], name=f"走查工业和信息化厅{next(_n)}")
    return {
        "department_publisher": publisher,
        "department_fund_approver": _user(
            "government", ["fund_approver"], org=publisher.organisation
        ),
        "finance": _user("government", ["fund_approver"], name=f"走查财政厅{next(_n)}"),
        "other_department_publisher": _user(
            "government", ["policy_publisher"], name=f"走查商务厅{next(_n)}"
        ),
        "other_department_fund_approver": _user(
            "government", ["fund_approver"], name=f"走查科技厅{next(_n)}"
        ),
        "data_provider": _user("government", ["data_provider"]),
        "enterprise_owner": _enterprise(),
        "other_enterprise": _enterprise(),
        "lender": _user("bank", ["institution_admin", "reviewer", "loan_officer"]),
        "operator_admin": _user("operator", ["operator_admin"]),
        "substation_admin": _user("substation", ["operator_admin"]),
        "auditor": _user("operator", ["auditor"]),
        "platform": None,
    }


def _department(people: dict[str, User | None]) -> Organisation:
    publisher = people["department_publisher"]
    assert publisher is not None and publisher.organisation is not None
    return publisher.organisation


def _document(department: Organisation, status: str = DocumentStatus.PUBLISHED) -> PolicyDocument:
    n = next(_n)
    today = timezone.localdate()
    return PolicyDocument.objects.create(
        title=f"走查：关于支持中小企业发展的若干措施{n}",
        doc_number=f"青走查〔2026〕{n}号",
        level=PolicyLevel.PROVINCIAL,
        department=department,
        region_code="630000",
        issued_on=today - dt.timedelta(days=30),
        effective_from=today - dt.timedelta(days=30),
        status=status,
    )


def _measure(
    document: PolicyDocument, status: str = MeasureStatus.PUBLISHED, **terms: Any
) -> Measure:
    today = timezone.localdate()
    base: dict[str, Any] = {
        "code": f"WALK-P-{next(_n)}",
        "title": "走查：专精特新企业奖励",
        "kind": MeasureKind.SUBSIDY,
        "delivery": Delivery.APPLY,
        "cap": Decimal("50000.00"),
        "budget": Decimal("1000000.00"),
        "window_start": today - dt.timedelta(days=10),
        "window_end": today + dt.timedelta(days=30),
        "status": status,
        "published_at": timezone.now() if status == MeasureStatus.PUBLISHED else None,
    }
    base.update(terms)
    return Measure.objects.create(document=document, **base)


def _note(action: Any) -> dict[str, Any]:
    return {"note": "走查"}


def document_walk() -> Walk:
    """Policy documents of the publisher's department."""
    people = _people()
    department = _department(people)

    def make(status: str) -> PolicyDocument:
        return _document(department, status)

    return make, people, _note


def measure_walk() -> Walk:
    """Measures of a published document of the publisher's department (publishing passes its
    guard: the document is public)."""
    people = _people()
    document = _document(_department(people))

    def make(status: str) -> Measure:
        return _measure(document, status)

    return make, people, _note


def fund_walk() -> Walk:
    """Special-fund applications of the owner's enterprise under a measure of the publisher's
    department, each taken through its approval case (受理部门 → 财政) by the services."""
    people = _people()
    publisher, finance = people["department_publisher"], people["finance"]
    owner = people["enterprise_owner"]
    assert publisher is not None and finance is not None and owner is not None
    entity = owner.organisation.market_entity  # type: ignore[union-attr]
    measure = _measure(_document(_department(people)))

    def make(status: str) -> FundApplication:
        n = next(_n)
        submitted = status != S.DRAFT
        app = FundApplication.objects.create(
            reference_no=f"ZXWALK{n:06d}",
            measure=measure,
            measure_version=measure.version,
            entity=entity,
            applicant=owner,
            requested=Decimal("30000.00"),
            purpose="走查：购置检测设备",
            status=S.SUBMITTED if submitted else S.DRAFT,
            submitted_at=timezone.now() if submitted else None,
        )
        if not submitted:
            return app
        engine.process_start(
            PROCESS_KEY, subject=app, data={"requested": app.requested, "amount": app.requested}
        )
        if status == S.WITHDRAWN:
            fund_withdraw(application=app, actor=owner, note="走查：不再申请")
        elif status == S.REJECTED:
            fund_decide(application=app, actor=publisher, approved=False, note="走查：不符合")
        elif status != S.SUBMITTED:
            app = fund_decide(application=app, actor=publisher, approved=True, amount="30000.00")
            if status != S.IN_REVIEW:
                app = fund_decide(application=app, actor=finance, approved=True, amount="30000.00")
            if status == S.DISBURSED:
                fund_disburse(application=app, actor=finance, voucher_no=f"PZ-WALK-{n}")
        app.refresh_from_db()
        return app

    return make, people, _note


def auto_list_walk() -> Walk:
    """免申即享 lists drawn for a measure of the publisher's department."""
    people = _people()
    measure = _measure(_document(_department(people)), delivery=Delivery.AUTOMATIC)

    def make(status: str) -> AutoGrantList:
        confirmed = status == AutoListStatus.CONFIRMED
        return AutoGrantList.objects.create(
            measure=measure,
            measure_version=measure.version,
            status=status,
            drawn_at=timezone.now(),
            confirmed_by=people["department_publisher"] if confirmed else None,
            confirmed_at=timezone.now() if confirmed else None,
        )

    return make, people, _note


def subsidy_batch_walk() -> Walk:
    """贴息 batches of an interest-subsidy measure of the publisher's department; the lender
    answers lines, not batches."""
    people = _people()
    measure = _measure(
        _document(_department(people)),
        kind=MeasureKind.INTEREST_SUBSIDY,
        ratio=Decimal("0.5"),
        cap=None,
    )
    months = itertools.count(1)

    def make(status: str) -> SubsidyBatch:
        month = next(months)
        return SubsidyBatch.objects.create(
            measure=measure,
            period_start=dt.date(2025, month, 1),
            period_end=dt.date(2025, month, 28),
            status=status,
            created_by=people["department_publisher"],
        )

    return make, people, _note


WALKS: dict[str, Callable[[], Walk]] = {
    "policies.document": document_walk,
    "policies.measure": measure_walk,
    "policies.fund": fund_walk,
    "policies.auto_list": auto_list_walk,
    "policies.subsidy_batch": subsidy_batch_walk,
}
