"""Reads of credit information: who may see what of an enterprise's archive, and the logs."""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts.choices import INSTITUTION_KINDS, OrgGroup, Role
from xinrong.accounts.models import User
from xinrong.accounts.selectors import region_prefix_for
from xinrong.common.errors import ApplicationError, NotFoundError, PermissionDeniedError
from xinrong.credit import permissions, services
from xinrong.credit.choices import (
    OPEN_DISPUTE_STATUSES,
    PUBLIC_CATEGORIES,
    DisputeStatus,
    RepairStatus,
    Scope,
)
from xinrong.credit.models import (
    Authorisation,
    Dispute,
    DisputeEvent,
    DisputeEvidence,
    QueryLog,
    RepairApplication,
    RepairEvent,
    RepairEvidence,
)
from xinrong.datahub.categories import CATEGORIES
from xinrong.datahub.models import Fact
from xinrong.datahub.selectors import fact_visible
from xinrong.enterprises.models import MarketEntity


@dataclass
class Archive:
    """What one reader may see of one enterprise's credit archive."""

    entity: MarketEntity
    categories: list[str]  # readable categories, in display order
    facts: OrderedDict[str, list[Fact]] = field(default_factory=OrderedDict)
    authorisation: Authorisation | None = None
    own: bool = False
    hidden: list[str] = field(default_factory=list)  # categories that need authorisation
    disputed: set[int] = field(default_factory=set)  # facts with an open dispute
    open_disputes: dict[int, int] = field(default_factory=dict)  # fact → its open dispute
    repaired: set[int] = field(default_factory=set)  # repaired facts (shown to the owner only)
    repair_pending: set[int] = field(default_factory=set)  # facts awaiting a repair decision


def authorisation_live(*, entity: MarketEntity, organisation_id: int) -> Authorisation | None:
    """Return the widest live authorisation of an institution for an entity."""
    now = timezone.now()
    live = list(
        Authorisation.objects.filter(
            entity=entity,
            institution_id=organisation_id,
            revoked_at__isnull=True,
            expires_at__gt=now,
        )
    )
    order = {Scope.FULL: 0, Scope.CHOSEN: 1, Scope.PUBLIC: 2}
    live.sort(key=lambda a: (order[Scope(a.scope)], -len(a.categories)))
    return live[0] if live else None


def _readable(user: User, entity: MarketEntity) -> tuple[list[str], Authorisation | None, bool]:
    all_cats = list(CATEGORIES)
    if user.group == OrgGroup.ENTERPRISE:
        if entity.organisation_id is None or user.organisation_id != entity.organisation_id:
            raise PermissionDeniedError("forbidden", _("只能查看本企业的信用档案"))
        return all_cats, None, True
    public = [c for c in all_cats if c in PUBLIC_CATEGORIES]
    org = user.organisation
    if org is None or org.kind not in INSTITUTION_KINDS:
        return public, None, False
    auth = authorisation_live(entity=entity, organisation_id=org.pk)
    if auth is None or auth.scope == Scope.PUBLIC:
        return public, auth, False
    if auth.scope == Scope.FULL:
        return all_cats, auth, False
    return [c for c in all_cats if c in PUBLIC_CATEGORIES or c in auth.categories], auth, False


def archive_read(*, user: User, entity: MarketEntity, channel: str) -> Archive:
    """Return the archive the user may see; log the read when it includes non-public data.

    Institutions never see negative information past its retention date (5 years), nor
    repaired penalty records; the enterprise sees these marked. Facts with an open dispute are
    flagged for every reader.
    """
    categories, auth, own = _readable(user, entity)
    qs = fact_visible().filter(entity=entity, category__in=categories).select_related("source")
    repaired = repaired_fact_ids(entity_ids=[entity.pk])
    if not own:
        qs = qs.exclude(negative=True, retention_until__lt=timezone.localdate())
        if repaired:
            qs = qs.exclude(pk__in=repaired)
    archive = Archive(
        entity=entity,
        categories=categories,
        authorisation=auth,
        own=own,
        hidden=[c for c in CATEGORIES if c not in categories],
    )
    for c in categories:
        archive.facts[c] = []
    ids = []
    for fact in qs.order_by("category", "-occurred_on", "-period", "-id"):
        archive.facts[fact.category].append(fact)
        ids.append(fact.pk)
    archive.open_disputes = open_dispute_by_fact(fact_ids=ids)
    archive.disputed = set(archive.open_disputes)
    if own:
        archive.repaired = repaired & set(ids)
        archive.repair_pending = pending_repair_fact_ids(fact_ids=ids)
    else:
        archive.open_disputes = {}  # the flag is public; the dispute itself is not
    non_public = [c for c in categories if c not in PUBLIC_CATEGORIES]
    if not own and auth is not None and non_public:
        services.query_log_record(
            entity=entity, user=user, authorisation=auth, channel=channel, categories=non_public
        )
    return archive


