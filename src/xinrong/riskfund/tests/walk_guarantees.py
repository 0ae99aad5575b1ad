"""The 代偿 workflow (``riskfund.payout``) for the walk test (``web/tests/test_workflow_walk.py``).

``payout_walk()`` returns ``(make, people, kwargs_for)``: ``make(status)`` records a 代偿 on a
defaulted guaranteed loan through the services (and reverses it for 已冲销); ``people`` are the
guarantor's business officer (the only one who may act), its reviewer (reads only), another
guarantor, the lender's officer, the platform's operator admin and the platform itself (None);
``kwargs_for`` gives the reversal its reason. To be merged into ``riskfund/tests/walk.py``'s
``WALKS`` (with "riskfund" in the walk test's ``WALK_MODULES``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db.models import Model
from django.utils import timezone

from xinrong.accounts.models import Organisation, User
from xinrong.accounts.services.organisations import organisation_create
from xinrong.accounts.services.users import user_create
from xinrong.marketplace.choices import GuaranteeRequestStatus
from xinrong.marketplace.models import GuaranteeRequest
from xinrong.marketplace.services import guarantees as guarantee_services
from xinrong.marketplace.tests.factories import published_product
from xinrong.riskfund.choices import PayoutStatus
from xinrong.riskfund.services import guarantees as services
from xinrong.riskfund.tests.factories import fund_world, platform_loan

Walk = tuple[Callable[[str], Model], dict[str, User | None], Callable[[Any], dict[str, Any]]]
PASSWORD = "Walk-pass-2026"
_n = itertools.count(1)


def _make_user(kind: str, roles: list[str], *, org: Organisation | None = None, **kw: Any) -> User:
    n = next(_n)
    if org is None:
        org = organisation_create(name=f"走查代偿机构{n}-{kind}", kind=kind)
    return user_create(
        username=f"gwalk{n}_{kind}",
        password=PASSWORD,
        organisation=org,
        roles=roles,
        display_name=kw.pop("display_name", f"走查用户{n}"),
    )


def payout_walk() -> Walk:
    w = fund_world(_make_user)
    guarantor = _make_user("guarantor", ["loan_officer"])
    cover = published_product(
        guarantor,
        w.office,
        code=f"GWALK-{w.fund.pk}",
        product_type="guarantee",
        rate_min="1",
        rate_max="2",
    )

    provider = guarantor.organisation
    assert provider is not None

    def make(status: str) -> Model:
        loan = platform_loan(w.bank, w.officer, w.product, principal="500000.00")
        req = GuaranteeRequest.objects.create(
            application=loan.application,
            product=cover,
            provider=provider,
            amount=Decimal("300000.00"),
            status=GuaranteeRequestStatus.PENDING,
        )
        guarantee_services.guarantee_approve(
            request=req, actor=guarantor, fee_rate="1", fee_amount=""
        )
        req = guarantee_services.guarantee_issue(
            request=req, actor=guarantor, letter_no=f"GW-{req.pk}"
        )
        payout = services.payout_record(
            actor=guarantor, guarantee=req, amount="300000", paid_on=timezone.localdate()
        )
        if status == PayoutStatus.REVERSED:
            payout = services.payout_reverse(actor=guarantor, payout=payout, note="走查：登记错误")
        return payout

    people: dict[str, User | None] = {
        "guarantor_officer": guarantor,
        "guarantor_reviewer": _make_user("guarantor", ["reviewer"], org=guarantor.organisation),
        "other_guarantor": _make_user("guarantor", ["loan_officer"]),
        "lender_officer": w.officer,
        "operator_admin": w.office,
        "platform": None,
    }

    def kwargs_for(action: Any) -> dict[str, Any]:
        return {"note": "走查"}

    return make, people, kwargs_for


WALKS: dict[str, Callable[[], Walk]] = {"riskfund.payout": payout_walk}
