"""The risk fund's workflows for the walk test (``web/tests/test_workflow_walk.py``).

A claim is taken through its BPMN approval case by the services, so its open steps and the people
who completed them are those of a real claim in that status. The people who matter: the fund's
office (operator admin), finance (the fund's manager) and a second finance person, a manager of
another finance department, the lending bank's loan officer and reviewer, another bank, the
Golmud sub-station (outside the provincial fund's region), the auditor, an enterprise and the
platform itself (``None``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from django.db.models import Model
from django.utils import timezone

from xinrong.accounts.models import Organisation, User
from xinrong.accounts.services.organisations import organisation_create
from xinrong.accounts.services.users import user_create
from xinrong.riskfund.choices import ClaimStatus, RecoveryStatus
from xinrong.riskfund.models import Claim, Recovery
from xinrong.riskfund.tests.walk_guarantees import WALKS as GUARANTEE_WALKS

Walk = tuple[Callable[[str], Model], dict[str, User | None], Callable[[Any], dict[str, Any]]]

PASSWORD = "Walk-pass-2026"
_n = itertools.count(1)
S = ClaimStatus
R = RecoveryStatus


def _make_user(
    kind: str,
    roles: list[str],
    *,
    region_code: str = "",
    org: Organisation | None = None,
    **kw: Any,
) -> User:
    n = next(_n)
    if org is None:
        org = organisation_create(
            name=f"补偿走查机构{n}-{kind}", kind=kind, region_code=region_code
        )
    return user_create(
        username=f"rfwalk{n}_{kind}",
        password=PASSWORD,
        organisation=org,
        roles=roles,
        display_name=kw.pop("display_name", f"补偿走查用户{n}"),
        **kw,
    )


def _world() -> tuple[Any, dict[str, User | None]]:
    from xinrong.riskfund.tests.factories import fund_world

    w = fund_world(_make_user, balance="50000000.00")
    reviewer = _make_user("bank", ["reviewer"], org=w.bank)
    people: dict[str, User | None] = {
        "office": w.office,
        "finance": w.finance,
        "finance2": w.finance2,
        "other_finance": _make_user("government", ["fund_approver"]),
        "officer": w.officer,
        "bank_reviewer": reviewer,
        "other_bank": _make_user("bank", ["loan_officer"]),
        "golmud": _make_user("substation", ["operator_admin"], region_code="632801"),
        "auditor": _make_user("operator", ["auditor"]),
        "enterprise": _make_user("enterprise", ["enterprise_owner"]),
        "platform": None,
    }
    return w, people


def _note(action: Any) -> dict[str, Any]:
    return {"note": "走查"}


def _claim(w: Any, status: str) -> Claim:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from xinrong.riskfund.services import claims as services
    from xinrong.riskfund.tests.factories import platform_loan

    loan = platform_loan(w.bank, w.officer, w.product, principal="1000000.00")
    evidence = SimpleUploadedFile("判决书.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")
    claim = services.claim_file(
        actor=w.officer, loan=loan, loss_principal="1000000.00", evidence=[evidence]
    )
    if status == S.WITHDRAWN:
        services.claim_withdraw(claim=claim, actor=w.officer, note="走查")
    elif status == S.REJECTED:
        services.claim_decide(claim=claim, actor=w.office, approved=False, note="走查")
    elif status in (S.IN_REVIEW, S.PAID):
        services.claim_decide(claim=claim, actor=w.office, approved=True)
        if status == S.PAID:
            services.claim_decide(claim=claim, actor=w.finance, approved=True)
    claim.refresh_from_db()
    return claim


def claim_walk() -> Walk:
    """A claim in any status, through the services and its BPMN case."""
    w, people = _world()

    def make(status: str) -> Claim:
        return _claim(w, status)

    return make, people, _note


def recovery_walk() -> Walk:
    """A recovery reported on a paid claim, then confirmed or returned by the office."""
    from xinrong.riskfund.services import claims as services

    w, people = _world()

    def make(status: str) -> Recovery:
        claim = _claim(w, S.PAID)
        recovery = services.recovery_report(
            actor=w.officer, claim=claim, amount="1000.00", recovered_on=timezone.localdate()
        )
        if status == R.CONFIRMED:
            services.recovery_confirm(actor=w.office, recovery=recovery)
        elif status == R.RETURNED:
            services.recovery_return(actor=w.office, recovery=recovery, note="走查")
        recovery.refresh_from_db()
        return recovery

    return make, people, _note


WALKS = {
    "riskfund.claim": claim_walk,
    "riskfund.recovery": recovery_walk,
    **GUARANTEE_WALKS,  # riskfund.payout (tests/walk_guarantees.py)
}
