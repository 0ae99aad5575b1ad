"""Demo public-credit facts for seeded entities (called by `xinrong seed`).

Each entity gets a latent health drawn from its own code, so the facts agree with each other:
healthy firms pay tax steadily with good grades; troubled ones accumulate arrears, court cases,
penalties and abnormal-operation listings. Rows are turned into facts by the same functions the
ingestion pipeline uses (validation aside), written in chunks, and skipped when already present,
so a second seed adds nothing.
"""

from __future__ import annotations

import datetime as dt
import random
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.db import transaction
from django.utils import timezone

from xinrong.accounts.models import Organisation
from xinrong.datahub.categories import CATEGORIES, REGISTRY_CATEGORY
from xinrong.datahub.choices import BatchChannel, BatchStatus, Cadence
from xinrong.datahub.columnar import canonical, canonical_rows, hash64
from xinrong.datahub.crossval import conflicts_detect
from xinrong.datahub.models import Fact, IngestBatch, Source
from xinrong.datahub.publication import maximum_period_end
from xinrong.datahub.services.facts import facts_store, first_seen
from xinrong.datahub.services.sources import platform_source_get
from xinrong.enterprises.models import MarketEntity

_DATA = tomllib.loads((Path(__file__).parent / "data" / "demo.toml").read_text("utf-8"))
# (code, name, organisation name, categories, cadence)
DEMO_SOURCES: list[tuple[str, str, str, list[str], str]] = [
    (s["code"], s["name"], s["organisation"], list(s["categories"]), Cadence(s["cadence"]))
    for s in _DATA["sources"]
]
DEMO_DEPARTMENTS = sorted({org for _c, _n, org, _cats, _cad in DEMO_SOURCES})
CHUNK = 10_000
CAUSES: tuple[str, ...] = tuple(_DATA["causes"])
PENALTY_AUTHORITIES: tuple[str, ...] = tuple(_DATA["penalty_authorities"])
HONOURS: dict[str, str] = dict(_DATA["honours"])
# Periodic facts are delivered again as periods end (a new batch per quarter); events once.
PERIODIC: frozenset[str] = frozenset({"tax", "social_security", "housing_fund", "utility"})
QUARTERS = 8  # enterprises' quarterly tax and social-security rows: the last two years
YEARS = 4  # individual businesses' yearly tax: the last four ended years
UTILITY_YEARS = 2  # utility bills: yearly, the last two ended years
EARLIER_YEARS = 3  # enterprises' yearly rows up to the first quarter's year
HISTORY_DAYS = 3 * 365  # events (cases, penalties, procurement, IP...) within three years
_MASK = (1 << 64) - 1
_TAX, _SOC, _UTIL = 1, 2, 4  # which category a per-period draw is for


@dataclass
class _Entity:
    pk: int
    uscc: str
    name: str
    enterprise: bool
    employees: int
    revenue: Decimal
    established: dt.date | None
    tags: list[str]


def seed_sources(orgs: dict[str, Organisation]) -> dict[str, Source]:
    """Create the demo data sources (idempotent) and return them by code."""
    sources = {s.code: s for s in Source.objects.all()}
    for code, name, org_name, categories, cadence in DEMO_SOURCES:
        if code not in sources:
            sources[code] = Source.objects.create(
                code=code,
                name=name,
                organisation=orgs[org_name],
                categories=categories,
                cadence=cadence,
            )
    return sources


def _batches(sources: dict[str, Source], seed_value: int, today: dt.date) -> dict[str, IngestBatch]:
    """The seed's batch of each category, found or created.

    Events are delivered once per seed value; periodic facts once per ended quarter (their
    content hash names it), so a run later in the same quarter finds every batch completed
    and a run in a later quarter delivers the new periods in new batches.
    """
    quarter = last_quarter_end(today)
    label = f"{quarter // 12}年{quarter % 12 + 1}月"
    now = timezone.now()
    # a seed run as of another day (tests) dates its new batches to that day
    started = (
        now
        if today == timezone.localdate()
        else timezone.make_aware(dt.datetime.combine(today, dt.time(9, 0)))
    )
    batches: dict[str, IngestBatch] = {}
    demo_codes = {code for code, *_rest in DEMO_SOURCES}
    for source in sources.values():
        if source.code not in demo_codes:
            continue  # the platform's own loan events, another department's real deliveries
        for category in source.categories:
            if category == REGISTRY_CATEGORY:
                continue  # the demo registry is written by the seed itself, not delivered
            periodic = category in PERIODIC
            batch, _created = IngestBatch.objects.get_or_create(
                source=source,
                category=category,
                content_hash=f"seed-{seed_value}-{_period(quarter)}"
                if periodic
                else f"seed-{seed_value}",
                defaults={
                    "channel": BatchChannel.SEED,
                    # what a clerk would have named the file (shown on its batch)
                    "filename": f"{CATEGORIES[category].name}（演示数据，截至{label}）.xlsx"
                    if periodic
                    else f"{CATEGORIES[category].name}（演示数据）.xlsx",
                    "status": BatchStatus.PROCESSING,
                    "started_at": started,
                },
            )
            batches[category] = batch
    return batches


