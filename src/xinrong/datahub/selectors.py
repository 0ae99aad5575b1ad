"""Reads of the data hub; facts are visible only once their batch has completed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max, Q, QuerySet, Sum
from django.db.models.fields.json import KT
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts import permissions
from xinrong.accounts.models import User
from xinrong.accounts.permissions import is_operator_staff, region_q
from xinrong.common.errors import ApplicationError, NotFoundError, PermissionDeniedError
from xinrong.datahub import rules
from xinrong.datahub.categories import CATEGORIES, REGISTRY_CATEGORY
from xinrong.datahub.choices import CADENCE_DAYS, BatchStatus, ConflictStatus, ResolutionStatus
from xinrong.datahub.models import (
    Conflict,
    ConflictEvent,
    Fact,
    IngestBatch,
    RowError,
    Source,
    UnresolvedRow,
)
from xinrong.enterprises.models import MarketEntity


def fact_visible() -> QuerySet[Fact]:
    """Return facts of completed batches (who may read them is decided by credit)."""
    return Fact.objects.filter(batch__status=BatchStatus.COMPLETED)


def province_of(division_code: str | None) -> str:
    """Return the province (the fact table's partition key) of a division code."""
    return (division_code or "")[:2]


def fact_region_q(user: User) -> Q:
    """Return the filter keeping the facts of the user's region (docs/scaling.md).

    It names the province column as well as the entity's division code, so PostgreSQL reads
    only that province's partition; without a region limit it is empty.
    """
    prefix = permissions.region_prefix_for(user)
    if prefix is None:
        return Q()
    return Q(province=province_of(prefix), entity__division_code__startswith=prefix)


def fact_of_entity(entity: MarketEntity) -> QuerySet[Fact]:
    """Return an entity's visible facts, read from its province's partition only."""
    return fact_visible().filter(entity=entity, province=province_of(entity.division_code))


def source_list(*, user: User) -> QuerySet[Source]:
    """Return the sources a user may oversee.

    A department's data provider sees its own organisation's sources; operators those of the
    departments in their region (all of them at the platform operator).
    """
    permissions.require(
        user, "datahub.hub_use", message=_("只有数据报送员和平台运营方可以使用信息归集")
    )
    return Source.objects.restrict(user).select_related("organisation")


def source_deliverable(*, user: User) -> QuerySet[Source]:
    """Return the sources the user may deliver data to (its own department's)."""
    return Source.objects.restrict(user, "deliver").select_related("organisation")


def batch_list(*, user: User) -> QuerySet[IngestBatch]:
    """Return the batches of the sources the user may see, newest first."""
    permissions.require(
        user, "datahub.hub_use", message=_("只有数据报送员和平台运营方可以使用信息归集")
    )
    return IngestBatch.objects.restrict(user).select_related("source", "created_by")


def batch_get(*, user: User, pk: int) -> IngestBatch:
    """Return one visible batch or raise NotFoundError."""
    batch = batch_list(user=user).filter(pk=pk).first()
    if batch is None or not permissions.can(user, "datahub.batch_view", batch):
        raise NotFoundError("batch_not_found", _("归集批次不存在"), {"field": "batch"})
    return batch


def unresolved_open(*, user: User) -> QuerySet[UnresolvedRow]:
    """Return rows waiting for association, for platform operators (their region's)."""
    permissions.require(
        user, "datahub.unresolved_view", message=_("只有平台运营方可以处理待关联记录")
    )
    return (
        UnresolvedRow.objects.restrict(user)
        .filter(status=ResolutionStatus.OPEN)
        .select_related("batch__source__organisation")
    )


@dataclass
class SourceQuality:
    """Data-quality figures of one source, all computed from stored batches and facts."""

    source: Source
    batches: int
    last_delivery: dt.datetime | None
    late: bool
    days_since: int | None
    received: int
    accepted: int
    rejected: int
    entities_covered: int
    completeness: float  # share of registered entities with at least one fact
    open_conflicts: int

    @property
    def rejection_pct(self) -> float:
        """Return refused rows as a percentage of rows received."""
        return 100 * self.rejected / self.received if self.received else 0.0

    @property
    def completeness_pct(self) -> float:
        """Return the coverage as a percentage."""
        return 100 * self.completeness


def source_quality(*, user: User) -> list[SourceQuality]:
    """Return completeness, timeliness, rejection rate and open conflicts per visible source."""
    permissions.require(user, "datahub.quality_view", message=_("您无权查看数据质量"))
    sources = list(source_list(user=user))
    ids = [s.pk for s in sources]
    totals = {
        row["source_id"]: row
        for row in IngestBatch.objects.filter(source_id__in=ids, status=BatchStatus.COMPLETED)
        .values("source_id")
        .annotate(
            n=Count("id"),
            last=Max("finished_at"),
            received=Sum("received"),
            accepted=Sum("accepted"),
            rejected=Sum("rejected"),
        )
    }
    covered = dict(
        fact_visible()
        .filter(source_id__in=ids)
        .filter(fact_region_q(user))
        .values("source_id")
        .annotate(n=Count("entity_id", distinct=True))
        .values_list("source_id", "n")
    )
    registry = MarketEntity.objects.filter(region_q(user, "division_code")).count() or 1
    conflicts = conflict_open_counts(user=user)
    now = timezone.now()
    result = []
    for s in sources:
        t: dict[str, Any] = dict(totals.get(s.pk) or {})
        last = t.get("last")
        days = (now - last).days if last else None
        allowed = CADENCE_DAYS.get(s.cadence, 0)
        result.append(
            SourceQuality(
                source=s,
                batches=t.get("n", 0),
                last_delivery=last,
                late=bool(allowed) and (days is None or days > allowed),
                days_since=days,
                received=t.get("received") or 0,
                accepted=t.get("accepted") or 0,
                rejected=t.get("rejected") or 0,
                entities_covered=covered.get(s.pk, 0),
                completeness=covered.get(s.pk, 0) / registry,
                open_conflicts=conflicts.get(s.code, 0),
            )
        )
    return result


# Typed columns of the fields whose emptiness the data-quality page counts: amounts, arrears,
# counts and grades, which scoring reads. An empty end date (not removed from a list, a case not
# closed) means "not yet", not "unknown", and a flag cannot be told empty from 否.
_MEASURED_COLUMNS = ("amount", "arrears", "quantity", "grade")


@dataclass
class FieldMissing:
    """How often one optional field of a source's category was delivered empty."""

    source: Source
    category_code: str
    field_key: str
    category: str  # Chinese name (gettext_noop'd; the template translates)
    field: str  # Chinese column header
    rows: int  # stored rows of the category
    missing: int  # rows with the field empty (stored as unknown, not as 0)

    @property
    def missing_pct(self) -> float:
        """Return the empty share as a percentage of the rows."""
        return 100 * self.missing / self.rows if self.rows else 0.0


def field_missing(*, user: User) -> list[FieldMissing]:
    """Return, per visible source, category and optional measured field, the rows delivered
    without a value, counted in one GROUP BY (a department sees its own sources' rows; an
    operator its region's entities' rows)."""
    permissions.require(user, "datahub.quality_view", message=_("您无权查看数据质量"))
    sources = {s.pk: s for s in source_list(user=user)}
    empty = {
        c: Count("id", filter=Q(**{c: ""}) if c == "grade" else Q(**{f"{c}__isnull": True}))
        for c in _MEASURED_COLUMNS
    }
    counts = (
        fact_visible()
        .filter(source_id__in=list(sources))
        .filter(fact_region_q(user))
        .order_by()
        .values("source_id", "category")
        .annotate(n_rows=Count("id"), **{f"empty_{c}": q for c, q in empty.items()})
    )
    order = {code: i for i, code in enumerate(CATEGORIES)}
    result = []
    rows: list[dict[str, Any]] = [dict(r) for r in counts]
    for row in sorted(rows, key=lambda r: (r["source_id"], order.get(r["category"], 999))):
        spec = CATEGORIES.get(row["category"])
        if spec is None:
            continue
        for f in spec.fields:
            if f.required or f.column not in _MEASURED_COLUMNS:
                continue
            result.append(
                FieldMissing(
                    source=sources[row["source_id"]],
                    category_code=row["category"],
                    field_key=f.key,
                    category=spec.name,
                    field=f.header,
                    rows=row["n_rows"],
                    missing=row[f"empty_{f.column}"],
                )
            )
    return result


def conflict_list(*, entity: MarketEntity) -> QuerySet[Conflict]:
    """Return an entity's open conflicts (shown to the enterprise itself and to operators)."""
    return Conflict.objects.filter(entity=entity, status=ConflictStatus.OPEN)


# A conflict names its sources in a JSON list; every rule names two. Lookups by position work
# alike on SQLite and PostgreSQL (JSON ``contains`` does not exist on SQLite), so reads look at
# the first CONFLICT_SOURCE_SLOTS positions.
CONFLICT_SOURCE_SLOTS = 4


def _involving(codes: set[str] | list[str]) -> Q:
    q = Q(pk__in=[])
    for i in range(CONFLICT_SOURCE_SLOTS):
        q |= Q(**{f"sources__{i}__in": sorted(codes)})
    return q


def conflict_open_counts(*, user: User) -> dict[str, int]:
    """Return the number of open conflicts per source code in the user's region (quality view)."""
    counts: dict[str, int] = {}
    open_ = Conflict.objects.filter(status=ConflictStatus.OPEN).filter(
        region_q(user, "entity__division_code")
    )
    for i in range(CONFLICT_SOURCE_SLOTS):
        rows = (
            open_.annotate(code=KT(f"sources__{i}"))
            .filter(code__isnull=False)
            .values("code")
            .annotate(n=Count("id"))
            .values_list("code", "n")
        )
        for code, n in rows:
            counts[code] = counts.get(code, 0) + n
    return counts


def conflict_visible(*, user: User) -> QuerySet[Conflict]:
    """Return the conflicts a user may see: a department's involve its sources; operators and
    auditors see their region's (all of them at the platform operator)."""
    qs = Conflict.objects.select_related("entity", "blamed_source", "resolved_by")
    if is_operator_staff(user):
        return qs.filter(region_q(user, "entity__division_code"))
    codes = rules.provider_source_codes(user)
    if codes:
        return qs.filter(_involving(codes))
    raise PermissionDeniedError(
        "forbidden", _("只有涉及冲突的数据报送部门和平台运营方可以查看数据冲突")
    )


def conflict_queue(
    *,
    user: User,
    status: str = ConflictStatus.OPEN,
    rule: str = "",
    severity: str = "",
    source: str = "",
    uscc: str = "",
) -> QuerySet[Conflict]:
    """Return the user's conflict work queue, filtered; open ones by default, newest first.

    An empty ``status`` means every status.
    """
    qs = conflict_visible(user=user)
    if status:
        if status not in ConflictStatus.values:
            raise ApplicationError(
                "invalid_status",
                _("未知的冲突状态“%(s)s”；可选：%(all)s")
                % {"s": status, "all": "、".join(ConflictStatus.values)},
                {"field": "status"},
                status=422,
            )
        qs = qs.filter(status=status)
    if rule:
        qs = qs.filter(rule=rule)
    if severity:
        qs = qs.filter(severity=severity)
    if source:
        qs = qs.filter(_involving([source]))
    if uscc:
        qs = qs.filter(entity__uscc=uscc.strip().upper())
    return qs


def conflict_get(*, user: User, pk: int) -> Conflict:
    """Return one conflict the user may see or raise NotFoundError."""
    conflict = conflict_visible(user=user).filter(pk=pk).first()
    if conflict is None or not permissions.can(user, "datahub.conflict_view", conflict):
        raise NotFoundError("conflict_not_found", _("数据冲突不存在"), {"field": "conflict"})
    return conflict


def conflict_events(*, conflict: Conflict) -> QuerySet[ConflictEvent]:
    """Return a conflict's timeline, oldest first."""
    return ConflictEvent.objects.filter(conflict=conflict).select_related("actor")


def conflict_sides(*, conflict: Conflict) -> list[tuple[str, str, Source | None]]:
    """Return each source the conflict names as (code, label, Source or None for the registry)."""
    by_code = {s.code: s for s in Source.objects.filter(code__in=conflict.sources)}
    out: list[tuple[str, str, Source | None]] = []
    for code in conflict.sources:
        if code == rules.REGISTRY:
            out.append((code, _("市场主体登记信息"), None))
        else:
            found = by_code.get(code)
            out.append((code, found.name if found else code, found))
    return out


def conflict_blame_parse(*, conflict: Conflict, code: str) -> tuple[Source | None, bool]:
    """Read a blamed source code as (Source, False), (None, True) for the registry, or nothing.

    A code the conflict does not name is refused (field ``blamed_source``).
    """
    code = (code or "").strip()
    if not code:
        return None, False
    if code in conflict.sources:
        if code == rules.REGISTRY:
            return None, True
        source = Source.objects.filter(code=code).first()
        if source is not None:
            return source, False
    raise rules.blame_not_involved(conflict, code)


@dataclass(frozen=True)
class BatchErrors:
    """A batch's row errors: how many there were, how many are stored, and the note saying so."""

    total: int
    stored: int
    note: str  # "" when every error is stored


def batch_errors_summary(*, batch: IngestBatch) -> BatchErrors:
    """Return how many row errors a batch had and kept (only the first ones are stored)."""
    stored = batch.errors.count() if batch.errors_total or batch.rejected else 0
    total = max(batch.errors_total, stored)
    note = ""
    if total > stored:
        note = _("共 %(n)s 行错误，仅保存前 %(k)s 行") % {"n": f"{total:,}", "k": f"{stored:,}"}
    return BatchErrors(total=total, stored=stored, note=note)


def batch_row_errors(*, batch: IngestBatch) -> QuerySet[RowError]:
    """Return a batch's stored row errors in row order (the caller has the batch: visible)."""
    return RowError.objects.filter(batch=batch).order_by("row_number", "id")


@dataclass
class RegistryOutcome:
    """What a registry batch did to the market entities: how many it created and updated."""

    created: int
    updated: int


def batch_registry_outcome(*, batch: IngestBatch) -> RegistryOutcome | None:
    """Return how many entities a registry batch created and updated (None for other
    categories); an entity created at or after the batch was made is one it created."""
    if batch.category != REGISTRY_CATEGORY:
        return None
    rows = Fact.objects.filter(batch=batch)
    touched = rows.values("entity_id").distinct().count()
    created = (
        rows.filter(entity__created_at__gte=batch.created_at).values("entity_id").distinct().count()
    )
    return RegistryOutcome(created=created, updated=touched - created)


def batch_registry_rows(*, batch: IngestBatch) -> QuerySet[Fact]:
    """Return the rows a registry batch applied, each with its entity, in file order (the
    caller has the batch: visible)."""
    return Fact.objects.filter(batch=batch).select_related("entity").order_by("id")


def batch_unresolved_rows(*, batch: IngestBatch) -> QuerySet[UnresolvedRow]:
    """Return a batch's rows whose subject could not be matched, with how each was handled."""
    return (
        UnresolvedRow.objects.filter(batch=batch)
        .select_related("resolved_entity", "resolved_by")
        .order_by("row_number", "id")
    )
