"""Load the demo policy set of Qinghai (``data/qinghai_policies.toml``) into the catalogue.

Idempotent: a document is found again by (department, title) and a measure by its code, so a
second run creates nothing. Government departments the file names and that do not exist yet are
created. Measures are published with version 1 written to ``MeasureVersion``; dates are relative
to today, so every window is open, upcoming or just closed whenever the demo is seeded.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from xinrong.accounts.choices import OrgKind
from xinrong.accounts.models import Organisation
from xinrong.accounts.services.organisations import organisation_create
from xinrong.policies import conditions as cond
from xinrong.policies.choices import (
    Delivery,
    DocumentStatus,
    MeasureKind,
    MeasureStatus,
    PolicyLevel,
)
from xinrong.policies.models import Measure, MeasureVersion, PolicyDocument
from xinrong.policies.services.catalogue import TERM_FIELDS

DATA_FILE = Path(__file__).parent / "data" / "qinghai_policies.toml"


def load_policy_data(path: Path = DATA_FILE) -> dict[str, Any]:
    """Return the parsed demo policy file."""
    with path.open("rb") as fh:
        return tomllib.load(fh)


def _money(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value)).quantize(Decimal("0.01"))


def _ratio(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


def measure_terms(measure: Measure) -> dict[str, Any]:
    """Return a measure's whole terms as JSON-able data (what a MeasureVersion keeps)."""
    terms: dict[str, Any] = {}
    for name in TERM_FIELDS:
        value = getattr(measure, name)
        if isinstance(value, Decimal):
            value = str(value)
        elif isinstance(value, dt.date):
            value = value.isoformat()
        terms[name] = value
    return terms


def check_policy_data(data: dict[str, Any]) -> list[str]:
    """Return every problem of the demo file (empty when it loads cleanly)."""
    problems: list[str] = []
    codes: set[str] = set()
    for doc in data.get("documents", []):
        if doc.get("level") not in PolicyLevel.values:
            problems.append(f"{doc.get('title')}: level {doc.get('level')}")
        for m in doc.get("measures", []):
            code = m.get("code", "")
            if code in codes:
                problems.append(f"{code}: duplicate code")
            codes.add(code)
            if m.get("kind") not in MeasureKind.values:
                problems.append(f"{code}: kind {m.get('kind')}")
            if m.get("delivery", Delivery.APPLY) not in Delivery.values:
                problems.append(f"{code}: delivery {m.get('delivery')}")
            problems.extend(f"{code}: {e.message}" for e in cond.validate(m.get("conditions", [])))
            ratio = _ratio(m.get("ratio"))
            if ratio is not None and not (0 < ratio <= 1):
                problems.append(f"{code}: ratio {ratio}")
            start, end = m.get("window", [None, None])
            if start is not None and end is not None and start > end:
                problems.append(f"{code}: window {start}>{end}")
    return problems


def _departments(data: dict[str, Any], orgs: dict[str, Organisation] | None) -> dict[str, Any]:
    """Return the government departments the file names, creating the missing ones."""
    by_name: dict[str, Organisation] = dict(orgs or {})
    names = {d["department"] for d in data.get("documents", [])}
    regions: dict[str, str] = dict(data.get("departments", {}))
    missing = [n for n in names if n not in by_name]
    if missing:
        for org in Organisation.objects.filter(name__in=missing, kind=OrgKind.GOVERNMENT):
            by_name[org.name] = org
    for name in sorted(names):
        if name not in by_name:
            by_name[name] = organisation_create(
                name=name, kind=OrgKind.GOVERNMENT, region_code=regions.get(name, "")
            )
    return by_name


@transaction.atomic
def seed_policy_catalogue(
    orgs: dict[str, Organisation] | None = None, *, today: dt.date | None = None
) -> int:
    """Load the Qinghai demo policy set; return the number of measures created (0 on a rerun).

    ``orgs`` (name → Organisation) saves looking departments up; missing ones are created.
    """
    data = load_policy_data()
    problems = check_policy_data(data)
    if problems:
        raise ValueError("demo policy data: " + "; ".join(problems))
    today = today or timezone.localdate()
    now = timezone.now()
    departments = _departments(data, orgs)
    existing_codes = set(Measure.objects.values_list("code", flat=True))
    created = 0
    for doc in data["documents"]:
        department = departments[doc["department"]]
        issued_on = today - dt.timedelta(days=int(doc.get("issued", 0)))
        valid_years = int(doc.get("valid_years", 0))
        document = PolicyDocument.objects.filter(department=department, title=doc["title"]).first()
        if document is None:
            document = PolicyDocument.objects.create(
                title=doc["title"],
                doc_number=doc.get("doc_number", ""),
                level=doc["level"],
                department=department,
                co_issuers=doc.get("co_issuers", ""),
                region_code=doc.get("region_code", ""),
                issued_on=issued_on,
                effective_from=issued_on,
                effective_to=(
                    issued_on.replace(year=issued_on.year + valid_years) - dt.timedelta(days=1)
                    if valid_years
                    else None
                ),
                summary=doc.get("summary", ""),
                full_text=doc.get("summary", ""),
                is_pboc=bool(doc.get("is_pboc", False)),
                status=DocumentStatus.PUBLISHED,
            )
        new: list[Measure] = []
        for m in doc.get("measures", []):
            if m["code"] in existing_codes:
                continue
            start, end = m.get("window", [None, None])
            new.append(
                Measure(
                    document=document,
                    code=m["code"],
                    title=m["title"],
                    kind=m["kind"],
                    delivery=m.get("delivery", Delivery.APPLY),
                    description=m.get("description", ""),
                    amount=_money(m.get("amount")),
                    ratio=_ratio(m.get("ratio")),
                    cap=_money(m.get("cap")),
                    cap_per_loan=_money(m.get("cap_per_loan")),
                    budget=_money(m.get("budget")),
                    window_start=None if start is None else today + dt.timedelta(days=start),
                    window_end=None if end is None else today + dt.timedelta(days=end),
                    materials=list(m.get("materials", [])),
                    contact=m.get("contact", ""),
                    tags=list(m.get("tags", [])),
                    conditions=list(m.get("conditions", [])),
                    status=MeasureStatus.PUBLISHED,
                    version=1,
                    published_at=now,
                )
            )
        if not new:
            continue
        saved = Measure.objects.bulk_create(new)
        # bulk_create returns primary keys on PostgreSQL and SQLite ≥ 3.35
        MeasureVersion.objects.bulk_create(
            [
                MeasureVersion(
                    measure=measure,
                    version=1,
                    terms=measure_terms(measure),
                    in_force_from=now,
                    note="演示数据",
                )
                for measure in saved
            ]
        )
        created += len(saved)
    return created