def _q(x: float) -> Decimal:
    return Decimal(str(round(max(x, 0.0), 2)))


def _month(day: dt.date) -> int:
    """A calendar month as one number (year * 12 + month - 1), so months subtract."""
    return day.year * 12 + day.month - 1


def _period(month: int) -> str:
    """The "YYYY-MM" period of a month number."""
    return f"{month // 12:04d}-{month % 12 + 1:02d}"


def last_quarter_end(today: dt.date) -> int:
    """The month number of the last month of the latest quarter ended before ``today``'s month
    (on 7 December 2026: September 2026; on 5 January 2027: December 2026)."""
    before = _month(today) - 1
    return before - (before - 2) % 3


def _mix(x: int) -> int:
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def _u(key: int, *parts: int) -> float:
    """A uniform draw in [0, 1) fixed by an entity's ``key`` and ``parts`` (category, period,
    which draw): a period's values never depend on the day the seed runs, so a later run
    regenerates the periods it shares with an earlier one identically (and stores them once)."""
    x = key
    for part in parts:
        x = _mix((x + (part + 1) * 0x9E3779B97F4A7C15) & _MASK)
    return x / 2.0**64


@dataclass(frozen=True)
class _Traits:
    """What an entity is like, drawn once from its own code."""

    troubled: bool
    conflicted: bool
    key: int  # seeds the per-period draws
    grade: str  # its tax credit grade once it is no longer new (M)
    legal_rep_name: str  # declared to the tax office when it disagrees with the registry
    insured_share: float  # insured staff among its employees


def _traits(e: _Entity, rng: random.Random) -> _Traits:
    troubled = rng.random() < 0.12
    conflicted = rng.random() < 0.01
    return _Traits(
        troubled=troubled,
        conflicted=conflicted,
        key=rng.getrandbits(64),
        grade=rng.choice("CD") if troubled else rng.choice("AAB"),
        # a deliberate disagreement with the registry, for the cross-validation demo
        legal_rep_name=rng.choice("马王李张刘赵陈杨") + "某某" if conflicted else "",
        insured_share=rng.uniform(0.05, 0.2)
        if conflicted and e.employees >= 12
        else rng.uniform(0.6, 1.0),
    )


