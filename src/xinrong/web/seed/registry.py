"""The market-entity registry: entities, their people, shareholdings and officers.

Entities are generated column by column and written with ``bulk_create`` in batches, so the
province scale (520,000 entities) takes minutes, not hours. Distribution: prefectures are weighted
by Qinghai's 7th-census resident population (2020); 74% of entities are individual businesses, as
in the source article. Names, industries and weights come from ``data/registry.toml``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from xinrong.accounts.choices import OrgKind
from xinrong.accounts.models import Organisation
from xinrong.common.crypto import encrypt_text
from xinrong.enterprises.choices import EntityType, RelationKind
from xinrong.enterprises.models import MarketEntity, Person, Relationship, Tag
from xinrong.enterprises.names import name_key
from xinrong.enterprises.services import compute_size_class, person_id_index
from xinrong.reference import divisions, idcard
from xinrong.reference import uscc as uscc_codec
from xinrong.web.seed.base import BATCH, CHUNK, SeedReport, chunks, load_data

_Industry = tuple[str, float, tuple[str, ...], str]

INDIVIDUAL_SHARE = 0.74
REGISTERED_SHARE = 34_000 / 520_000  # enterprises with a platform account (article, Aug 2022)
CITY_PREFECTURE = "630100"

_DATA = load_data("registry")
# Resident population, 7th national census (2020), in 10k: the weight of each prefecture.
PREFECTURE_WEIGHTS: dict[str, float] = dict(_DATA["prefectures"])
# (industry code, weight, name stems, suffix) — individual businesses lean to retail and catering.
IB_INDUSTRIES: list[_Industry] = [
    (code, weight, tuple(stems), suffix)
    for code, weight, stems, suffix in _DATA["industries"]["individual_business"]
]
ENT_INDUSTRIES: list[_Industry] = [
    (code, weight, tuple(stems), suffix)
    for code, weight, stems, suffix in _DATA["industries"]["enterprise"]
]
BRAND_CHARS: str = _DATA["names"]["brand_chars"]
SURNAMES: str = _DATA["names"]["surnames"]
GIVEN_CHARS: str = _DATA["names"]["given_chars"]
PLACE_SUFFIXES: tuple[str, ...] = tuple(_DATA["names"]["place_suffixes"])
# (code, name, share of enterprises holding the tag)
TAGS: list[tuple[str, str, float]] = [(code, name, share) for code, name, share in _DATA["tags"]]


def seed_tags() -> None:
    """Create the entity tags (idempotent)."""
    for code, name, _p in TAGS:
        Tag.objects.get_or_create(code=code, defaults={"name": name})


def _weighted(rng: random.Random, items: list[_Industry]) -> _Industry:
    weights = [w for _c, w, _s, _x in items]
    return rng.choices(items, weights=weights, k=1)[0]


@dataclass
class _Places:
    """Counties, townships and villages under each prefecture, for fast random picks."""

    counties: dict[str, list[str]]
    townships: dict[str, list[str]]
    villages: dict[str, list[str]]

    @classmethod
    def load(cls) -> _Places:
        counties: dict[str, list[str]] = {}
        townships: dict[str, list[str]] = {}
        villages: dict[str, list[str]] = {}
        for pref in PREFECTURE_WEIGHTS:
            counties[pref] = [d.code for d in divisions.children(pref)]
            for county in counties[pref]:
                townships[county] = [d.code for d in divisions.children(county)]
                for town in townships[county]:
                    villages[town] = [d.code for d in divisions.children(town)]
        return cls(counties, townships, villages)

    def pick(self, rng: random.Random, prefecture: str) -> tuple[str, str]:
        """Return (county code, most specific known code) for an entity."""
        county = rng.choice(self.counties[prefecture])
        towns = self.townships.get(county) or []
        r = rng.random()
        if not towns or r < 0.3:
            return county, county
        town = rng.choice(towns)
        vills = self.villages.get(town) or []
        if not vills or r < 0.55:
            return county, town
        return county, rng.choice(vills)


def _person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(
        rng.choice(GIVEN_CHARS) for _ in range(rng.choice((1, 2, 2)))
    )


def _short_place(code: str) -> str:
    d = divisions.get(code)
    if d is None:
        return ""
    name = d.name
    for suffix in PLACE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


@dataclass
class _EntityRow:
    uscc: str
    name: str
    entity_type: str
    industry_code: str
    division_code: str
    address: str
    established_on: dt.date
    registered_capital: Decimal | None
    employees: int
    revenue: Decimal
    assets: Decimal
    rep_name: str
    rep_id: str
    shareholders: list[tuple[str, str, Decimal]]  # (name, id number, ratio)
    tags: list[str]
    registered: bool


def _generate_entities(
    rng: random.Random, n: int, prefectures: dict[str, float]
) -> Iterator[_EntityRow]:
    places = _Places.load()
    pref_codes = list(prefectures)
    pref_weights = [prefectures[p] for p in pref_codes]
    seen: set[str] = set()
    start = dt.date(1995, 1, 1).toordinal()
    end = dt.date(2025, 12, 31).toordinal()
    for _ in range(n):
        pref = rng.choices(pref_codes, weights=pref_weights, k=1)[0]
        county, division = places.pick(rng, pref)
        individual = rng.random() < INDIVIDUAL_SHARE
        industry, _w, stems, suffix = _weighted(
            rng, IB_INDUSTRIES if individual else ENT_INDUSTRIES
        )
        # USCC position 2 under market regulation: 1 企业, 2 个体工商户, 3 农民专业合作社
        kind_digit = "2" if individual else ("3" if suffix == "专业合作社" else "1")
        while True:
            code = uscc_codec.generate(
                rng, division_code=county, authority="9", entity_type=kind_digit
            )
            if code not in seen:
                seen.add(code)
                break
        rep_name = _person_name(rng)
        place = _short_place(county)
        stem = rng.choice(stems)
        if individual:
            name = (
                f"{place}{rep_name[0]}记{stem}{suffix}"
                if rng.random() < 0.6
                else (f"{place}{rng.choice(BRAND_CHARS)}{rng.choice(BRAND_CHARS)}{stem}{suffix}")
            )
            employees = rng.randint(1, 8)
            revenue = Decimal(rng.randint(300, 15000)) / 100
            assets = Decimal(rng.randint(100, 8000)) / 100
            capital = None
        else:
            brand = rng.choice(BRAND_CHARS) + rng.choice(BRAND_CHARS)
            name = (
                f"青海{brand}{stem}{suffix}"
                if rng.random() < 0.5
                else (f"{place}{brand}{stem}{suffix}")
            )
            employees = max(1, int(rng.lognormvariate(2.3, 1.1)))
            revenue = Decimal(int(rng.lognormvariate(5.5, 1.5) * 100)) / 100
            assets = Decimal(int(rng.lognormvariate(5.8, 1.5) * 100)) / 100
            capital = Decimal(rng.choice((10, 50, 100, 200, 300, 500, 1000, 2000, 5000))) * 10000
        birth = dt.date.fromordinal(
            rng.randint(dt.date(1958, 1, 1).toordinal(), dt.date(2002, 12, 31).toordinal())
        )
        rep_id = idcard.generate(rng, division_code=county, birth=birth)
        shareholders: list[tuple[str, str, Decimal]] = []
        if not individual:
            k = rng.choice((1, 1, 2, 2, 3))
            remaining = Decimal(100)
            for i in range(k):
                if i == 0:
                    sh_name, sh_id = rep_name, rep_id
                else:
                    sh_name = _person_name(rng)
                    sh_birth = dt.date.fromordinal(
                        rng.randint(
                            dt.date(1960, 1, 1).toordinal(), dt.date(2000, 12, 31).toordinal()
                        )
                    )
                    sh_id = idcard.generate(rng, division_code=county, birth=sh_birth)
                ratio = remaining if i == k - 1 else Decimal(rng.randint(20, 70))
                ratio = min(ratio, remaining)
                remaining -= ratio
                if ratio > 0:
                    shareholders.append((sh_name, sh_id, ratio))
        tags = [code for code, _n, p in TAGS if not individual and rng.random() < p]
        yield _EntityRow(
            uscc=code,
            name=name,
            entity_type=EntityType.INDIVIDUAL_BUSINESS if individual else EntityType.ENTERPRISE,
            industry_code=industry,
            division_code=division,
            address=f"{divisions.full_name(division)}{rng.randint(1, 300)}号",
            established_on=dt.date.fromordinal(rng.randint(start, end)),
            registered_capital=capital,
            employees=employees,
            revenue=revenue,
            assets=assets,
            rep_name=rep_name,
            rep_id=rep_id,
            shareholders=shareholders,
            tags=tags,
            registered=rng.random() < REGISTERED_SHARE,
        )


def seed_registry(
    rng: random.Random,
    n: int,
    prefectures: dict[str, float],
    report: SeedReport,
    progress: Callable[[str], None],
) -> None:
    """Generate and write the registry chunk by chunk: memory stays flat, each chunk commits."""
    done = 0
    generated = _generate_entities(rng, n, prefectures)
    while rows := list(itertools.islice(generated, CHUNK)):
        with transaction.atomic():
            _seed_registry_chunk(rows, report)
        done += len(rows)
        progress(f"{done:,}/{n:,} entities")


def _seed_registry_chunk(rows: list[_EntityRow], report: SeedReport) -> None:
    """Write one chunk of generated entities, skipping those already present."""
    existing: set[str] = set()
    all_codes = [r.uscc for r in rows]
    for chunk in chunks(all_codes, 2000):
        existing.update(MarketEntity.objects.filter(uscc__in=chunk).values_list("uscc", flat=True))
    rows = [r for r in rows if r.uscc not in existing]
    if not rows:
        return
    # People: one row per distinct ID number, found again through the blind index.
    people: dict[str, tuple[str, str]] = {}
    for r in rows:
        people.setdefault(r.rep_id, (r.rep_name, person_id_index(r.rep_id)))
        for sh_name, sh_id, _ratio in r.shareholders:
            people.setdefault(sh_id, (sh_name, person_id_index(sh_id)))
    index_to_pk: dict[str | None, int] = {}
    idx_list = [ix for _n, ix in people.values()]
    for chunk in chunks(idx_list, 2000):
        index_to_pk.update(
            Person.objects.filter(id_number_index__in=chunk).values_list("id_number_index", "pk")
        )
    new_people = [
        Person(name=name, id_number=encrypt_text(idn), id_number_index=ix)
        for idn, (name, ix) in people.items()
        if ix not in index_to_pk
    ]
    for chunk in chunks(new_people, BATCH):
        Person.objects.bulk_create(chunk, batch_size=BATCH)
    report.persons += len(new_people)
    for chunk in chunks(idx_list, 2000):
        index_to_pk.update(
            Person.objects.filter(id_number_index__in=chunk).values_list("id_number_index", "pk")
        )
    # Organisations for the entities that hold a platform account.
    reg_orgs = [
        Organisation(
            name=r.name,
            uscc=r.uscc,
            region_code=r.division_code,
            kind=OrgKind.INDIVIDUAL_BUSINESS
            if r.entity_type == EntityType.INDIVIDUAL_BUSINESS
            else OrgKind.ENTERPRISE,
        )
        for r in rows
        if r.registered
    ]
    for chunk in chunks(reg_orgs, BATCH):
        Organisation.objects.bulk_create(chunk, batch_size=BATCH)
    org_pk: dict[str | None, int] = {}
    reg_codes = [o.uscc for o in reg_orgs if o.uscc]
    for chunk in chunks(reg_codes, 2000):
        org_pk.update(Organisation.objects.filter(uscc__in=chunk).values_list("uscc", "pk"))
    report.organisations += len(reg_orgs)
    entities = [
        MarketEntity(
            uscc=r.uscc,
            name=r.name,
            name_key=name_key(r.name),
            entity_type=r.entity_type,
            legal_representative_id=index_to_pk[people[r.rep_id][1]],
            registered_capital=r.registered_capital,
            established_on=r.established_on,
            industry_code=r.industry_code,
            division_code=r.division_code,
            address=r.address,
            employees=r.employees,
            annual_revenue=r.revenue,
            total_assets=r.assets,
            size_class=compute_size_class(
                industry_code=r.industry_code,
                employees=r.employees,
                revenue=r.revenue,
                assets=r.assets,
            ),
            organisation_id=org_pk.get(r.uscc),
        )
        for r in rows
    ]
    for chunk in chunks(entities, BATCH):
        MarketEntity.objects.bulk_create(chunk, batch_size=BATCH)
    report.entities += len(entities)
    entity_pk: dict[str, int] = {}
    for chunk in chunks([r.uscc for r in rows], 2000):
        entity_pk.update(MarketEntity.objects.filter(uscc__in=chunk).values_list("uscc", "pk"))
    # A few corporate shareholdings between enterprises, for the relationship graph later;
    # the stake is taken from the largest personal holding so the total stays 100%.
    ent_rows = [r for r in rows if r.entity_type == EntityType.ENTERPRISE]
    corporate: dict[str, tuple[str, Decimal]] = {}
    for r in ent_rows[: len(ent_rows) // 20]:
        # drawn from the row's own code, so a re-run that skips rows stays deterministic
        link_rng = random.Random(r.uscc)
        holder = link_rng.choice(ent_rows)
        if holder.uscc != r.uscc:
            corporate[r.uscc] = (holder.uscc, Decimal(link_rng.randint(5, 30)))
    rels: list[Relationship] = []
    for r in rows:
        epk = entity_pk[r.uscc]
        rels.append(
            Relationship(
                entity_id=epk,
                kind=RelationKind.LEGAL_REPRESENTATIVE,
                person_id=index_to_pk[people[r.rep_id][1]],
            )
        )
        stakes = {sh_id: ratio for _name, sh_id, ratio in r.shareholders}
        if r.uscc in corporate:
            holder_uscc, corp_ratio = corporate[r.uscc]
            largest = max(stakes, key=lambda k: stakes[k])
            stakes[largest] -= corp_ratio
            rels.append(
                Relationship(
                    entity_id=epk,
                    kind=RelationKind.SHAREHOLDER,
                    holder_entity_id=entity_pk[holder_uscc],
                    share_ratio=corp_ratio,
                )
            )
        rels.extend(
            Relationship(
                entity_id=epk,
                kind=RelationKind.SHAREHOLDER,
                person_id=index_to_pk[people[sh_id][1]],
                share_ratio=ratio,
            )
            for sh_id, ratio in stakes.items()
        )
        if r.entity_type == EntityType.ENTERPRISE:
            # as in most small companies: the legal representative runs it, a partner supervises
            officers = [(r.rep_id, "执行董事兼总经理")]
            officers += [(sh_id, "监事") for _n, sh_id, _r in r.shareholders[1:2]]
            rels.extend(
                Relationship(
                    entity_id=epk,
                    kind=RelationKind.EXECUTIVE,
                    person_id=index_to_pk[people[pid][1]],
                    title=title,
                )
                for pid, title in officers
            )
    for chunk in chunks(rels, BATCH):
        Relationship.objects.bulk_create(chunk, batch_size=BATCH)
    report.relationships += len(rels)
    tag_pk = dict(Tag.objects.values_list("code", "pk"))
    through = MarketEntity.tags.through
    links = [
        through(marketentity_id=entity_pk[r.uscc], tag_id=tag_pk[t]) for r in rows for t in r.tags
    ]
    for chunk in chunks(links, BATCH):
        through.objects.bulk_create(chunk, batch_size=BATCH)
