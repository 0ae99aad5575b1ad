"""Demo financing demands: most open, some closed or withdrawn, a third of the open ones held."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.utils import timezone

from xinrong.accounts.models import Organisation
from xinrong.enterprises.models import MarketEntity
from xinrong.marketplace.choices import (
    LENDER_KINDS,
    DemandEventKind,
    DemandPurpose,
    DemandStatus,
    DemandUrgency,
)
from xinrong.marketplace.demo.base import DEMAND_SHARE, TEXTS, backdate
from xinrong.marketplace.models import (
    Demand,
    DemandEvent,
)
from xinrong.marketplace.services.demands import demand_hold_hours

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
    # a third of the open ones are held by a lender (抢单) whose products serve the region
    lenders = list(
        Organisation.objects.filter(kind__in=LENDER_KINDS, is_active=True).order_by("pk")
    )
    events: list[DemandEvent] = []
    for d in demands:
        events.append(
            DemandEvent(demand=d, kind=DemandEventKind.PUBLISHED, created_at=d.created_at)
        )
        if d.status == DemandStatus.OPEN and lenders and rng.random() < 0.33:
            lender = rng.choice(lenders)
            hold = demand_hold_hours()
            # taken within the hold period, so the hold is still running today
            taken = max(now - dt.timedelta(hours=rng.uniform(1, hold - 1)), d.created_at)
            d.held_by, d.held_until = lender, taken + dt.timedelta(hours=hold)
            events.append(
                DemandEvent(
                    demand=d,
                    kind=DemandEventKind.TAKEN,
                    organisation=lender,
                    created_at=taken,
                    note=f"承接至 {timezone.localtime(d.held_until):%Y-%m-%d %H:%M}",
                )
            )
        elif d.status != DemandStatus.OPEN:
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
    return len(demands)
