"""Demo financing demands: most open, some closed or withdrawn, a third of the open ones held."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from xinrong.accounts.models import Organisation, User
from xinrong.common.errors import ApplicationError
from xinrong.enterprises.models import MarketEntity
from xinrong.marketplace.choices import (
    LENDER_KINDS,
    DemandEventKind,
    DemandPurpose,
    DemandStatus,
    DemandUrgency,
    ProductStatus,
    ProductType,
)
from xinrong.marketplace.demo.base import DEMAND_SHARE, DEMO_BORROWERS, TEXTS, backdate
from xinrong.marketplace.models import Demand, DemandEvent, LoanApplication, Product
from xinrong.marketplace.selectors.demands import lenders_covering
from xinrong.marketplace.selectors.products import eligibility_for
from xinrong.marketplace.services import applications as application_services
from xinrong.marketplace.services.demands import demand_hold_hours
from xinrong.marketplace.transitions import enterprise_of
from xinrong.notifications.services import notify_on_commit

_OPTIONS = TEXTS["demands"]


def seed_demands(rng: random.Random, owner_of: dict[int, int], now: dt.datetime) -> int:
    """Publish demands of registered entities: most open, some closed or withdrawn."""
    registered = list(
        MarketEntity.objects.filter(organisation__isnull=False)
        .order_by("pk")
        .values_list("pk", "division_code")
    )
    if not registered:
        return 0
    n = max(20, int(len(registered) * DEMAND_SHARE))
    chosen = rng.sample(registered, min(n, len(registered)))
    demands = []
    for pk, division in chosen:
        created = now - dt.timedelta(days=rng.uniform(0.1, 20))
        status = rng.choices(
            [DemandStatus.OPEN, DemandStatus.CLOSED, DemandStatus.WITHDRAWN], [0.8, 0.12, 0.08]
        )[0]
        demands.append(
            Demand(
                entity_id=pk,
                amount=Decimal(rng.choice(_OPTIONS["amounts_10k"]) * 10_000),
                term_months=rng.choice(_OPTIONS["term_months"]),
                purpose_category=rng.choice(DemandPurpose.values),
                purpose=rng.choice(_OPTIONS["purposes"]),
                collateral_modes=list(rng.choice(_OPTIONS["collateral_modes"])),
                max_rate=Decimal(rng.choice(_OPTIONS["max_rates"])),
                urgency=rng.choice(DemandUrgency.values),
                status=status,
                division_code=division,
                created_by_id=owner_of.get(pk),
                closed_at=None if status == DemandStatus.OPEN else created + dt.timedelta(days=3),
                created_at=created,
                updated_at=created,
            )
        )
    # the demo enterprise owner has a demand too (under two days old), so its page shows the flow
    _demo_owner_demand(demands, owner_of, now)
    events: list[DemandEvent] = []
    for d in demands:
        events.append(
            DemandEvent(demand=d, kind=DemandEventKind.PUBLISHED, created_at=d.created_at)
        )
        if d.status != DemandStatus.OPEN:
            kind = (
                DemandEventKind.CLOSED
                if d.status == DemandStatus.CLOSED
                else DemandEventKind.WITHDRAWN
            )
            assert d.closed_at is not None
            events.append(DemandEvent(demand=d, kind=kind, created_at=d.closed_at))
    # bulk_create stamps created_at with now (auto_now_add): keep the publication times first,
    # so the demand's 发布时间 and its 发布 event agree
    published = [d.created_at for d in demands]
    Demand.objects.bulk_create(demands, batch_size=1000)
    backdate(demands, published)
    DemandEvent.objects.bulk_create(events, batch_size=1000)
    _seed_takes(rng, [d for d in demands if d.status == DemandStatus.OPEN], owner_of, now)
    return len(demands)


def _demo_owner_demand(demands: list[Demand], owner_of: dict[int, int], now: dt.datetime) -> None:
    """Make sure the demo enterprise owner's enterprise has an open demand (under two days old,
    so its taker still holds it and the owner can answer the invitation)."""
    entity = MarketEntity.objects.filter(organisation__users__username=DEMO_BORROWERS[0]).first()
    if entity is None:
        return
    mine = [d for d in demands if d.entity_id == entity.pk]
    d = mine[0] if mine else None
    if d is None:
        d = Demand(
            entity_id=entity.pk,
            amount=Decimal("800000"),
            term_months=12,
            purpose_category=DemandPurpose.WORKING_CAPITAL,
            purpose=_OPTIONS["purposes"][0],
            collateral_modes=[],
            max_rate=Decimal("6"),
            urgency=DemandUrgency.URGENT,
            division_code=entity.division_code,
            created_by_id=owner_of.get(entity.pk),
        )
        demands.append(d)
    d.status, d.closed_at = DemandStatus.OPEN, None
    d.created_at = d.updated_at = now - dt.timedelta(hours=40)


def _seed_takes(
    rng: random.Random, open_demands: list[Demand], owner_of: dict[int, int], now: dt.datetime
) -> None:
    """抢单 as it should go: every open demand older than the hold period was taken within hours
    of its publication, the taker invited the enterprise to apply and the enterprise applied
    (through the services, so the application, its consent and notices are real); younger ones
    are held now, half of them with an invitation, or still wait for a taker (under the hold
    period, never a week). Takes, invitations and lapsed holds are written as the workflow's
    events; the demo loan officer's bank takes a share of the demands it covers."""
    hold = demand_hold_hours()
    officer = User.objects.filter(username="loan_officer").select_related("organisation").first()
    demo_bank = officer.organisation_id if officer else None
    loans_of: dict[int, list[Product]] = {}
    for p in (
        Product.objects.filter(
            status=ProductStatus.PUBLISHED,
            current_version__isnull=False,
            institution__kind__in=sorted(LENDER_KINDS),
        )
        .exclude(current_version__product_type=ProductType.GUARANTEE)
        .select_related("current_version", "institution")
        .order_by("pk")
    ):
        loans_of.setdefault(p.institution_id, []).append(p)
    covering: dict[str, list[int]] = {}
    owners = {u.pk: u for u in User.objects.filter(pk__in=set(owner_of.values()))}
    demo_entity = (
        MarketEntity.objects.filter(organisation__users__username=DEMO_BORROWERS[0])
        .values_list("pk", flat=True)
        .first()
    )
    events: list[DemandEvent] = []
    for d in sorted(open_demands, key=lambda x: x.pk):
        if d.division_code not in covering:
            covering[d.division_code] = [
                i for i in lenders_covering(division_code=d.division_code) if i in loans_of
            ]
        lenders = covering[d.division_code]
        if not lenders:
            continue
        is_demo = d.entity_id == demo_entity
        lender_id = (
            demo_bank
            if demo_bank in lenders and (is_demo or rng.random() < 0.3)
            else rng.choice(lenders)
        )
        verdicts = eligibility_for(
            entity=d.entity,
            versions=[p.current_version for p in loans_of[lender_id] if p.current_version],
        )
        fitting = [
            p
            for p in loans_of[lender_id]
            if _fits(p, d) and (v := verdicts.get(p.current_version_id or 0)) and v.eligible
        ]
        age = (now - d.created_at).total_seconds() / 3600
        old = age >= hold - 1
        if not old and not is_demo and rng.random() < 0.35:
            continue  # a fresh demand still waiting for a taker (less than the hold period)
        taken = d.created_at + dt.timedelta(hours=rng.uniform(0.2, min(6.0, max(age, 0.3)) * 0.9))
        product = fitting[0] if fitting else None
        invited = taken + dt.timedelta(hours=rng.uniform(0.1, 2.0))
        invite = product is not None and (old or is_demo or rng.random() < 0.5) and invited < now
        app = None
        if old and not is_demo:
            owner = owners.get(owner_of.get(d.entity_id, 0))
            applied = max(
                invited + dt.timedelta(hours=1), now - dt.timedelta(hours=rng.uniform(2, 40))
            )
            app = _apply(d, product, owner, applied) if owner and invite and product else None
            if app is None:
                # nobody could apply: the demand is recent instead, held by its taker now
                d.created_at = now - dt.timedelta(hours=rng.uniform(2, hold - 2))
                Demand.objects.filter(pk=d.pk).update(created_at=d.created_at)
                d.events.filter(kind=DemandEventKind.PUBLISHED).update(created_at=d.created_at)
                taken = d.created_at + dt.timedelta(hours=1)
                invited = taken + dt.timedelta(minutes=30)
        lender = Organisation(pk=lender_id)
        until = taken + dt.timedelta(hours=hold)
        events.append(
            DemandEvent(
                demand=d,
                kind=DemandEventKind.TAKEN,
                organisation=lender,
                created_at=taken,
                note=f"承接至 {timezone.localtime(until):%Y-%m-%d %H:%M}",
            )
        )
        if invite and product is not None:
            events.append(
                DemandEvent(
                    demand=d,
                    kind=DemandEventKind.INVITED,
                    organisation=lender,
                    created_at=invited,
                    note=f"邀请申请“{product.name}”",
                    data={"product": product.code, "product_name": product.name},
                )
            )
            _tell_invited(d, product, invited)
        if until > now:
            Demand.objects.filter(pk=d.pk).update(held_by_id=lender_id, held_until=until)
        else:  # the hold ran out after the enterprise applied: back in the pool, being worked on
            events.append(
                DemandEvent(
                    demand=d,
                    kind=DemandEventKind.EXPIRED,
                    organisation=lender,
                    created_at=until,
                    note="承接期已过，退回需求池（企业已按邀请提交申请）",
                )
            )
    DemandEvent.objects.bulk_create(events, batch_size=1000)