def authorisation_list(*, user: User, entity: MarketEntity) -> QuerySet[Authorisation]:
    """Return an enterprise's authorisations, for its own users."""
    if user.organisation_id is None or entity.organisation_id != user.organisation_id:
        raise PermissionDeniedError("forbidden", _("只能查看本企业的授权"))
    return entity.authorisations.select_related("institution", "granted_by")


def query_log_list(*, user: User, entity: MarketEntity) -> QuerySet[QueryLog]:
    """Return who read the enterprise's non-public data, for its own users."""
    if user.organisation_id is None or entity.organisation_id != user.organisation_id:
        raise PermissionDeniedError("forbidden", _("只能查看本企业的查询记录"))
    return entity.query_logs.select_related("user", "organisation")


# ============================================================================================
# Disputes (异议) and credit repair (信用修复): flags other features reuse, and visible lists.
# ============================================================================================

_ID_CHUNK = 5000  # ids per IN (...) list: within SQLite's parameter limit
_MAX_ID = 2**63 - 1  # a larger id cannot exist (64-bit keys); refuse it before the database


def _valid_id(pk: int) -> bool:
    return 0 < pk <= _MAX_ID


def _chunked(ids: Iterable[int]) -> Iterator[list[int]]:
    unique = sorted(set(ids))
    for start in range(0, len(unique), _ID_CHUNK):
        yield unique[start : start + _ID_CHUNK]


def open_dispute_by_fact(*, fact_ids: Iterable[int]) -> dict[int, int]:
    """Return {fact id: id of its open dispute} for those of ``fact_ids`` in dispute."""
    out: dict[int, int] = {}
    for part in _chunked(fact_ids):
        out.update(
            Dispute.objects.filter(fact_id__in=part, status__in=OPEN_DISPUTE_STATUSES).values_list(
                "fact_id", "pk"
            )
        )
    return out


def disputed_fact_ids(*, fact_ids: Iterable[int]) -> set[int]:
    """Return which of ``fact_ids`` have an open dispute (submitted or in review).

    Every place that shows a fact flags these as 「异议处理中」 (征信业管理条例 第二十五条:
    an objection is marked on the information while it is checked): the archive page and API,
    the export, and — through this same selector — the portrait and the PDF report.
    """
    return set(open_dispute_by_fact(fact_ids=fact_ids))


def repaired_fact_ids(*, entity_ids: Iterable[int] | None = None) -> set[int]:
    """Return the ids of facts whose credit repair was approved (optionally of some entities).

    A repaired penalty record stops being shown publicly and stops counting in the credit
    score. The scoring feature builder drops these ids from the facts it reads, e.g.::

        repaired = repaired_fact_ids(entity_ids=chunk_ids)
        facts = facts.exclude(pk__in=repaired)  # or a NumPy mask over fact ids

    Repairs are few (one approved row per repaired fact), so the set stays small even for a
    province; for a query without a Python set use :func:`exclude_repaired`.
    """
    qs = RepairApplication.objects.filter(status=RepairStatus.APPROVED)
    if entity_ids is None:
        return set(qs.values_list("fact_id", flat=True))
    out: set[int] = set()
    for part in _chunked(entity_ids):
        out.update(qs.filter(entity_id__in=part).values_list("fact_id", flat=True))
    return out


def exclude_repaired(facts: QuerySet[Fact]) -> QuerySet[Fact]:
    """Return ``facts`` without repaired ones, as one SQL query (NOT EXISTS)."""
    return facts.exclude(
        Exists(
            RepairApplication.objects.filter(fact_id=OuterRef("pk"), status=RepairStatus.APPROVED)
        )
    )


def pending_repair_fact_ids(*, fact_ids: Iterable[int]) -> set[int]:
    """Return which of ``fact_ids`` have a repair application waiting for a decision."""
    out: set[int] = set()
    for part in _chunked(fact_ids):
        out.update(
            RepairApplication.objects.filter(
                fact_id__in=part, status=RepairStatus.SUBMITTED
            ).values_list("fact_id", flat=True)
        )
    return out