def _periodic_rows(e: _Entity, t: _Traits, today: dt.date) -> Iterator[tuple[str, dict[str, Any]]]:
    """Tax, social security, housing fund and utility rows of the periods ended before
    ``today``, none before the entity was established.

    Enterprises: quarterly for the last two years (the last 12 months and the 12 before both
    have data), and yearly for the three years up to the first quarter's (the departments
    moved from yearly to quarterly delivery), so a feature built at a past date (the loans'
    snapshots before disbursement, over the last three years) finds data too. Individual
    businesses: yearly for the last four ended years. Utility bills: yearly, the last two.
    """
    born = _month(e.established) if e.established else None
    yearly_tax = float(e.revenue) * 10000 * (0.03 if e.enterprise else 0.008)

    def alive(end: int) -> bool:
        return born is None or end >= born

    def yearly(first: int, last: int) -> list[tuple[int, str, int]]:
        return [(y * 12 + 11, f"{y:04d}", 12) for y in range(first, last + 1) if alive(y * 12 + 11)]

    if e.enterprise:
        quarter = last_quarter_end(today)
        first = quarter - 3 * (QUARTERS - 1)
        periods = yearly(first // 12 - EARLIER_YEARS + 1, first // 12) + [
            (m, _period(m), 3) for m in range(first, quarter + 1, 3) if alive(m)
        ]
    else:
        periods = yearly(today.year - YEARS, today.year - 1)
    for end, period, months in periods:
        row: dict[str, Any] = {
            "uscc": e.uscc,
            "period": period,
            "tax_paid": _q(yearly_tax * months / 12 * (0.7 + 0.6 * _u(t.key, _TAX, end, 0))),
            # new taxpayers are graded M until their second year
            "credit_grade": "M" if born is not None and end - born < 24 else t.grade,
            "arrears": _q(yearly_tax * (0.05 + 0.35 * _u(t.key, _TAX, end, 2)))
            if t.troubled and _u(t.key, _TAX, end, 1) < 0.3
            else Decimal("0.00"),
            "employees": e.employees,
        }
        if t.legal_rep_name:
            row["legal_rep_name"] = t.legal_rep_name
        yield "tax", row
    if e.enterprise:
        for end, period, months in periods:
            # the insured headcount moves a little from quarter to quarter
            insured = max(
                1, int(e.employees * t.insured_share * (0.94 + 0.12 * _u(t.key, _SOC, end, 0)))
            )
            yield (
                "social_security",
                {
                    "uscc": e.uscc,
                    "period": period,
                    "insured": insured,
                    "paid": _q(insured * 1100 * months),
                    "arrears": _q(insured * 1100 * (1 + 2 * _u(t.key, _SOC, end, 2)))
                    if t.troubled and _u(t.key, _SOC, end, 1) < 0.12
                    else Decimal("0.00"),
                },
            )
        if e.employees >= 10 and periods:
            yield (
                "housing_fund",
                {
                    "uscc": e.uscc,
                    "period": periods[-1][1],
                    "depositors": max(1, int(e.employees * 0.7)),
                    "paid": _q(e.employees * 0.7 * 800 * 3),
                    "arrears": Decimal("0.00"),
                },
            )
    for end, period, _months in yearly(today.year - UTILITY_YEARS, today.year - 1):
        year = end // 12
        kwh = (2000 + 18000 * _u(t.key, _UTIL, year, 0)) * (5 if e.enterprise else 1)
        yield (
            "utility",
            {
                "uscc": e.uscc,
                "utility": "electricity",
                "period": period,
                "consumption": _q(kwh),
                "billed": _q(kwh * 0.55),
                "months_in_arrears": 1 + int(4 * _u(t.key, _UTIL, year, 2))
                if t.troubled and _u(t.key, _UTIL, year, 1) < 0.5
                else 0,
            },
        )