def _fits(p: Product, d: Demand) -> bool:
    v = p.current_version
    return bool(
        v
        and v.amount_min <= d.amount <= v.amount_max
        and v.term_min_months <= d.term_months <= v.term_max_months
    )


def _apply(d: Demand, product: Product, owner: User, at: dt.datetime) -> LoanApplication | None:
    """The enterprise applies from the demand through the service; None if it may not."""
    try:
        with transaction.atomic():
            app = application_services.application_submit(
                actor=owner,
                entity=d.entity,
                product=product,
                data={
                    "amount": d.amount,
                    "term_months": d.term_months,
                    "purpose": d.purpose,
                    "repayment_method": (product.current_version.repayment_methods or [""])[0]
                    if product.current_version
                    else "",
                },
                demand=d,
            )
    except (ApplicationError, ValidationError):
        return None
    shift = timezone.now() - at
    LoanApplication.objects.filter(pk=app.pk).update(
        submitted_at=at, created_at=at, sla_due_at=(app.sla_due_at or at) - shift
    )
    app.events.update(created_at=at)
    return app


def _tell_invited(d: Demand, product: Product, at: dt.datetime) -> None:
    link = reverse("marketplace:apply", args=[product.code]) + f"?demand={d.pk}"
    notify_on_commit(
        recipients=enterprise_of(d),
        kind="demand.invited",
        title=f"{product.institution.name}邀请您申请“{product.name}”",
        body=(
            f"{product.institution.name}已承接您 {d.amount:,.2f} 元、{d.term_months} 个月的"
            f"融资需求，邀请您申请“{product.name}”。点击打开申请表，金额、期限和用途已按需求填好。"
        ),
        link=link,
    )
