"""Guarantees between seeded enterprises, some closed into circles, and a few shared phones.

One guarantee per 40 enterprises (a few thousand at province scale), some closed into guarantee
circles (互保、联保), mostly within a prefecture, the demo owner's company in one. Drawn from the
seed value after the registry, with a few legal representatives sharing a contact phone.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

from xinrong.enterprises.choices import EntityType, RelationKind
from xinrong.enterprises.models import MarketEntity, Person, Relationship
from xinrong.enterprises.services import person_phone_index
from xinrong.web.seed.base import BATCH, SeedReport, chunks

# Guarantees between enterprises: about one for every 40 enterprises (a few thousand for the
# province), some of them closed into guarantee circles (互保、联保), mostly within a prefecture.
ENTERPRISES_PER_GUARANTEE = 40
GUARANTEES_PER_CIRCLE = 60
CIRCLE_SIZES = (3, 2, 3, 2, 4)
GUARANTEE_AMOUNTS_10K = (50, 100, 200, 300, 500, 800, 1000, 1500, 2000)  # 万元
LOCAL_GUARANTEE_SHARE = 0.8
PERSONAL_GUARANTEE_SHARE = 0.3  # the legal representative also guarantees personally


@dataclass(frozen=True)
class _Enterprise:
    pk: int
    uscc: str
    prefecture: str
    legal_rep: int | None
    registered: bool


def _demo_owner(enterprises: list[_Enterprise]) -> _Enterprise | None:
    """Return the enterprise the demo owner account will hold (as ``seed_users`` picks it)."""
    registered = [e for e in enterprises if e.registered]
    return min(registered, key=lambda e: e.pk) if registered else None


def _guarantee_plan(
    rng: random.Random, enterprises: list[_Enterprise]
) -> list[tuple[_Enterprise, _Enterprise | None, int | None, Decimal]]:
    """Return (debtor, guarantor entity, guarantor person, amount) rows, circles first.

    The demo enterprise owner's company sits in a three-member circle so its graph shows one.
    """
    by_prefecture: dict[str, list[_Enterprise]] = {}
    for e in enterprises:
        by_prefecture.setdefault(e.prefecture, []).append(e)
    n = len(enterprises)
    # never more than a quarter of the possible pairs, so the draw below always ends
    n_guarantees = min(max(40, n // ENTERPRISES_PER_GUARANTEE), n * (n - 1) // 4)
    n_circles = max(len(CIRCLE_SIZES), n_guarantees // GUARANTEES_PER_CIRCLE)
    pairs: set[tuple[int, int]] = set()
    plan: list[tuple[_Enterprise, _Enterprise | None, int | None, Decimal]] = []

    def amount() -> Decimal:
        return Decimal(rng.choice(GUARANTEE_AMOUNTS_10K)) * 10000

    def add(guarantor: _Enterprise, debtor: _Enterprise) -> None:
        if guarantor.pk != debtor.pk and (guarantor.pk, debtor.pk) not in pairs:
            pairs.add((guarantor.pk, debtor.pk))
            plan.append((debtor, guarantor, None, amount()))

    def ring(members: list[_Enterprise]) -> None:
        for guarantor, debtor in zip(members, members[1:] + members[:1], strict=True):
            add(guarantor, debtor)

    owner = _demo_owner(enterprises)
    if owner is not None:
        local = [e for e in by_prefecture[owner.prefecture] if e.pk != owner.pk]
        if len(local) >= 2:
            ring([owner, *rng.sample(local, 2)])
    for i in range(n_circles):
        group = by_prefecture[rng.choice(enterprises).prefecture]
        size = CIRCLE_SIZES[i % len(CIRCLE_SIZES)]
        if len(group) >= size:
            ring(rng.sample(group, size))
    for _attempt in range(n_guarantees * 20):
        if len(pairs) >= n_guarantees:
            break
        debtor = rng.choice(enterprises)
        local = by_prefecture[debtor.prefecture]
        pool = local if len(local) > 1 and rng.random() < LOCAL_GUARANTEE_SHARE else enterprises
        add(rng.choice(pool), debtor)
    debtors = sorted(
        {debtor.pk: debtor for debtor, _g, _p, _a in plan}.values(), key=lambda e: e.pk
    )
    for debtor in debtors:
        if debtor.legal_rep is not None and rng.random() < PERSONAL_GUARANTEE_SHARE:
            plan.append((debtor, None, debtor.legal_rep, amount()))
    return plan


def seed_guarantees(seed_value: int, report: SeedReport) -> None:
    """Add guarantees between seeded enterprises (with circles) and a few shared phones.

    Drawn from the seed value over the enterprises ordered by code, so the same seed plans the
    same rows; rows already present are skipped, so a second run adds nothing.
    """
    rng = random.Random(f"guarantees:{seed_value}")
    enterprises = [
        _Enterprise(pk, uscc, division[:4], rep, org is not None)
        for pk, uscc, division, rep, org in MarketEntity.objects.filter(
            entity_type=EntityType.ENTERPRISE
        )
        .order_by("uscc")
        .values_list("pk", "uscc", "division_code", "legal_representative_id", "organisation_id")
    ]
    if len(enterprises) < 4:
        return
    plan = _guarantee_plan(rng, enterprises)
    existing = set(
        Relationship.objects.filter(kind=RelationKind.GUARANTOR).values_list(
            "entity_id", "holder_entity_id", "person_id"
        )
    )
    rows = [
        Relationship(
            entity_id=debtor.pk,
            kind=RelationKind.GUARANTOR,
            holder_entity_id=guarantor.pk if guarantor else None,
            person_id=person,
            guaranteed_amount=amount,
        )
        for debtor, guarantor, person, amount in plan
        if (debtor.pk, guarantor.pk if guarantor else None, person) not in existing
    ]
    for chunk in chunks(rows, BATCH):
        Relationship.objects.bulk_create(chunk, batch_size=BATCH)
    report.guarantees += len(rows)
    report.relationships += len(rows)
    # A few legal representatives share a contact phone (an agent's or a relative's), within a
    # prefecture, the demo owner's among them: the graph links such people. Only people without
    # a phone are given one.
    reps: dict[str, list[int]] = {}
    for e in enterprises:
        if e.legal_rep is not None:
            reps.setdefault(e.prefecture, []).append(e.legal_rep)
    prefectures = sorted(p for p, ids in reps.items() if len(ids) > 1)
    owner = _demo_owner(enterprises)
    phones: dict[int, str] = {}
    for i in range(max(5, len(plan) // 100)):
        if not prefectures:
            break
        if i == 0 and owner is not None and owner.legal_rep is not None:
            a = owner.legal_rep
            b = rng.choice(reps[owner.prefecture])
        else:
            a, b = rng.sample(reps[rng.choice(prefectures)], 2)
        phone = f"1{rng.choice('3589')}{rng.randint(0, 999_999_999):09d}"
        if a != b and a not in phones and b not in phones:
            phones[a] = phones[b] = phone
    people = list(Person.objects.filter(pk__in=sorted(phones), phone_index=""))
    for person in people:
        person.phone = phones[person.pk]
        person.phone_index = person_phone_index(phones[person.pk])
    Person.objects.bulk_update(people, ["phone", "phone_index"], batch_size=BATCH)
    report.shared_phones += len(people)