def _event_rows(
    e: _Entity, t: _Traits, rng: random.Random, on: dt.date
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Cases, penalties, listings, changes, property, IP, procurement and honours, dated within
    the three years before ``on`` (the day the seed first delivered them), never before the
    entity was established."""
    born = e.established or dt.date.min

    def ago(low: int, high: int) -> dt.date:
        return max(on - dt.timedelta(days=rng.randint(low, high)), born)

    troubled = t.troubled
    if rng.random() < (0.5 if troubled else 0.04):
        filed = ago(330, HISTORY_DAYS)
        role = rng.choice(("defendant", "executed")) if troubled else "plaintiff"
        closed = min(filed + dt.timedelta(days=rng.randint(60, 300)), on)
        yield (
            "judicial",
            {
                "uscc": e.uscc,
                "case_no": f"({filed.year})青{rng.randint(100, 2899):04d}"
                f"民初{rng.randint(1, 9999)}号",
                "role": role,
                "cause": rng.choice(CAUSES),
                "amount": _q(rng.uniform(2e4, 5e5)),
                "filed_on": filed,
                "case_status": "closed",
                "closed_on": closed,
                "dishonest": troubled and role == "executed" and rng.random() < 0.4,
            },
        )
    if rng.random() < (0.3 if troubled else 0.02):
        decided = ago(30, HISTORY_DAYS)
        severity = rng.choice(("general", "serious")) if troubled else "minor"
        yield (
            "penalty",
            {
                "uscc": e.uscc,
                "decision_no": f"青罚〔{decided.year}〕{rng.randint(1, 999)}号",
                "severity": severity,
                "decided_on": decided,
                "fine": _q(rng.uniform(500, 50000)),
                "publication_end": maximum_period_end(severity=severity, decided_on=decided),
                "authority": rng.choice(PENALTY_AUTHORITIES),
            },
        )
    if troubled and rng.random() < 0.25:
        yield (
            "abnormal_operation",
            {"uscc": e.uscc, "listed_on": ago(30, 720), "reason": "未按规定报送年度报告"},
        )
    if rng.random() < 0.15:
        yield (
            "registration_change",
            {"uscc": e.uscc, "item": "住所", "changed_on": ago(0, HISTORY_DAYS)},
        )
    if e.enterprise and rng.random() < 0.15:
        kind = "mortgage" if rng.random() < 0.4 else "ownership"
        registered = ago(365, 5 * 365)
        yield (
            "real_estate",
            {
                "uscc": e.uscc,
                "certificate_no": f"青({registered.year})不动产权第{rng.randint(1, 999999):06d}号",
                "kind": kind,
                "area": _q(rng.uniform(50, 3000)),
                "value": _q(rng.uniform(3e5, 8e6)),
                "registered_on": registered,
            },
        )
    ip_count = (
        rng.randint(1, 3)
        if {"zjtx", "hightech"} & set(e.tags)
        else int(e.enterprise and rng.random() < 0.03)
    )
    for i in range(ip_count):
        granted = ago(30, HISTORY_DAYS)
        yield (
            "intellectual_property",
            {
                "uscc": e.uscc,
                "ip_no": f"ZL{granted.year}{e.pk:07d}{i}",
                "kind": rng.choice(("invention", "utility_model", "trademark")),
                "granted_on": granted,
            },
        )
    if "gov-procurement" in e.tags:
        signed = ago(0, HISTORY_DAYS)
        yield (
            "procurement",
            {
                "uscc": e.uscc,
                "contract_no": f"QHCG-{signed.year}-{e.pk:06d}",
                "buyer": "青海省政府采购中心",
                "amount": _q(rng.uniform(5e4, 2e6)),
                "signed_on": signed,
            },
        )
    # honours are awarded each September for three years; these are of the latest award
    # but one, so they are valid on ``on``
    awarded = dt.date(on.year - (1 if on >= dt.date(on.year, 9, 1) else 2), 9, 1)
    for tag in e.tags:
        yield (
            "honour",
            {
                "uscc": e.uscc,
                "title": HONOURS[tag],
                "awarded_by": "青海省工业和信息化厅",
                "awarded_on": awarded,
                "valid_until": awarded.replace(year=awarded.year + 3) - dt.timedelta(days=1),
            },
        )


def _rows_for(
    e: _Entity, rng: random.Random, *, today: dt.date, events_on: dt.date | None
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (category, values) for one entity, consistent with its latent health: the periodic
    rows of the periods ended before ``today``, and its events dated before ``events_on``
    (None: the events were delivered by an earlier run)."""
    traits = _traits(e, rng)
    yield from _periodic_rows(e, traits, today)
    if events_on is not None:
        yield from _event_rows(e, traits, rng, events_on)


def _entities(after: int) -> list[_Entity]:
    qs = (
        MarketEntity.objects.filter(pk__gt=after)
        .order_by("pk")
        .values_list(
            "pk", "uscc", "name", "entity_type", "employees", "annual_revenue", "established_on"
        )[:CHUNK]
    )
    rows = list(qs)
    tags: dict[int, list[str]] = {}
    if rows:
        through = MarketEntity.tags.through
        for eid, code in through.objects.filter(
            marketentity_id__gte=rows[0][0], marketentity_id__lte=rows[-1][0]
        ).values_list("marketentity_id", "tag__code"):
            tags.setdefault(eid, []).append(code)
    return [
        _Entity(
            pk,
            uscc,
            name,
            etype == "enterprise",
            employees or 1,
            revenue or Decimal("10"),
            established,
            tags.get(pk, []),
        )
        for pk, uscc, name, etype, employees, revenue, established in rows
    ]


def seed_facts(
    *,
    orgs: dict[str, Organisation],
    seed_value: int,
    progress: Callable[[str], None],
    today: dt.date | None = None,
) -> int:
    """Add demo facts for every entity, recent as of ``today`` (default: the local date);
    return how many were created.

    Periodic facts cover the periods ended before ``today``; events the three years before the
    day the seed first ran. A second run in the same quarter adds nothing; a run in a later
    quarter adds the periods ended since (the periods both runs cover come out the same and
    are stored once). The platform's own source (loan events, recorded by the marketplace) is
    created too.
    """
    today = today or timezone.localdate()
    sources = seed_sources(orgs)
    platform_source_get()
    batches = _batches(sources, seed_value, today)
    pending = {c: b for c, b in batches.items() if b.status != BatchStatus.COMPLETED}
    if not pending:
        return 0
    events = [b for c, b in batches.items() if c not in PERIODIC]
    # events are dated from the day their batches were first started (an interrupted run
    # resumed another day regenerates the same rows)
    events_on = (
        min(timezone.localdate(b.started_at) if b.started_at else today for b in events)
        if any(b.status != BatchStatus.COMPLETED for b in events)
        else None
    )
    created = 0
    last = 0
    while chunk := _entities(last):
        last = chunk[-1].pk
        rows: dict[str, tuple[list[int], list[dict[str, Any]]]] = {}
        for e in chunk:
            rng = random.Random(f"{seed_value}:{e.uscc}")
            for category, values in _rows_for(e, rng, today=today, events_on=events_on):
                ids, dicts = rows.setdefault(category, ([], []))
                ids.append(e.pk)
                dicts.append(values)
        with transaction.atomic():
            for category, (ids, dicts) in rows.items():
                if category not in pending:
                    continue
                spec = CATEGORIES[category]
                cols = {
                    f.key: pa.array(
                        [
                            None if d.get(f.key) in (None, "") else canonical(d[f.key])
                            for d in dicts
                        ],
                        pa.string(),
                    )
                    for f in spec.all_fields
                }
                hashes = hash64(canonical_rows(category, cols))
                fresh = first_seen(hashes, set())  # rows of different entities never meet
                keep = pa.array(fresh)
                created += facts_store(
                    batch=batches[category],
                    spec=spec,
                    values={k: pc.filter(v, keep) for k, v in cols.items()},
                    entity_ids=np.array(ids, dtype=np.int64)[fresh],
                    hashes=hashes[fresh],
                )
        progress(f"facts for entities up to #{last:,}")
    seed_demo_delivery(sources=sources, seed_value=seed_value, today=today)
    now = timezone.now()
    for batch in pending.values():
        n = Fact.objects.filter(batch=batch).count()
        IngestBatch.objects.filter(pk=batch.pk).update(
            status=BatchStatus.COMPLETED, finished_at=now, received=n, accepted=n, processed=n
        )
    last = 0
    while ids := list(
        MarketEntity.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:CHUNK]
    ):
        last = ids[-1]
        conflicts_detect(ids)
    progress("cross-validation done")
    return created


