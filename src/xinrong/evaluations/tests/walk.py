"""How to walk the evaluations workflow (see ``web/tests/test_workflow_walk.py``).

An appeal is made through the services: an enterprise rates its bank on a disbursed loan, the
bank appeals the rating to the operator, and the operator decides it (for the decided statuses).
The people who matter: the operator admin, a sub-station outside the enterprise's region, the
auditor, the appealing bank's officer, the rating enterprise, another bank and the platform.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Model

from conftest import PASSWORD
from xinrong.accounts.services.organisations import organisation_create
from xinrong.accounts.services.users import user_create
from xinrong.evaluations.choices import AppealStatus
from xinrong.evaluations.services.ratings import appeal_decide, appeal_submit, rating_submit
from xinrong.evaluations.tests.factories import borrower, lender, loan

Walk = tuple[Callable[[str], Model], dict[str, Any], Callable[[Any], dict[str, Any]]]


def appeal_walk() -> Walk:
    counter = {"n": 0}

    def make_user(kind: str, roles: list[str], *, region_code: str = "", org: Any = None) -> Any:
        counter["n"] += 1
        n = counter["n"]
        if org is None:
            org = organisation_create(
                name=f"评价走查机构{n}-{kind}", kind=kind, region_code=region_code
            )
        return user_create(
            username=f"evwalk{n}_{kind}",
            password=PASSWORD,
            organisation=org,
            roles=roles,
            display_name=f"评价走查用户{n}",
        )

    bank = lender(make_user)
    firm = borrower(make_user)  # in 城东区 (630102): outside 格尔木
    operator = make_user("operator", ["operator_admin"])
    people: dict[str, Any] = {
        "operator admin": operator,
        "sub-station outside the region": make_user(
            "substation", ["operator_admin"], region_code="632801"
        ),
        "auditor": make_user("operator", ["auditor"]),
        "the appealing bank": bank.officer,
        "another bank": make_user("bank", ["loan_officer"]),
        "the rating enterprise": firm.user,
        "system": None,
    }
    scores = {"speed": 1, "interest": 1, "innovation": 1, "service": 1}

    def make(status: str) -> Model:
        rating = rating_submit(
            actor=firm.user, loan=loan(bank, firm), stage="disbursed", scores=scores
        )
        appeal = appeal_submit(actor=bank.officer, rating=rating, reason="走查：评价与事实不符")
        if status == AppealStatus.UPHELD:
            appeal_decide(actor=operator, appeal=appeal, action="uphold", note="走查")
        elif status == AppealStatus.REJECTED:
            appeal_decide(actor=operator, appeal=appeal, action="reject", note="走查")
        appeal.refresh_from_db()
        return appeal

    def kwargs(action: Any) -> dict[str, Any]:
        return {"note": "走查"}

    return make, people, kwargs


WALKS: dict[str, Callable[[], Walk]] = {"evaluations.rating_appeal": appeal_walk}
