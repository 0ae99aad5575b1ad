"""Writes of the data hub: sources and the one ingestion pipeline behind upload, API and CLI."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from typing import IO, Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts.choices import OrgGroup, Role
from xinrong.accounts.models import Organisation, User
from xinrong.common.errors import ApplicationError, NotFoundError, PermissionDeniedError
from xinrong.datahub import rows as row_io
from xinrong.datahub.categories import CATEGORIES, CategorySpec
from xinrong.datahub.choices import BatchStatus, ResolutionStatus
from xinrong.datahub.crossval import conflicts_detect
from xinrong.datahub.models import Fact, IngestBatch, RowError, Source, UnresolvedRow
from xinrong.enterprises.models import MarketEntity
from xinrong.enterprises.names import name_key
from xinrong.reference import divisions
from xinrong.reference import uscc as uscc_codec

CHUNK = 5_000  # rows validated, resolved and written together

Progress = Callable[[IngestBatch], None]


def source_create(
    *,
    code: str,
    name: str,
    organisation: Organisation,
    categories: list[str],
    cadence: str = "monthly",
    description: str = "",
) -> Source:
    """Register a data source with the categories it may deliver."""
    unknown = [c for c in categories if c not in CATEGORIES]
    if unknown:
        raise ApplicationError(
            "unknown_category",
            _("未知的数据类别：%(c)s") % {"c": "、".join(unknown)},
            {"field": "categories"},
            status=422,
        )
    if Source.objects.filter(code=code).exists():
        raise ApplicationError(
            "duplicate_source",
            _("数据来源代码“%(c)s”已存在") % {"c": code},
            {"field": "code"},
            status=409,
        )
    source = Source(
        code=code,
        name=name,
        organisation=organisation,
        categories=categories,
        cadence=cadence,
        description=description,
    )
    source.full_clean()
    source.save()
    return source


def _check_delivery(source: Source, category: str, actor: User | None) -> CategorySpec:
    spec = CATEGORIES.get(category)
    if spec is None:
        raise ApplicationError(
            "unknown_category",
            _("未知的数据类别：%(c)s") % {"c": category},
            {"field": "category"},
            status=422,
        )
    if category not in source.categories:
        raise ApplicationError(
            "category_not_allowed",
            _("数据来源“%(s)s”未登记报送“%(c)s”") % {"s": source.name, "c": _(spec.name)},
            {"field": "category"},
            status=422,
        )
    if not source.is_active:
        raise ApplicationError("source_inactive", _("数据来源已停用"), {"field": "source"})
    if (
        actor is not None
        and not actor.is_superuser
        and actor.organisation_id != (source.organisation_id)
    ):
        raise PermissionDeniedError(
            "forbidden", _("只有“%(o)s”的用户可以报送该来源的数据") % {"o": source.organisation}
        )
    return spec


class _Resolver:
    """Tie rows to entities: by USCC, else by exact name, else by normalised name (+ region)."""

    def __init__(self) -> None:
        self.by_code: dict[str, int | None] = {}
        self.by_name: dict[tuple[str, str], int | None] = {}

    def prime(self, rows: list[row_io.ParsedRow]) -> None:
        codes = {r.values["uscc"] for r in rows if "uscc" in r.values} - self.by_code.keys()
        for chunk in _chunks(sorted(codes), 900):
            found = dict(MarketEntity.objects.filter(uscc__in=chunk).values_list("uscc", "pk"))
            for c in chunk:
                self.by_code[c] = found.get(c)

    def resolve(self, values: dict) -> int | None:
        code = values.get("uscc")
        if code:
            return self.by_code.get(code)
        name, region = values.get("name", ""), values.get("region", "")
        key = (name, region)
        if key not in self.by_name:
            self.by_name[key] = self._by_name(name, region)
        return self.by_name[key]

    @staticmethod
    def _by_name(name: str, region: str) -> int | None:
        qs = MarketEntity.objects.all()
        if region and divisions.get(region):
            qs = qs.filter(division_code__startswith=divisions.descendants_prefix(region))
        exact = list(qs.filter(name=name).values_list("pk", flat=True)[:2])
        if len(exact) == 1:
            return exact[0]
        if len(exact) > 1:
            return None  # ambiguous: an operator decides
        loose = list(qs.filter(name_key=name_key(name)).values_list("pk", flat=True)[:2])
        return loose[0] if len(loose) == 1 else None


def _chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def batch_register(
    *,
    source: Source,
    category: str,
    fileobj: IO[bytes],
    filename: str,
    channel: str,
    actor: User | None = None,
) -> IngestBatch:
    """Check the delivery and return its batch (the existing one for the same content)."""
    _check_delivery(source, category, actor)
    digest = row_io.file_hash(fileobj)
    batch, _created = IngestBatch.objects.get_or_create(
        source=source,
        category=category,
        content_hash=digest,
        defaults={"channel": channel, "filename": filename[:255], "created_by": actor},
    )
    return batch


def batch_process(
    *, batch: IngestBatch, fileobj: IO[bytes], progress: Progress | None = None
) -> IngestBatch:
    """Run the pipeline for a registered batch; a completed batch is returned unchanged.

    Facts of a batch become visible only when it completes; a batch interrupted midway is
    cleaned and redone.
    """
    batch.refresh_from_db()
    if batch.status == BatchStatus.COMPLETED:
        return batch
    spec = CATEGORIES[batch.category]
    if batch.status != BatchStatus.PENDING or batch.processed:
        _batch_reset(batch)
    IngestBatch.objects.filter(pk=batch.pk).update(
        status=BatchStatus.PROCESSING, started_at=timezone.now(), failure=""
    )
    batch.refresh_from_db()
    try:
        _ingest_rows(batch, spec, fileobj, batch.filename, progress)
    except row_io.FileFormatError as exc:
        IngestBatch.objects.filter(pk=batch.pk).update(
            status=BatchStatus.FAILED, failure=str(exc), finished_at=timezone.now()
        )
        _batch_reset(batch, keep_status=True)
        raise ApplicationError("file_format", str(exc), {"field": "file"}, status=422) from exc
    batch.refresh_from_db()
    return batch


def batch_ingest(
    *,
    source: Source,
    category: str,
    fileobj: IO[bytes],
    filename: str,
    channel: str,
    actor: User | None = None,
    progress: Progress | None = None,
) -> IngestBatch:
    """Register and process a delivered file in this process; return its batch.

    The same content again returns the completed batch unchanged.
    """
    batch = batch_register(
        source=source,
        category=category,
        fileobj=fileobj,
        filename=filename,
        channel=channel,
        actor=actor,
    )
    return batch_process(batch=batch, fileobj=fileobj, progress=progress)


def _batch_reset(batch: IngestBatch, *, keep_status: bool = False) -> None:
    """Remove whatever an interrupted run of this batch left behind."""
    with transaction.atomic():
        Fact.objects.filter(batch=batch).delete()
        RowError.objects.filter(batch=batch).delete()
        UnresolvedRow.objects.filter(batch=batch).delete()
        fields: dict[str, object] = {
            "received": 0,
            "accepted": 0,
            "rejected": 0,
            "duplicates": 0,
            "unresolved": 0,
            "conflicts": 0,
            "processed": 0,
        }
        if not keep_status:
            fields["status"] = BatchStatus.PENDING
        IngestBatch.objects.filter(pk=batch.pk).update(**fields)


def _raw_rows(
    spec: CategorySpec, fileobj: IO[bytes], filename: str
) -> Iterator[tuple[int, dict[str, str]]]:
    table = row_io.iter_table(fileobj, filename)
    try:
        headers = next(table)
    except StopIteration:
        raise row_io.FileFormatError(_("文件是空的")) from None
    mapping = row_io.header_map(spec, headers)
    for number, cells in enumerate(table, start=2):
        if not any(cells):
            continue
        yield number, {f.key: (cells[i] if i < len(cells) else "") for i, f in mapping.items()}


def _ingest_rows(
    batch: IngestBatch,
    spec: CategorySpec,
    fileobj: IO[bytes],
    filename: str,
    progress: Progress | None,
) -> None:
    resolver = _Resolver()
    seen: set[str] = set()
    counts = {"received": 0, "accepted": 0, "rejected": 0, "duplicates": 0, "unresolved": 0}
    raw_rows = _raw_rows(spec, fileobj, filename)
    while chunk := list(itertools.islice(raw_rows, CHUNK)):
        parsed = [row_io.validate_row(spec, n, raw) for n, raw in chunk]
        counts["received"] += len(parsed)
        good = [r for r in parsed if r.ok]
        resolver.prime(good)
        errors = [
            RowError(batch=batch, row_number=r.number, column=col, value=val[:255], rule=rule[:255])
            for r in parsed
            if not r.ok
            for col, val, rule in r.errors
        ]
        counts["rejected"] += len(parsed) - len(good)
        hashes = {id(r): row_io.row_hash(spec.code, r.values) for r in good}
        existing = set(
            Fact.objects.filter(
                source=batch.source, category=spec.code, row_hash__in=list(hashes.values())
            ).values_list("row_hash", flat=True)
        )
        facts: list[tuple[Any, ...]] = []  # in _FACT_COLUMNS order, without created_at
        unresolved: list[UnresolvedRow] = []
        for r in good:
            h = hashes[id(r)]
            if h in seen or h in existing:
                counts["duplicates"] += 1
                continue
            seen.add(h)
            entity_id = resolver.resolve(r.values)
            if entity_id is None:
                unresolved.append(
                    UnresolvedRow(
                        batch=batch,
                        row_number=r.number,
                        name=r.values.get("name", "")[:200],
                        region=r.values.get("region", ""),
                        values=row_io.json_ready(r.values),
                    )
                )
                continue
            cols = row_io.fact_columns(spec, r.values)
            facts.append(
                (
                    batch.pk,
                    batch.source_id,
                    spec.code,
                    entity_id,
                    h,
                    cols.get("period", ""),
                    cols.get("occurred_on"),
                    cols.get("behaviour_end"),
                    cols.get("amount"),
                    cols.get("arrears"),
                    cols.get("quantity"),
                    cols.get("grade", ""),
                    cols.get("status", ""),
                    cols.get("flag", False),
                    cols.get("reference_no", ""),
                    cols["negative"],
                    cols.get("retention_until"),
                    json.dumps(row_io.json_ready(r.values), ensure_ascii=False),
                )
            )
        counts["accepted"] += len(facts)
        counts["unresolved"] += len(unresolved)
        with transaction.atomic():
            _facts_insert(facts)
            RowError.objects.bulk_create(errors, batch_size=1000)
            UnresolvedRow.objects.bulk_create(unresolved, batch_size=1000)
            IngestBatch.objects.filter(pk=batch.pk).update(
                processed=counts["received"], **{k: v for k, v in counts.items() if k != "received"}
            )
        if progress is not None:
            batch.refresh_from_db()
            progress(batch)
    IngestBatch.objects.filter(pk=batch.pk).update(
        status=BatchStatus.COMPLETED,
        finished_at=timezone.now(),
        processed=counts["received"],
        **counts,
    )
    touched = Fact.objects.filter(batch=batch).values_list("entity_id", flat=True).distinct()
    found = conflicts_detect(touched.iterator(chunk_size=5000))
    IngestBatch.objects.filter(pk=batch.pk).update(conflicts=found)


def source_get(*, code: str) -> Source:
    """Return a source by code or raise NotFoundError naming it."""
    source = Source.objects.select_related("organisation").filter(code=code).first()
    if source is None:
        raise NotFoundError(
            "source_not_found", _("数据来源“%(c)s”不存在") % {"c": code}, {"field": "source"}
        )
    return source


def _require_hub_operator(actor: User) -> None:
    if not (
        actor.is_superuser
        or (actor.group == OrgGroup.OPERATOR and actor.has_role(Role.OPERATOR_ADMIN))
    ):
        raise PermissionDeniedError("forbidden", _("只有平台运营管理员可以处理待关联记录"))


@transaction.atomic
def unresolved_resolve(*, row: UnresolvedRow, uscc: str, actor: User) -> Fact | None:
    """Attach a waiting row to the entity with this USCC and store it as a fact.

    Returns None when the same row is already a fact (it is then only closed).
    """
    _require_hub_operator(actor)
    row = UnresolvedRow.objects.select_for_update().select_related("batch").get(pk=row.pk)
    if row.status != ResolutionStatus.OPEN:
        raise ApplicationError("already_handled", _("该记录已处理"), {"field": "row"}, status=409)
    code = uscc_codec.parse(uscc).code
    entity = MarketEntity.objects.filter(uscc=code).first()
    if entity is None:
        raise NotFoundError(
            "entity_not_found",
            _("未找到统一社会信用代码为 %(code)s 的市场主体") % {"code": code},
            {"field": "uscc"},
        )
    spec = CATEGORIES[row.batch.category]
    values: dict[str, object] = {}
    for f in spec.all_fields:
        text = row.values.get(f.key, "")
        if text != "" and f.key not in ("uscc",):
            values[f.key] = text if f.key in ("name", "region") else row_io.parse_field(f, text)
    values["uscc"] = code
    digest = row_io.row_hash(spec.code, values)
    fact = None
    if not Fact.objects.filter(
        source=row.batch.source, category=spec.code, row_hash=digest
    ).exists():
        fact = Fact.objects.create(
            batch=row.batch,
            source=row.batch.source,
            category=spec.code,
            entity=entity,
            row_hash=digest,
            data=row_io.json_ready(values),
            **row_io.fact_columns(spec, values),
        )
    row.status = ResolutionStatus.RESOLVED
    row.resolved_entity = entity
    row.resolved_by = actor
    row.save(update_fields=["status", "resolved_entity", "resolved_by", "updated_at"])
    return fact


@transaction.atomic
def unresolved_discard(*, row: UnresolvedRow, actor: User) -> UnresolvedRow:
    """Close a waiting row without storing it (e.g. the subject is not a market entity)."""
    _require_hub_operator(actor)
    row.status = ResolutionStatus.DISCARDED
    row.resolved_by = actor
    row.save(update_fields=["status", "resolved_by", "updated_at"])
    return row


_FACT_COLUMNS = (
    "batch_id",
    "source_id",
    "category",
    "entity_id",
    "row_hash",
    "period",
    "occurred_on",
    "behaviour_end",
    "amount",
    "arrears",
    "quantity",
    "grade",
    "status",
    "flag",
    "reference_no",
    "negative",
    "retention_until",
    "data",
    "created_at",
)


def _facts_insert(facts: list[tuple[Any, ...]]) -> None:
    """Write fact rows in bulk without ORM objects: COPY on PostgreSQL, executemany elsewhere.

    Each row holds the values of ``_FACT_COLUMNS`` but the last (``created_at``, added here).
    Duplicates were filtered before; the unique constraint still guards against a race.
    """
    if not facts:
        return
    now = timezone.now()
    rows = [(*row, now) for row in facts]
    table = Fact._meta.db_table
    columns = ", ".join(_FACT_COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor  # the psycopg 3 cursor behind Django's wrapper
            with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            stamp = connection.ops.adapt_datetimefield_value(now)
            params = [(*row[:-1], stamp) for row in rows]
            marks = ", ".join(["%s"] * len(_FACT_COLUMNS))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", params)  # noqa: S608