def seed_demo_delivery(
    *, sources: dict[str, Source], seed_value: int, today: dt.date | None = None
) -> IngestBatch | None:
    """Deliver one small tax file through the real pipeline, with the usual imperfections.

    It has good rows, rows carrying only a (differently written) name, names nobody has, and
    rows breaking rules, so the batch page, the error file and the resolution queue have
    something to show. It is of the month before the latest ended quarter (a month the seeded
    quarterly rows leave alone), so its content, and the batch, change once a quarter: a second
    seed in the same quarter changes nothing.
    """
    import io

    from xinrong.datahub.services.ingest import batch_ingest

    picks = list(
        MarketEntity.objects.filter(entity_type="enterprise")
        .order_by("pk")
        .values_list("uscc", "name")[:6]
    )
    if len(picks) < 6:
        return None
    month = last_quarter_end(today or timezone.localdate()) - 1
    period, year = _period(month), month // 12
    lines = ["统一社会信用代码,主体名称,所属期,实缴税额（元）,纳税信用等级,欠税金额（元）"]
    for code, _name in picks[:3]:
        lines.append(f"{code},,{period},{1000 + seed_value % 97}.00,B,0")
    for _code, name in picks[3:5]:  # name only, written with full-width brackets and spaces
        alias = name.replace("有限公司", "有限责任公司").replace("(", "（").replace(")", "）")
        lines.append(f",{alias} ,{period},800.00,A,0")
    lines.append(f",柴达木无名商行,{period},300.00,B,0")
    lines.append(f",青海某某贸易部,{period},150.00,A,0")
    lines.append(f"{picks[5][0]},,{year}-13,100.00,A,0")
    lines.append(f"{picks[5][0]},,{period},-20,E,0")
    content = ("\n".join(lines) + "\n").encode("utf-8")
    return batch_ingest(
        source=sources["tax"],
        category="tax",
        fileobj=io.BytesIO(content),
        filename=f"{year}年{month % 12 + 1}月纳税信息.csv",
        channel=BatchChannel.SEED,
    )
