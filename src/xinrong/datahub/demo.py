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
from xinrong.datahub.categories import CATEGORIES
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


def _batches(sources: dict[str, Source], seed_value: int) -> dict[str, IngestBatch]:
    batches: dict[str, IngestBatch] = {}
    for source in sources.values():
        for category in source.categories:
            batch, _created = IngestBatch.objects.get_or_create(
                source=source,
                category=category,
                content_hash=f"seed-{seed_value}",
                defaults={
                    "channel": BatchChannel.SEED,
                    # what a clerk would have named the file (shown on its batch)
                    "filename": f"{CATEGORIES[category].name}（演示数据）.xlsx",
                    "status": BatchStatus.PROCESSING,
                    "started_at": timezone.now(),
                },
            )
            batches[category] = batch
    return batches


def _q(x: float) -> Decimal:
    return Decimal(str(round(max(x, 0.0), 2)))


def _rows_for(e: _Entity, rng: random.Random) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (category, values) for one entity, consistent with its latent health."""
    troubled = rng.random() < 0.12
    conflicted = rng.random() < 0.01
    young = e.established is not None and e.established > dt.date(2023, 1, 1)
    yearly_tax = float(e.revenue) * 10000 * (0.03 if e.enterprise else 0.008)
    periods = ("2024-03", "2024-06", "2024-09", "2024-12") if e.enterprise else ("2024",)
    for period in periods:
        grade = "M" if young else (rng.choice("CD") if troubled else rng.choice("AAB"))
        arrears = (
            _q(yearly_tax * rng.uniform(0.05, 0.4))
            if troubled and rng.random() < 0.5
            else Decimal("0.00")
        )
        row: dict[str, Any] = {
            "uscc": e.uscc,
            "period": period,
            "tax_paid": _q(yearly_tax / len(periods) * rng.uniform(0.7, 1.3)),
            "credit_grade": grade,
            "arrears": arrears,
            "employees": e.employees,
        }
        if conflicted and period == periods[-1]:
            # a deliberate disagreement with the registry, for the cross-validation demo
            row["legal_rep_name"] = rng.choice("马王李张刘赵陈杨") + "某某"
        yield "tax", row
    if e.enterprise:
        for period in ("2024-06", "2024-12"):
            share = (
                rng.uniform(0.05, 0.2)
                if conflicted and e.employees >= 12
                else rng.uniform(0.6, 1.0)
            )
            insured = max(1, int(e.employees * share))
            yield (
                "social_security",
                {
                    "uscc": e.uscc,
                    "period": period,
                    "insured": insured,
                    "paid": _q(insured * 1100 * 6),
                    "arrears": _q(insured * 1100 * rng.uniform(1, 3))
                    if troubled and rng.random() < 0.4
                    else Decimal("0.00"),
                },
            )
        if e.employees >= 10:
            yield (
                "housing_fund",
                {
                    "uscc": e.uscc,
                    "period": "2024-12",
                    "depositors": max(1, int(e.employees * 0.7)),
                    "paid": _q(e.employees * 0.7 * 800 * 12),
                    "arrears": Decimal("0.00"),
                },
            )
    kwh = rng.uniform(2000, 20000) * (5 if e.enterprise else 1)
    yield (
        "utility",
        {
            "uscc": e.uscc,
            "utility": "electricity",
            "period": "2024",
            "consumption": _q(kwh),
            "billed": _q(kwh * 0.55),
            "months_in_arrears": rng.randint(1, 4) if troubled and rng.random() < 0.5 else 0,
        },
    )
    if rng.random() < (0.5 if troubled else 0.04):
        filed = dt.date(2023, 1, 1) + dt.timedelta(days=rng.randint(0, 600))
        role = rng.choice(("defendant", "executed")) if troubled else "plaintiff"
        closed = filed + dt.timedelta(days=rng.randint(60, 300))
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
        decided = dt.date(2022, 6, 1) + dt.timedelta(days=rng.randint(0, 900))
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
            {"uscc": e.uscc, "listed_on": dt.date(2024, 7, 1), "reason": "未按规定报送年度报告"},
        )
    if rng.random() < 0.15:
        yield (
            "registration_change",
            {"uscc": e.uscc, "item": "住所", "changed_on": dt.date(2024, rng.randint(1, 12), 1)},
        )
    if e.enterprise and rng.random() < 0.15:
        kind = "mortgage" if rng.random() < 0.4 else "ownership"
        yield (
            "real_estate",
            {
                "uscc": e.uscc,
                "certificate_no": f"青(2022)不动产权第{rng.randint(1, 999999):06d}号",
                "kind": kind,
                "area": _q(rng.uniform(50, 3000)),
                "value": _q(rng.uniform(3e5, 8e6)),
                "registered_on": dt.date(2022, rng.randint(1, 12), 1),
            },
        )
    ip_count = (
        rng.randint(1, 3)
        if {"zjtx", "hightech"} & set(e.tags)
        else int(e.enterprise and rng.random() < 0.03)
    )
    for i in range(ip_count):
        yield (
            "intellectual_property",
            {
                "uscc": e.uscc,
                "ip_no": f"ZL2023{e.pk:07d}{i}",
                "kind": rng.choice(("invention", "utility_model", "trademark")),
                "granted_on": dt.date(2023, rng.randint(1, 12), 1),
            },
        )
    if "gov-procurement" in e.tags:
        yield (
            "procurement",
            {
                "uscc": e.uscc,
                "contract_no": f"QHCG-2024-{e.pk:06d}",
                "buyer": "青海省政府采购中心",
                "amount": _q(rng.uniform(5e4, 2e6)),
                "signed_on": dt.date(2024, rng.randint(1, 12), 1),
            },
        )
    for tag in e.tags:
        yield (
            "honour",
            {
                "uscc": e.uscc,
                "title": HONOURS[tag],
                "awarded_by": "青海省工业和信息化厅",
                "awarded_on": dt.date(2023, 9, 1),
                "valid_until": dt.date(2026, 8, 31),
            },
        )


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
    *, orgs: dict[str, Organisation], seed_value: int, progress: Callable[[str], None]
) -> int:
    """Add demo facts for every entity; return how many were created.

    The platform's own source (loan events, recorded by the marketplace) is created too.
    """
    sources = seed_sources(orgs)
    platform_source_get()
    batches = _batches(sources, seed_value)
    if all(b.status == BatchStatus.COMPLETED for b in batches.values()):
        return 0
    created = 0
    last = 0
    while chunk := _entities(last):
        last = chunk[-1].pk
        rows: dict[str, tuple[list[int], list[dict[str, Any]]]] = {}
        for e in chunk:
            rng = random.Random(f"{seed_value}:{e.uscc}")
            for category, values in _rows_for(e, rng):
                ids, dicts = rows.setdefault(category, ([], []))
                ids.append(e.pk)
                dicts.append(values)
        with transaction.atomic():
            for category, (ids, dicts) in rows.items():
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
    seed_demo_delivery(sources=sources, seed_value=seed_value)
    now = timezone.now()
    for batch in batches.values():
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


def seed_demo_delivery(*, sources: dict[str, Source], seed_value: int) -> IngestBatch | None:
    """Deliver one small tax file through the real pipeline, with the usual imperfections.

    It has good rows, rows carrying only a (differently written) name, names nobody has, and
    rows breaking rules, so the batch page, the error file and the resolution queue have
    something to show. Same content every time, so a second seed changes nothing.
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
    lines = ["统一社会信用代码,主体名称,所属期,实缴税额（元）,纳税信用等级,欠税金额（元）"]
    for code, _name in picks[:3]:
        lines.append(f"{code},,2025-03,{1000 + seed_value % 97}.00,B,0")
    for _code, name in picks[3:5]:  # name only, written with full-width brackets and spaces
        alias = name.replace("有限公司", "有限责任公司").replace("(", "（").replace(")", "）")
        lines.append(f",{alias} ,2025-03,800.00,A,0")
    lines.append(",柴达木无名商行,2025-03,300.00,B,0")
    lines.append(",青海某某贸易部,2025-03,150.00,A,0")
    lines.append(f"{picks[5][0]},,2025-13,100.00,A,0")
    lines.append(f"{picks[5][0]},,2025-03,-20,E,0")
    content = ("\n".join(lines) + "\n").encode("utf-8")
    return batch_ingest(
        source=sources["tax"],
        category="tax",
        fileobj=io.BytesIO(content),
        filename="2025年3月纳税信息.csv",
        channel=BatchChannel.SEED,
    )