def _case_scope(user: User, qs: QuerySet[Any]) -> QuerySet[Any]:
    """Limit disputes or repair applications to what the user may see.

    The enterprise sees its own; a department's data provider those about its sources; the
    operator's admins and auditors all (a sub-station: its region). Others see nothing.
    """
    if user.is_superuser:
        return qs
    if user.group == OrgGroup.ENTERPRISE and user.has_role(
        Role.ENTERPRISE_OWNER, Role.ENTERPRISE_AGENT
    ):
        return qs.filter(entity__organisation_id=user.organisation_id)
    if permissions.is_platform_operator(user) or permissions.is_platform_auditor(user):
        prefix = region_prefix_for(user)
        return qs.filter(entity__division_code__startswith=prefix) if prefix else qs
    if user.has_role(Role.DATA_PROVIDER) and user.organisation_id is not None:
        return qs.filter(source__organisation_id=user.organisation_id)
    raise PermissionDeniedError("forbidden", _("您无权查看异议与信用修复"))


def dispute_list(
    *, user: User, status: str = "", overdue: bool = False, today: dt.date | None = None
) -> QuerySet[Dispute]:
    """Return the disputes the user may see; open ones first, earliest deadline first.

    ``overdue`` keeps open disputes past their deadline (as of ``today``).
    """
    qs = _case_scope(
        user,
        Dispute.objects.select_related("entity", "source__organisation", "filed_by", "handled_by"),
    )
    if status:
        if status not in DisputeStatus.values:
            raise ApplicationError(
                "invalid_status",
                _("状态只能是：%(s)s") % {"s": " / ".join(DisputeStatus.values)},
                {"field": "status"},
                status=422,
            )
        qs = qs.filter(status=status)
    if overdue:
        qs = qs.filter(status__in=OPEN_DISPUTE_STATUSES, due_on__lt=today or timezone.localdate())
    closed = Case(
        When(status__in=OPEN_DISPUTE_STATUSES, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return qs.annotate(closed=closed).order_by("closed", "due_on", "-submitted_at", "-id")


def dispute_get(*, user: User, pk: int) -> Dispute:
    """Return one dispute the user may see, or raise NotFoundError."""
    dispute = (
        dispute_list(user=user).select_related("fact").filter(pk=pk).first()
        if _valid_id(pk)
        else None
    )
    if dispute is None:
        raise NotFoundError("dispute_not_found", _("异议不存在"), {"field": "dispute"})
    return dispute


def dispute_events(*, dispute: Dispute) -> QuerySet[DisputeEvent]:
    """Return a dispute's timeline, oldest first."""
    return dispute.events.select_related("actor").order_by("id")


def dispute_evidence(*, dispute: Dispute) -> QuerySet[DisputeEvidence]:
    """Return a dispute's evidence files."""
    return dispute.evidence.select_related("uploaded_by")


def dispute_counts(*, user: User, today: dt.date | None = None) -> dict[str, int]:
    """Return open and overdue disputes the user may see (for dashboards and badges)."""
    qs = _case_scope(user, Dispute.objects.filter(status__in=OPEN_DISPUTE_STATUSES))
    return qs.aggregate(
        open=Count("id"), overdue=Count("id", filter=Q(due_on__lt=today or timezone.localdate()))
    )


def repair_list(*, user: User, status: str = "") -> QuerySet[RepairApplication]:
    """Return the repair applications the user may see; pending ones first."""
    qs = _case_scope(
        user,
        RepairApplication.objects.select_related(
            "entity", "source__organisation", "filed_by", "decided_by", "fact"
        ),
    )
    if status:
        if status not in RepairStatus.values:
            raise ApplicationError(
                "invalid_status",
                _("状态只能是：%(s)s") % {"s": " / ".join(RepairStatus.values)},
                {"field": "status"},
                status=422,
            )
        qs = qs.filter(status=status)
    pending = Case(
        When(status=RepairStatus.SUBMITTED, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return qs.annotate(decided=pending).order_by("decided", "-submitted_at", "-id")


def repair_get(*, user: User, pk: int) -> RepairApplication:
    """Return one repair application the user may see, or raise NotFoundError."""
    application = repair_list(user=user).filter(pk=pk).first() if _valid_id(pk) else None
    if application is None:
        raise NotFoundError("repair_not_found", _("信用修复申请不存在"), {"field": "repair"})
    return application


def repair_events(*, application: RepairApplication) -> QuerySet[RepairEvent]:
    """Return a repair application's timeline, oldest first."""
    return application.events.select_related("actor").order_by("id")


def repair_evidence(*, application: RepairApplication) -> QuerySet[RepairEvidence]:
    """Return a repair application's evidence files."""
    return application.evidence.select_related("uploaded_by")


def own_fact_get(*, user: User, pk: int) -> Fact:
    """Return a visible fact of the user's own enterprise (to dispute or repair it)."""
    fact = (
        fact_visible().select_related("source", "entity").filter(pk=pk).first()
        if _valid_id(pk)
        else None
    )
    if fact is None or not permissions.is_entity_member(user, fact.entity):
        raise NotFoundError("fact_not_found", _("信用信息不存在"), {"field": "fact_id"})
    return fact
