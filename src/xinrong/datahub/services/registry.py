"""The registry door: market regulation's base database of legal entities (法人单位基础数据库).

A ``registry`` batch runs through the same pipeline as every delivery (upload, API, CLI; the
column-wise validation of ``datahub.columnar``; row hashes; per-row errors and the error file),
but its rows *create and update* ``enterprises.MarketEntity`` rows — with the legal
representative's ``Person`` and ``Relationship`` — instead of only adding facts. Each applied row
is also stored as a fact of the batch (its provenance, and how ``credit.tasks.rescore_batch``
finds the entities to rescore), with the ID number masked.

Rules (all errors of a row are reported at once):

- a code not registered yet is created: by a registration, or by a change/cancellation that
  carries what registration needs (region and industry code); otherwise the row is refused;
- a later row updates only the fields it carries (an empty cell leaves the value unchanged);
  the size class is recomputed from the merged values;
- cancellation (注销) and revocation (吊销) set the registration status; the entity stays;
- an event date is never before the establishment date (the row's, else the registered one);
- an ID number already held by a person of another name is refused (both names masked), never
  linked to that person;
- a row delivered again (same hash for the same entity and source) changes nothing.

Writes are set-wise: one read of the existing entities, people and row hashes per part of a
chunk, then inserts by COPY (PostgreSQL) or one executemany, and updates by one executemany.
Rows of one code delivered twice in a chunk are applied in file order, in rounds (the k-th row
of each code in round k).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.db import connection
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.common import bulk
from xinrong.common.fields import EncryptedTextField
from xinrong.common.masking import mask_id_number, mask_name
from xinrong.datahub import columnar
from xinrong.datahub.categories import CategorySpec
from xinrong.datahub.models import Fact, IngestBatch
from xinrong.datahub.services.facts import fact_province_sync, facts_store
from xinrong.enterprises.choices import RegistrationStatus, RelationKind
from xinrong.enterprises.models import MarketEntity, Person, Relationship
from xinrong.enterprises.names import address_key, name_key
from xinrong.enterprises.services import (
    compute_size_class,
    entity_type_from_uscc,
    person_id_index,
)
from xinrong.reference import idcard, industries
from xinrong.reference.errors import ReferenceDataError

# What each event sets as the registration status when the row names none.
EVENT_STATUS = {
    "cancelled": RegistrationStatus.CANCELLED,
    "revoked": RegistrationStatus.REVOKED,
}
# Fields a code not registered yet needs before it can be created.
CREATE_NEEDS = ("region", "industry_code")
# Entity columns a row may set (the delivered key → the model field).
ENTITY_FIELDS = {
    "name": "name",
    "region": "division_code",
    "industry_code": "industry_code",
    "established_on": "established_on",
    "registered_capital": "registered_capital",
    "employees": "employees",
    "address": "address",
    "annual_revenue": "annual_revenue",
    "total_assets": "total_assets",
    "status": "registration_status",
}
_UPDATED = [
    "name",
    "name_key",
    "division_code",
    "industry_code",
    "established_on",
    "registered_capital",
    "employees",
    "address",
    "address_key",
    "annual_revenue",
    "total_assets",
    "registration_status",
    "size_class",
    "legal_representative",
    "updated_at",
]  # what a row may change (the code and the entity type never change)
_BATCH = 1000  # objects per bulk statement
_READ = 2000  # keys per IN (...) read


Error = tuple[int, str, str, str]  # (row number, column header, value, rule)


@dataclass
class RegistryState:
    """What the door remembers across the chunks of one batch."""

    codes: Callable[[list[str]], dict[str, int]]  # the pipeline's USCC → id reader
    known: dict[str, int]  # its cache (codes created here are added)
    absent: set[str]  # its negative cache (codes created here are removed)
    seen: set[int] = field(default_factory=set)  # row hashes met in this batch
    # ID-number blind index → (person id or 0 while pending creation, name)
    persons: dict[str, tuple[int, str]] = field(default_factory=dict)


@dataclass
class ChunkOutcome:
    """What the door did with one chunk."""

    accepted: int = 0
    duplicates: int = 0
    touched: set[int] = field(default_factory=set)
    # entities that existed and whose name, address or representative changed: what the
    # registry-vs-department cross-validation rules compare
    updated: set[int] = field(default_factory=set)
    errors: list[Error] = field(default_factory=list)


def _parts(items: list[Any], size: int = _READ) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _column(f: Any, values: list[Any], stamps: dict[int, str]) -> pa.Array:
    """Return a column's values as the text a bulk write carries (None stays NULL).

    Arrow turns a column of one type (text, whole numbers, Decimal, dates) into text in C;
    a timestamp is adapted for the backend once per distinct object.
    """
    if isinstance(f, EncryptedTextField):
        values = [f.get_prep_value(v) for v in values]
    sample = next((v for v in values if v is not None), None)
    if isinstance(sample, dt.datetime):
        for v in values:
            if v is not None and id(v) not in stamps:
                stamps[id(v)] = str(connection.ops.adapt_datetimefield_value(v))
        return pa.array([None if v is None else stamps[id(v)] for v in values], pa.string())
    if isinstance(sample, str):  # TextChoices members are str too
        return pa.array([None if v is None else str(v) for v in values], pa.string())
    try:
        return pc.cast(pa.array(values), pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):  # mixed types: one by one
        return pa.array(
            [
                None if v is None else (v.isoformat() if isinstance(v, dt.date) else str(v))
                for v in values
            ],
            pa.string(),
        )


def _insert(model: type[Model], rows: list[dict[str, Any]]) -> None:
    """Insert rows (values by attribute name) set-wise: COPY on PostgreSQL, else executemany.

    Every concrete column but the key is written; a value a row lacks is the field's default.
    Callers validated the values; no model objects are built (at tens of thousands of rows
    their construction costs more than the database).
    """
    if not rows:
        return
    meta = model._meta
    stamps: dict[int, str] = {}
    columns = {}
    for f in meta.concrete_fields:
        if f.primary_key:
            continue
        default = f.get_default()  # once per column, not per row
        columns[f.column] = _column(f, [r.get(f.attname, default) for r in rows], stamps)
    bulk.insert_rows(meta.db_table, pa.table(columns))


_STAGE = "xinrong_registry_update"  # per-transaction staging table of updates (PostgreSQL)


def _update(model: type[Model], rows: list[dict[str, Any]], fields: list[str]) -> None:
    """Update rows (values by attribute name, key ``id``) set-wise.

    PostgreSQL: COPY into a staging table, then one ``UPDATE … FROM``; elsewhere one
    ``executemany`` of ``UPDATE … WHERE id = ?``.
    """
    if not rows:
        return
    meta = model._meta
    specs: list[Any] = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    names = [quote(f.column) for f in specs]
    attnames = [f.attname for f in specs]
    stamps: dict[int, str] = {}
    adapted: dict[int, Any] = {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            table = pa.table(
                {
                    "id": pa.array([str(r["id"]) for r in rows], pa.string()),
                    **{
                        f.column: _column(f, [r[a] for r in rows], stamps)
                        for f, a in zip(specs, attnames, strict=True)
                    },
                }
            )
            cols = ", ".join(["id", *names])
            cursor.execute(
                f"CREATE TEMP TABLE {_STAGE} ON COMMIT DROP AS "  # noqa: S608
                f"SELECT {cols} FROM {meta.db_table} WITH NO DATA"
            )
            bulk.copy_into(cursor, _STAGE, table)
            sets = ", ".join(f"{n} = s.{n}" for n in names)
            cursor.execute(
                f"UPDATE {meta.db_table} AS t SET {sets} FROM {_STAGE} AS s "  # noqa: S608
                "WHERE t.id = s.id"
            )
            cursor.execute(f"DROP TABLE {_STAGE}")
            return
        sets = ", ".join(f"{n} = %s" for n in names)
        sql = f"UPDATE {meta.db_table} SET {sets} WHERE id = %s"  # noqa: S608

        def value(v: Any) -> Any:
            if isinstance(v, dt.datetime):
                if id(v) not in adapted:
                    adapted[id(v)] = connection.ops.adapt_datetimefield_value(v)
                return adapted[id(v)]
            return v

        params = [[value(r[a]) for a in attnames] + [r["id"]] for r in rows]
        for part in _parts(params, 5000):
            cursor.executemany(sql, part)


def _read_pairs(table: str, key: str, columns: str, keys: list[Any]) -> list[tuple[Any, ...]]:
    """Return ``(key, *columns)`` of the rows whose ``key`` is one of ``keys`` (raw, in parts)."""
    out: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # one array parameter instead of thousands
            for part in _parts(keys, 50_000):
                cursor.execute(
                    f"SELECT {key}, {columns} FROM {table} WHERE {key} = ANY(%s)",  # noqa: S608
                    [part],
                )
                out.extend(cursor.fetchall())
            return out
        for part in _parts(keys, 5000):
            marks = ", ".join(["%s"] * len(part))
            cursor.execute(
                f"SELECT {key}, {columns} FROM {table} WHERE {key} IN ({marks})",  # noqa: S608
                part,
            )
            out.extend(cursor.fetchall())
    return out


def _rounds(codes: list[str | None]) -> list[list[int]]:
    """Split row positions so that each round holds at most one row per code, in file order."""
    count: dict[str, int] = {}
    rounds: list[list[int]] = [[]]
    for i, code in enumerate(codes):
        k = 0
        if code is not None:
            k = count.get(code, 0)
            count[code] = k + 1
        while len(rounds) <= k:
            rounds.append([])
        rounds[k].append(i)
    return rounds


def _existing(ids: list[int]) -> dict[int, dict[str, Any]]:
    """Return the current registry values of these entities (one read per part)."""
    out: dict[int, dict[str, Any]] = {}
    fields = [
        "pk",
        "established_on",
        "industry_code",
        "employees",
        "annual_revenue",
        "total_assets",
        "legal_representative_id",
        "legal_representative__name",
        *(f for f in ENTITY_FIELDS.values() if f not in ("established_on",)),
    ]
    for part in _parts(ids):
        for row in MarketEntity.objects.filter(pk__in=part).values(*dict.fromkeys(fields)):
            out[row["pk"]] = row
    return out


def _stored_hashes(source_id: int, pairs: list[tuple[int, int]]) -> set[tuple[int, int]]:
    """Return which (entity id, row hash) pairs the source already stored.

    Read by entity (the unique index leads with it; an entity has few registry rows) and
    matched here: an ``IN`` on the hashes too makes SQLite scan.
    """
    wanted = set(pairs)
    if not wanted:
        return set()
    table = Fact._meta.db_table
    found: set[tuple[int, int]] = set()
    entities = sorted({e for e, _h in wanted})
    with connection.cursor() as cursor:
        for part in _parts(entities, 50_000 if connection.vendor == "postgresql" else 5000):
            if connection.vendor == "postgresql":
                where, params = "entity_id = ANY(%s)", [part]
            else:
                where, params = f"entity_id IN ({', '.join(['%s'] * len(part))})", list(part)
            cursor.execute(
                f"SELECT entity_id, row_hash FROM {table} "  # noqa: S608
                f"WHERE source_id = %s AND {where}",
                [source_id, *params],
            )
            found.update(p for p in cursor.fetchall() if p in wanted)
    return found


def _persons_read(state: RegistryState, indexes: set[str]) -> None:
    missing = sorted(ix for ix in indexes if ix not in state.persons)
    for ix, pk, name in _read_pairs(Person._meta.db_table, "id_number_index", "id, name", missing):
        state.persons[ix] = (pk, name)


def _industry_check(cache: dict[str, str | None], code: str) -> str | None:
    if code not in cache:
        cache[code] = industries.normalize(code) if industries.get(code) is not None else None
    return cache[code]


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _dec(text: str | None) -> Decimal | None:
    return Decimal(text) if text else None


def chunk_apply(
    *,
    batch: IngestBatch,
    spec: CategorySpec,
    chunk: columnar.Chunk,
    checked: columnar.Checked,
    state: RegistryState,
) -> ChunkOutcome:
    """Check the registry rules of a validated chunk and apply its good rows (in a transaction).

    Adds the rows' registry errors to ``checked.errors`` (clearing ``checked.ok`` of them) and
    returns what was applied. Rows refused by a cell rule are still checked against the
    registry, so that a row's errors are all reported at once.
    """
    vals = {k: arr.to_pylist() for k, arr in checked.values.items()}
    raw = {
        k: chunk.column(k).to_pylist() for k in ("region", "industry_code", "legal_rep_id_number")
    }
    headers = {f.key: _(f.header) for f in spec.all_fields}
    hashes = columnar.hash64(columnar.canonical_rows(spec.code, checked.values))
    outcome = ChunkOutcome()
    errors: list[Error] = []

    def fail(i: int, key: str, value: str, rule: str) -> None:
        checked.ok[i] = False
        errors.append((int(checked.numbers[i]), headers[key], value[:255], rule[:255]))

    industry: dict[str, str | None] = {}  # delivered industry code → normalised, None: unknown
    for rows in _rounds(vals["uscc"]):
        if rows:
            _round_apply(
                batch, spec, rows, vals, raw, hashes, checked.ok, state, outcome, fail, industry
            )
    outcome.errors = errors
    checked.errors.extend(errors)
    checked.errors.sort(key=lambda e: e[0])
    return outcome


def _round_apply(
    batch: IngestBatch,
    spec: CategorySpec,
    rows: list[int],
    vals: dict[str, list[Any]],
    raw: dict[str, list[str]],
    hashes: np.ndarray,
    ok: np.ndarray,
    state: RegistryState,
    outcome: ChunkOutcome,
    fail: Callable[[int, str, str, str], None],
    industry_cache: dict[str, str | None],
) -> None:
    codes = sorted({c for i in rows if (c := vals["uscc"][i])})
    state.codes(codes)
    eids = {i: state.known.get(vals["uscc"][i] or "", 0) for i in rows}
    current = _existing(sorted({e for e in eids.values() if e}))
    stored = _stored_hashes(batch.source_id, [(eids[i], int(hashes[i])) for i in rows if eids[i]])
    # ID numbers: validate each, then read the people holding them in one query per part
    id_numbers: dict[int, str] = {}
    for i in rows:
        text = raw["legal_rep_id_number"][i]
        if not text:
            continue
        if "*" in text:
            fail(
                i,
                "legal_rep_id_number",
                mask_id_number(text),
                _("身份证号码为脱敏显示，请填写完整的18位号码"),
            )
            continue
        try:
            id_numbers[i] = idcard.validate(text, field="legal_rep_id_number")
        except ReferenceDataError as exc:
            fail(i, "legal_rep_id_number", mask_id_number(text), str(exc.message))
    indexes = {i: person_id_index(v) for i, v in id_numbers.items()}
    _persons_read(state, set(indexes.values()))

    creates: list[tuple[int, dict[str, Any]]] = []  # (row, entity values by attribute)
    updates: list[tuple[int, dict[str, Any]]] = []
    sizes: dict[tuple[Any, ...], str] = {}
    reps: dict[int, tuple[str, str]] = {}  # row → (name, index or "")
    events: dict[int, str] = {}
    event_days: dict[int, str | None] = {}
    for i in rows:
        code = vals["uscc"][i]  # None: refused by the code rule; its other rules still run
        eid = eids[i]
        before = current.get(eid) if eid else None
        event = vals["event"][i] or ("changed" if before else "registered")
        bad = False
        if before is None and code is not None:
            missing = [k for k in CREATE_NEEDS if not raw[k][i]]
            if missing:
                bad = True
                for k in missing:
                    if event == "registered":
                        rule = _("设立登记必填")
                    else:
                        rule = _(
                            "该统一社会信用代码尚未登记，“%(e)s”须对应已登记的主体；"
                            "如需同时登记该主体，请填写%(f)s"
                        ) % {
                            "e": spec.by_key["event"].choice_labels()[event],
                            "f": "、".join(_(spec.by_key[m].header) for m in missing),
                        }
                    fail(i, k, "", rule)
        region = vals["region"][i]
        if region and len(region) != 6:
            bad = True
            fail(i, "region", region, _("应为6位区县代码，如 630102"))
        industry = vals["industry_code"][i]
        if industry and _industry_check(industry_cache, industry) is None:
            bad = True
            fail(
                i,
                "industry_code",
                industry,
                _("不在《国民经济行业分类》(GB/T 4754-2017) 中"),
            )
        established = vals["established_on"][i] or (
            before["established_on"].isoformat() if before and before["established_on"] else None
        )
        day = vals["event_on"][i]
        if day and established and day < established:
            bad = True
            fail(
                i,
                "event_on",
                day,
                _("%(e)s日期不能早于成立日期（%(d)s）")
                % {"e": spec.by_key["event"].choice_labels()[event], "d": established},
            )
        status = vals["status"][i]
        implied = EVENT_STATUS.get(event)
        if implied and status and status != implied:
            bad = True
            fail(
                i,
                "status",
                spec.by_key["status"].display(status),
                _("与登记事项“%(e)s”矛盾：登记状态应为“%(s)s”")
                % {
                    "e": spec.by_key["event"].choice_labels()[event],
                    "s": spec.by_key["status"].choice_labels()[implied],
                },
            )
        name = vals["legal_rep_name"][i] or ""
        index = indexes.get(i, "")
        if raw["legal_rep_id_number"][i] and not name:
            bad = True
            fail(i, "legal_rep_name", "", _("填写了法定代表人身份证号码时，姓名必填"))
        if index and name:
            held = state.persons.get(index)
            if held is not None and held[1].strip() != name.strip():
                bad = True
                fail(
                    i,
                    "legal_rep_id_number",
                    mask_id_number(id_numbers[i]),
                    _(
                        "身份证号码与姓名冲突：该号码已登记在“%(held)s”名下，与本行法定代表人"
                        "“%(given)s”不一致；同一身份证号码只能对应一人，请核实后更正"
                    )
                    % {"held": mask_name(held[1]), "given": mask_name(name)},
                )
        if bad or not ok[i] or code is None:
            continue
        h = int(hashes[i])
        if h in state.seen or (eid and (eid, h) in stored):
            outcome.duplicates += 1
            continue
        state.seen.add(h)
        if index and index not in state.persons:
            state.persons[index] = (0, name)  # created below; a later row sees the holder
        events[i] = event
        event_days[i] = day or (vals["established_on"][i] if event == "registered" else None)
        if name:
            reps[i] = (name, index)
        status_now = status or implied
        entity = _entity_values(vals, i, before, industry_cache, status_now, sizes)
        if before is None:
            entity["uscc"] = code
            entity["entity_type"] = entity_type_from_uscc(code)
            creates.append((i, entity))
        else:
            entity["id"] = eid
            updates.append((i, entity))
    if not (creates or updates):
        return
    person_of = _persons_write(state, reps, id_numbers, current, eids)
    now = timezone.now()
    for i, entity in creates:
        entity["legal_representative_id"] = person_of.get(i)
        entity["created_at"] = entity["updated_at"] = now
    changed: list[dict[str, Any]] = []  # updated entities whose representative changed
    for i, entity in updates:
        before = current[eids[i]]
        rep = person_of.get(i, before["legal_representative_id"])
        entity["legal_representative_id"] = rep
        entity["updated_at"] = now
        if rep != before["legal_representative_id"]:
            changed.append(entity)
        if (
            rep != before["legal_representative_id"]
            or entity["name"] != before["name"]
            or entity["address"] != before["address"]
        ):
            outcome.updated.add(eids[i])
    if creates:
        _insert(MarketEntity, [e for _i, e in creates])
        made = [e["uscc"] for _i, e in creates]
        state.absent.difference_update(made)
        ids = state.codes(made)
        for i, entity in creates:
            entity["id"] = eids[i] = ids[entity["uscc"]]
    _update(MarketEntity, [e for _i, e in updates], _UPDATED)
    _relationships_write(
        [(e["id"], e["legal_representative_id"]) for _i, e in creates]
        + [(e["id"], e["legal_representative_id"]) for e in changed],
        replaced=[e["id"] for e in changed],
    )
    applied = sorted([i for i, _e in creates] + [i for i, _e in updates])
    _facts_write(batch, spec, applied, vals, hashes, eids, events, event_days, id_numbers)
    outcome.accepted += len(applied)
    outcome.touched.update(eids[i] for i in applied)


def _entity_values(
    vals: dict[str, list[Any]],
    i: int,
    before: dict[str, Any] | None,
    industry_cache: dict[str, str | None],
    status: str | None,
    sizes: dict[tuple[Any, ...], str],
) -> dict[str, Any]:
    """Return the entity a row leaves (values by attribute): its cells over the registered."""

    def pick(key: str, convert: Callable[[Any], Any] = lambda v: v) -> Any:
        text = vals[key][i]
        if text is not None and text != "":
            return convert(text)
        return before[ENTITY_FIELDS[key]] if before else None

    name = vals["name"][i]
    industry = vals["industry_code"][i]
    industry_code = (
        industry_cache[industry] if industry else (before["industry_code"] if before else "")
    )
    address = pick("address") or ""
    employees = pick("employees", int)
    revenue = pick("annual_revenue", _dec)
    assets = pick("total_assets", _dec)
    indicators = (industry_code or "", employees, revenue, assets)
    if indicators not in sizes:  # few distinct combinations; the standard's check is not free
        sizes[indicators] = compute_size_class(
            industry_code=industry_code or "", employees=employees, revenue=revenue, assets=assets
        )
    return {
        "name": name,
        "name_key": name_key(name),
        "division_code": pick("region"),
        "industry_code": industry_code,
        "established_on": pick("established_on", _date),
        "registered_capital": pick("registered_capital", _dec),
        "employees": employees,
        "address": address,
        "address_key": address_key(address),
        "annual_revenue": revenue,
        "total_assets": assets,
        "registration_status": status
        or (before["registration_status"] if before else RegistrationStatus.ACTIVE),
        "size_class": sizes[indicators],
    }


def _persons_write(
    state: RegistryState,
    reps: dict[int, tuple[str, str]],
    id_numbers: dict[int, str],
    current: dict[int, dict[str, Any]],
    eids: dict[int, int],
) -> dict[int, int]:
    """Create the legal representatives not known yet; return row → person id.

    A person is found by ID number (blind index). A name without an ID number keeps the
    entity's representative when the names agree, else is a new person without a number.
    """
    new_by_index: dict[str, dict[str, Any]] = {}
    nameless: dict[int, Person] = {}
    now = timezone.now()
    for i, (name, index) in reps.items():
        if index:
            pk, _held = state.persons[index]
            if not pk and index not in new_by_index:
                new_by_index[index] = {
                    "name": name.strip(),
                    "id_number": id_numbers[i],
                    "id_number_index": index,
                    "created_at": now,
                    "updated_at": now,
                }
            continue
        before = current.get(eids[i]) if eids[i] else None
        if before and (before["legal_representative__name"] or "").strip() == name.strip():
            continue
        nameless[i] = Person(name=name.strip())
    if new_by_index:
        _insert(Person, list(new_by_index.values()))
        for ix, pk, name in _read_pairs(
            Person._meta.db_table, "id_number_index", "id, name", sorted(new_by_index)
        ):
            state.persons[ix] = (pk, name)
    if nameless:
        made = Person.objects.bulk_create(list(nameless.values()), batch_size=_BATCH)
        if any(p.pk is None for p in made):  # a backend that returns no ids: read them back
            raise RuntimeError("bulk_create returned no primary keys")
    out: dict[int, int] = {}
    for i, (_name, index) in reps.items():
        if index:
            out[i] = state.persons[index][0]
        elif i in nameless:
            out[i] = int(nameless[i].pk)
    return out


def _relationships_write(pairs: list[tuple[int, int | None]], *, replaced: list[int]) -> None:
    """Tie each entity to its legal representative; ``replaced`` entities lose their old tie."""
    for part in _parts(replaced):
        Relationship.objects.filter(
            entity_id__in=part, kind=RelationKind.LEGAL_REPRESENTATIVE
        ).delete()
    now = timezone.now()
    _insert(
        Relationship,
        [
            {
                "entity_id": e,
                "kind": RelationKind.LEGAL_REPRESENTATIVE,
                "person_id": p,
                "created_at": now,
                "updated_at": now,
            }
            for e, p in pairs
            if p
        ],
    )


def _facts_write(
    batch: IngestBatch,
    spec: CategorySpec,
    applied: list[int],
    vals: dict[str, list[Any]],
    hashes: np.ndarray,
    eids: dict[int, int],
    events: dict[int, str],
    event_days: dict[int, str | None],
    id_numbers: dict[int, str],
) -> None:
    """Keep each applied row as a fact of the batch: the event, its date, the ID masked."""
    if not applied:
        return
    values = {k: pa.array([v[i] for i in applied], pa.string()) for k, v in vals.items()}
    values["event"] = pa.array([events[i] for i in applied], pa.string())
    values["event_on"] = pa.array([event_days[i] for i in applied], pa.string())
    values["legal_rep_id_number"] = pa.array(
        [mask_id_number(id_numbers[i]) if i in id_numbers else None for i in applied],
        pa.string(),
    )
    entity_ids = np.array([eids[i] for i in applied], dtype=np.int64)
    fact_province_sync(entity_ids=sorted({int(e) for e in entity_ids}))  # a moved entity's facts
    facts_store(
        batch=batch,
        spec=spec,
        values=values,
        entity_ids=entity_ids,
        hashes=np.array([int(hashes[i]) for i in applied], dtype=np.int64),
    )
