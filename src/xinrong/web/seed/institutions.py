"""The work of the demo institutions other than banks (issue 12).

Guarantee and credit-insurance requests on demo loan applications, and the capital-market reserve
the ``investor`` login browses.

So that the ``guarantor`` and ``insurer`` logins find work on first login, and the lender and the
enterprise see the requests on their applications: a few requests in each status, addressed to the
demo guarantor's and insurer's published products, attached to open applications — the demo
bank's (青海银行) and the demo enterprise's first. Written as the demo history is (the rows and
their timeline directly, with the fee computed as the service does); a second run adds nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from xinrong.accounts.models import Organisation, User
from xinrong.common.templatetags.money import amount_text
from xinrong.marketplace.choices import (
    ACTIVE_STATUSES,
    GuaranteeRequestEventKind,
    GuaranteeRequestStatus,
    ProductStatus,
)
from xinrong.marketplace.models import (
    GuaranteeRequest,
    GuaranteeRequestEvent,
    LoanApplication,
    Product,
)
from xinrong.marketplace.transitions import provider_staff
from xinrong.notifications.services import notify_on_commit
from xinrong.web.seed.organisations import DEMO_USERS

G = GuaranteeRequestStatus
# The statuses of the requests each demo provider receives, in order (its queue on first login).
PLAN: dict[str, tuple[str, ...]] = {
    "guarantor": (G.PENDING, G.PENDING, G.PENDING, G.APPROVED, G.ISSUED, G.DECLINED, G.WITHDRAWN),
    "insurer": (G.PENDING, G.PENDING, G.APPROVED, G.ISSUED, G.DECLINED),
}
DECLINE_NOTE = "企业近两年经营现金流偏紧，反担保措施不足，暂不予承保"
WITHDRAW_NOTE = "已改为抵押方式办理"
CENT = Decimal("0.01")


def _fee(amount: Decimal, rate: Decimal, months: int) -> Decimal:
    return (amount * rate / 100 * months / 12).quantize(CENT, ROUND_HALF_UP)


def _candidates(taken: set[int]) -> list[LoanApplication]:
    """Open applications: the demo bank's and the demo enterprise's first, then the others."""
    demo = {d.username: d for d in DEMO_USERS}
    bank_name = demo["loan_officer"].organisation if "loan_officer" in demo else ""
    owner = User.objects.filter(username="ent_owner").first()
    qs = LoanApplication.objects.filter(status__in=ACTIVE_STATUSES).exclude(pk__in=taken)
    first = list(qs.filter(institution__name=bank_name).order_by("submitted_at", "pk")[:6]) + list(
        qs.filter(entity__organisation_id=owner.organisation_id).order_by("submitted_at", "pk")[:3]
        if owner is not None and owner.organisation_id
        else []
    )
    seen = {a.pk for a in first}
    rest = [a for a in qs.order_by("submitted_at", "pk")[:60] if a.pk not in seen]
    return first + rest


def seed_guarantee_requests(seed_value: int) -> int:
    """Add the demo guarantor's and insurer's requests once; return how many were added."""
    rng = random.Random(f"guarantee-requests:{seed_value}")
    demo = {d.username: d for d in DEMO_USERS}
    added = 0
    taken: set[int] = set(GuaranteeRequest.objects.values_list("application_id", flat=True))
    for username, statuses in PLAN.items():
        login = demo.get(username)
        if login is None:
            continue
        provider = Organisation.objects.filter(name=login.organisation).first()
        if provider is None or GuaranteeRequest.objects.filter(provider=provider).exists():
            continue
        products = list(
            Product.objects.filter(institution=provider, status=ProductStatus.PUBLISHED)
            .select_related("current_version")
            .order_by("code")
        )
        if not products:
            continue
        staff = User.objects.filter(username=username).first()
        apps = _candidates(taken)
        with transaction.atomic():
            for i, status in enumerate(statuses):
                if not apps:
                    break
                app = (
                    apps.pop(0)
                    if i % 2 == 0 or len(apps) < 2
                    else apps.pop(rng.randrange(len(apps)))
                )
                taken.add(app.pk)
                product = products[i % len(products)]
                version = product.current_version
                rate = (
                    Decimal(rng.uniform(float(version.rate_min), float(version.rate_max))).quantize(
                        Decimal("0.001")
                    )
                    if version is not None
                    else Decimal("1.000")
                )
                filed_at = timezone.now() - dt.timedelta(days=len(statuses) - i, hours=i)
                request = GuaranteeRequest.objects.create(
                    application=app,
                    product=product,
                    provider=provider,
                    amount=app.amount,
                    note="申请为本笔贷款提供担保/保险（演示数据）",
                    status=status,
                )
                events: list[tuple[str, str, str, str, User | None, str]] = [
                    ("", G.PENDING, GuaranteeRequestEventKind.FILED, "", None, "")
                ]
                decided_at = filed_at + dt.timedelta(hours=20)
                if status in (G.APPROVED, G.ISSUED):
                    fee = _fee(request.amount, rate, app.term_months)
                    request.fee_rate, request.fee_amount = rate, fee
                    request.decided_by, request.decided_at = staff, decided_at
                    events.append(
                        (
                            G.PENDING,
                            G.APPROVED,
                            GuaranteeRequestEventKind.APPROVED,
                            f"费率 {rate}%/年，担保/保险费 {amount_text(fee)}",
                            staff,
                            provider.name,
                        )
                    )
                if status == G.ISSUED:
                    request.letter_no = f"BH{provider.pk:03d}{request.pk:06d}"
                    request.issued_at = decided_at + dt.timedelta(days=1)
                    events.append(
                        (
                            G.APPROVED,
                            G.ISSUED,
                            GuaranteeRequestEventKind.ISSUED,
                            f"保函/保单编号：{request.letter_no}",
                            staff,
                            provider.name,
                        )
                    )
                if status == G.DECLINED:
                    request.decided_by, request.decided_at = staff, decided_at
                    request.decision_note = DECLINE_NOTE
                    events.append(
                        (
                            G.PENDING,
                            G.DECLINED,
                            GuaranteeRequestEventKind.DECLINED,
                            DECLINE_NOTE,
                            staff,
                            provider.name,
                        )
                    )
                if status == G.WITHDRAWN:
                    events.append(
                        (
                            G.PENDING,
                            G.WITHDRAWN,
                            GuaranteeRequestEventKind.WITHDRAWN,
                            WITHDRAW_NOTE,
                            None,
                            "",
                        )
                    )
                request.save()
                GuaranteeRequest.objects.filter(pk=request.pk).update(
                    created_at=filed_at, updated_at=filed_at
                )
                for n, (before, after, kind, note, actor, _org) in enumerate(events):
                    GuaranteeRequestEvent.objects.create(
                        request=request,
                        kind=kind,
                        actor=actor,
                        organisation=provider if actor is not None else None,
                        from_status=before,
                        to_status=after,
                        note=note,
                        created_at=filed_at + dt.timedelta(hours=20 * n),
                    )
                if status == G.PENDING:
                    notify_on_commit(
                        recipients=provider_staff(request),
                        kind="guarantee_request",
                        title=f"新的担保/保险申请：{app.entity.name} 申请“{product.name}” "
                        f"{amount_text(request.amount)}",
                        link=reverse("marketplace:guarantee_detail", args=[request.pk]),
                        organisation_id=provider.pk,
                    )
                added += 1
    return added


RESERVE_SIZE = 8


def seed_reserve() -> int:
    """Put the best-scored active enterprises (and the demo owner's) into the capital-market
    reserve through the operator's own service, once; return how many were added."""
    from xinrong.credit.models import CreditProfile
    from xinrong.enterprises.choices import EntityType
    from xinrong.marketplace.models import ReserveCandidate
    from xinrong.marketplace.services.capital_market import reserve_add

    operator = User.objects.filter(username="operator").first()
    if operator is None or ReserveCandidate.objects.exists():
        return 0
    owner = User.objects.filter(username="ent_owner").select_related("organisation").first()
    best = list(
        CreditProfile.objects.filter(
            entity__entity_type=EntityType.ENTERPRISE, entity__registration_status="active"
        )
        .order_by("-score", "entity_id")
        .values_list("entity_id", flat=True)
        .distinct()[: RESERVE_SIZE * 3]
    )
    ids = list(dict.fromkeys(best))[:RESERVE_SIZE]
    if (
        owner is not None
        and owner.organisation is not None
        and hasattr(owner.organisation, "market_entity")
    ):
        ids = [owner.organisation.market_entity.pk, *ids][:RESERVE_SIZE]
    from xinrong.enterprises.models import MarketEntity

    criteria = {"min_grade": "A", "honour": "", "min_tax_paid_wan": "", "min_years": ""}
    added = 0
    with transaction.atomic():
        for entity in MarketEntity.objects.filter(pk__in=ids).order_by("pk"):
            if entity.registration_status != "active":
                continue
            reserve_add(actor=operator, entity=entity, criteria=criteria, note="演示数据")
            added += 1
    return added
