"""Reads of the archive: what a user may read of an enterprise (logged), graph access, consents."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from django.db import DEFAULT_DB_ALIAS
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts.choices import INSTITUTION_KINDS, OrgGroup
from xinrong.accounts.models import User
from xinrong.common.errors import ApplicationError, NotFoundError, PermissionDeniedError
from xinrong.credit import rules
from xinrong.credit.choices import GRAPH_CONTENT, GRAPH_HOPS, PUBLIC_CATEGORIES, Scope
from xinrong.credit.graph.base import Graph
from xinrong.credit.graph.ego import ego_graph
from xinrong.credit.models import Authorisation, QueryLog
from xinrong.credit.selectors.common import valid_id
from xinrong.credit.selectors.disputes import open_dispute_by_fact
from xinrong.credit.selectors.repair import pending_repair_fact_ids, repaired_fact_ids
from xinrong.credit.services import archive as archive_services
from xinrong.datahub.categories import CATEGORIES
from xinrong.datahub.models import Fact
from xinrong.datahub.selectors import fact_of_entity, fact_visible
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
    """Return the widest live authorisation of an institution for an entity.

    Always read from the primary database, also inside a view that reads from the replica: a
    consent revoked a moment ago must stop the very next read (a replica may lag).
    """
    now = timezone.now()
    live = list(
        Authorisation.objects.using(DEFAULT_DB_ALIAS).filter(
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


def archive_read(*, user: User, entity: MarketEntity, channel: str, log: bool = True) -> Archive:
    """Return the archive the user may see; log the read when it includes non-public data.

    Negative information past its retention date (5 years from the end of the behaviour) is
    removed for every reader, the enterprise included (征信业管理条例 第十六条). Institutions
    never see repaired penalty records; the enterprise sees these marked. Facts with an open
    dispute are
    flagged for every reader. A caller passing ``log=False`` writes the query log itself (the
    credit report logs one row naming the report).
    """
    categories, auth, own = _readable(user, entity)
    qs = fact_of_entity(entity).filter(category__in=categories).select_related("source")
    repaired = repaired_fact_ids(entity_ids=[entity.pk])
    qs = qs.exclude(negative=True, retention_until__lt=timezone.localdate())
    if not own and repaired:
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
    if log and not own and auth is not None and non_public:
        archive_services.query_log_record(
            entity=entity, user=user, authorisation=auth, channel=channel, categories=non_public
        )
    return archive


def graph_access(
    *, user: User, entity: MarketEntity
) -> tuple[list[str], Authorisation | None, bool]:
    """Return (readable categories, authorisation, own) for the entity's graph, or refuse.

    The enterprise sees its own graph; an institution needs a live authorisation from it (its
    scope decides how much shows); government and the operator see the public layer, as in the
    archive. Reading nothing, this writes no query log: the page shell calls it.
    """
    categories, auth, own = _readable(user, entity)
    org = user.organisation
    if not own and auth is None and org is not None and org.kind in INSTITUTION_KINDS:
        raise PermissionDeniedError(
            "authorisation_required",
            _("查看“%(name)s”的关系图谱须取得该企业的有效查询授权") % {"name": entity.name},
        )
    return categories, auth, own


def relationship_graph(*, user: User, entity: MarketEntity, hops: int, channel: str) -> Graph:
    """Return the entity's relationship graph as the user may see it; log non-public reads.

    Published ties (legal representative, shareholders, officers, controllers) and shared
    registered addresses are public. Guarantees, guarantee circles and shared phone numbers show
    to the enterprise itself and under a full-scope authorisation. Risk flags count the negative
    facts (within retention) of the categories the reader may see, as the archive does; a read
    that shows anything non-public is written to the enterprise's query log.
    """
    if isinstance(hops, bool) or hops not in GRAPH_HOPS:
        raise ApplicationError(
            "invalid_hops",
            _("字段“hops”（展开层数）只能是 1、2 或 3，收到的是“%(value)s”") % {"value": hops},
            {"field": "hops"},
            status=422,
        )
    categories, auth, own = graph_access(user=user, entity=entity)
    private = own or (auth is not None and auth.scope == Scope.FULL)
    graph = ego_graph(
        entity, hops=hops, guarantees=private, shared_phones=private, fact_categories=categories
    )
    graph.own, graph.authorisation = own, auth
    non_public = [c for c in categories if c not in PUBLIC_CATEGORIES]
    if not own and auth is not None and (non_public or private):
        archive_services.query_log_record(
            entity=entity,
            user=user,
            authorisation=auth,
            channel=channel,
            categories=[*non_public, *([GRAPH_CONTENT] if private else [])],
        )
    return graph


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


def own_fact_get(*, user: User, pk: int) -> Fact:
    """Return a visible fact of the user's own enterprise (to dispute or repair it)."""
    fact = (
        fact_visible().select_related("source", "entity").filter(pk=pk).first()
        if valid_id(pk)
        else None
    )
    if fact is None or not rules.is_entity_member(user, fact.entity):
        raise NotFoundError("fact_not_found", _("信用信息不存在"), {"field": "fact_id"})
    return fact
