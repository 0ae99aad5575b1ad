"""The relationship graph (图谱): who is tied to an entity within a few hops, and the risks there.

Nodes are market entities and natural persons. Edges are the published ties (legal
representative, shareholding, office, actual control: person or entity → entity), guarantees
(directed, guarantor → the entity whose debts it guarantees), a shared registered address between
entities and a shared phone number between persons. Guarantee circles (担保圈) are cycles of the
directed guarantee graph, found with networkx. Related-party risk flags come from registration
status, the data hub's negative facts still within retention, and membership of a guarantee
circle, computed for all nodes in a few queries.

Everything here only reads, and reads what it is told: which layers a reader may see (guarantees,
phones, which fact categories) is decided by ``credit.selectors.relationship_graph``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import networkx as nx
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.common.masking import mask_name
from xinrong.credit.choices import PUBLIC_CATEGORIES, EdgeKind, NodeKind, RiskFlag
from xinrong.credit.features import exclude_repaired
from xinrong.credit.models import Authorisation
from xinrong.datahub.categories import CATEGORIES
from xinrong.datahub.selectors import fact_visible
from xinrong.enterprises.choices import (
    REGISTRATION_KINDS,
    EntityType,
    RegistrationStatus,
    RelationKind,
)
from xinrong.enterprises.models import MarketEntity, Person, Relationship

MAX_HOPS = 3
MAX_NODES = 300
# Circles are enumerated up to this many members; longer ones still raise the member's flag.
MAX_CIRCLE_LENGTH = 6
MAX_CIRCLES = 50
# Entities the circle search may walk through before it stops (and says so).
CIRCLE_SEARCH_LIMIT = 20_000
IN_CHUNK = 900  # ids per IN (...) list, below SQLite's historical 999-variable limit

ENTITY = "e"
PERSON = "p"
NodeKey = tuple[str, int]  # (ENTITY, market entity pk) or (PERSON, person pk)

RELATION_EDGE: dict[str, str] = {
    RelationKind.LEGAL_REPRESENTATIVE: EdgeKind.LEGAL_REPRESENTATIVE,
    RelationKind.SHAREHOLDER: EdgeKind.SHAREHOLDER,
    RelationKind.EXECUTIVE: EdgeKind.EXECUTIVE,
    RelationKind.ACTUAL_CONTROLLER: EdgeKind.ACTUAL_CONTROLLER,
    RelationKind.GUARANTOR: EdgeKind.GUARANTEE,
}
UNDIRECTED = frozenset({EdgeKind.SHARED_ADDRESS, EdgeKind.SHARED_PHONE})
# When the node limit cuts a hop, neighbours reached by stronger ties are kept first.
PRIORITY: dict[str, int] = {
    EdgeKind.GUARANTEE: 0,
    EdgeKind.LEGAL_REPRESENTATIVE: 1,
    EdgeKind.ACTUAL_CONTROLLER: 1,
    EdgeKind.SHAREHOLDER: 2,
    EdgeKind.EXECUTIVE: 3,
    EdgeKind.SHARED_PHONE: 4,
    EdgeKind.SHARED_ADDRESS: 5,
}
FLAGGED_STATUSES: dict[str, RiskFlag] = {
    RegistrationStatus.REVOKED: RiskFlag.REVOKED,
    RegistrationStatus.CANCELLED: RiskFlag.CANCELLED,
}
DISHONEST_CATEGORY = "judicial"  # its ``flag`` column is 失信被执行人


@dataclass(frozen=True)
class Flag:
    """One risk shown on a node: a code, its label and what raised it."""

    code: str
    label: str
    detail: str = ""


@dataclass
class Node:
    """An entity or a person in the graph; a person's name is already masked."""

    key: NodeKey
    kind: str  # NodeKind
    label: str
    hop: int
    uscc: str = ""
    status: str = ""  # registration status of an entity
    flags: list[Flag] = field(default_factory=list)


@dataclass
class Edge:
    """A tie between two nodes; guarantees point from the guarantor to the guaranteed entity."""

    source: NodeKey
    target: NodeKey
    kind: str  # EdgeKind
    label: str
    amount: Decimal | None = None  # guarantees: the sum of the known guaranteed amounts (yuan)

    @property
    def directed(self) -> bool:
        """Return False for the symmetric "shared address/phone" ties."""
        return self.kind not in UNDIRECTED


@dataclass(frozen=True)
class CircleMember:
    """An entity of a guarantee circle (it may lie beyond the graph's hop limit)."""

    entity_id: int
    uscc: str
    name: str


@dataclass
class Circle:
    """A guarantee circle: each member guarantees the next, the last guarantees the first."""

    members: list[CircleMember]
    amount: Decimal | None = None  # sum of the known amounts guaranteed along the circle


@dataclass
class Graph:
    """The ego graph of one entity and what the reader was allowed to see of it."""

    center: NodeKey
    hops: int
    nodes: dict[NodeKey, Node]
    edges: list[Edge]
    circles: list[Circle] = field(default_factory=list)
    truncated: bool = False  # the node limit cut the graph
    circles_truncated: bool = False  # more circles exist than are listed
    max_nodes: int = MAX_NODES
    guarantees: bool = False  # guarantees, circles and shared phones were included
    fact_categories: tuple[str, ...] = ()  # categories whose negative facts raise flags
    own: bool = False  # read by the enterprise itself
    authorisation: Authorisation | None = None  # the institution's authorisation, if any


@dataclass(frozen=True)
class CircleSearch:
    """Guarantee circles found, whether the listing stopped early, and every entity in one."""

    circles: list[list[int]]
    truncated: bool
    in_circle: frozenset[int]


# --- guarantee circles -----------------------------------------------------------------------


def _canonical(cycle: list[int]) -> list[int]:
    """Rotate a cycle to start at its smallest id, keeping the guarantee direction."""
    i = cycle.index(min(cycle))
    return cycle[i:] + cycle[:i]


def find_circles(
    edges: Iterable[tuple[int, int]],
    *,
    through: Collection[int] | None = None,
    max_length: int = MAX_CIRCLE_LENGTH,
    limit: int = MAX_CIRCLES,
) -> CircleSearch:
    """Return the cycles of a guarantee graph given as (guarantor, guaranteed) pairs.

    Only cycles through an entity of ``through`` are listed (all when it is None), each as the
    ordered ids starting at the smallest; at most ``limit`` of at most ``max_length`` members.
    ``in_circle`` holds every entity of a strongly connected component that meets ``through``:
    each of them lies on some cycle, however long.
    """
    graph = nx.DiGraph()
    graph.add_edges_from((a, b) for a, b in edges if a != b)
    seeds = None if through is None else set(through)
    keep: set[int] = set()
    for component in nx.strongly_connected_components(graph):
        if len(component) > 1 and (seeds is None or not seeds.isdisjoint(component)):
            keep |= component
    if not keep:
        return CircleSearch([], False, frozenset())
    found: list[list[int]] = []
    truncated = False
    cycles = nx.simple_cycles(graph.subgraph(keep), length_bound=max_length)
    for examined, cycle in enumerate(cycles, start=1):
        if seeds is None or not seeds.isdisjoint(cycle):
            if len(found) == limit:
                truncated = True
                break
            found.append(_canonical(list(cycle)))
        if examined >= limit * 20:  # cycles beside the seeds' ones: stop, and say so
            truncated = True
            break
    found.sort(key=lambda c: (len(c), c))
    return CircleSearch(found, truncated, frozenset(keep))


def _chunks(ids: list[int], size: int = IN_CHUNK) -> Iterator[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def _guarantees_from(guarantors: list[int]) -> list[tuple[int, int]]:
    """Return (guarantor, guaranteed) pairs of entities guaranteeing among ``guarantors``."""
    pairs: list[tuple[int, int]] = []
    for chunk in _chunks(guarantors):
        pairs.extend(
            Relationship.objects.filter(kind=RelationKind.GUARANTOR, holder_entity_id__in=chunk)
            .order_by("holder_entity_id", "entity_id")
            .values_list("holder_entity_id", "entity_id")
        )
    return pairs


def circle_search(
    entity_ids: Iterable[int] | None = None,
    *,
    max_length: int = MAX_CIRCLE_LENGTH,
    limit: int = MAX_CIRCLES,
) -> CircleSearch:
    """Find guarantee circles through ``entity_ids``, or in the whole registry when None.

    A circle of k members through an entity lies within k − 1 guarantee steps of it, so the
    search walks ``max_length`` steps forward from the entities (one indexed query per step)
    instead of reading every guarantee of the registry.
    """
    if entity_ids is None:
        pairs = list(
            Relationship.objects.filter(kind=RelationKind.GUARANTOR, holder_entity_id__isnull=False)
            .order_by("holder_entity_id", "entity_id")
            .values_list("holder_entity_id", "entity_id")
        )
        return find_circles(pairs, max_length=max_length, limit=limit)
    seeds = set(entity_ids)
    seen = set(seeds)
    frontier = sorted(seeds)
    pairs = []
    cut = False
    for _step in range(max_length):
        if not frontier:
            break
        step = _guarantees_from(frontier)
        pairs.extend(step)
        frontier = sorted({b for _a, b in step} - seen)
        seen.update(frontier)
        if len(seen) > CIRCLE_SEARCH_LIMIT:
            cut = True
            break
    result = find_circles(pairs, through=seeds, max_length=max_length, limit=limit)
    if cut:
        return CircleSearch(result.circles, True, result.in_circle)
    return result


def guarantee_circles(
    entity_ids: Iterable[int] | None = None,
    *,
    max_length: int = MAX_CIRCLE_LENGTH,
    limit: int = MAX_CIRCLES,
) -> list[list[int]]:
    """Return the guarantee circles through ``entity_ids`` (or all), as ordered entity ids.

    ``[a, b, c]`` means a guarantees b's debts, b guarantees c's and c guarantees a's.
    """
    return circle_search(entity_ids, max_length=max_length, limit=limit).circles


# --- related-party risk flags ----------------------------------------------------------------


def risk_flags(
    entities: dict[int, str],
    *,
    categories: Collection[str],
    in_circle: Collection[int] = (),
    published_dishonest: bool = False,
) -> dict[int, list[Flag]]:
    """Return the risk flags of entities given as {pk: registration status}, in one fact query.

    Negative facts count only in ``categories`` (what the reader may see), only until their
    retention date (征信业管理条例 第十六条) and not once a credit repair was approved, as in
    the credit archive an institution reads.
    With ``published_dishonest`` the 失信被执行人 listing counts even outside ``categories``:
    courts publish it, so it is no one's non-public data.
    """
    flags: dict[int, list[Flag]] = defaultdict(list)
    ids = sorted(entities)
    negative: dict[int, list[tuple[str, int]]] = defaultdict(list)
    dishonest: dict[int, int] = defaultdict(int)
    readable = sorted(c for c in categories if c in CATEGORIES)
    wanted = Q(category__in=readable)
    if published_dishonest:
        wanted |= Q(category=DISHONEST_CATEGORY, flag=True)
    if ids and (readable or published_dishonest):
        today = timezone.localdate()
        for chunk in _chunks(ids):
            rows = (
                exclude_repaired(fact_visible())
                .filter(wanted, entity_id__in=chunk, negative=True)
                .exclude(retention_until__lt=today)
                .values_list("entity_id", "category")
                .annotate(
                    n=Count("id"),
                    dishonest=Count("id", filter=Q(category=DISHONEST_CATEGORY, flag=True)),
                )
                .order_by()
            )
            for entity_id, category, n, n_dishonest in rows:
                if category in readable:
                    negative[entity_id].append((category, n))
                dishonest[entity_id] += n_dishonest
    circle_members = set(in_circle)
    for pk in ids:
        if dishonest.get(pk):
            flags[pk].append(
                Flag(
                    RiskFlag.DISHONEST,
                    str(RiskFlag.DISHONEST.label),
                    _("失信被执行人记录 %(n)d 条") % {"n": dishonest[pk]},
                )
            )
        if negative.get(pk):
            parts = [
                _("%(category)s %(n)d 条") % {"category": _(CATEGORIES[c].name), "n": n}
                for c, n in sorted(negative[pk])
            ]
            flags[pk].append(
                Flag(RiskFlag.NEGATIVE_INFO, str(RiskFlag.NEGATIVE_INFO.label), "；".join(parts))
            )
        status_flag = FLAGGED_STATUSES.get(entities[pk])
        if status_flag is not None:
            flags[pk].append(Flag(status_flag, str(status_flag.label)))
        if pk in circle_members:
            flags[pk].append(
                Flag(
                    RiskFlag.GUARANTEE_CIRCLE,
                    str(RiskFlag.GUARANTEE_CIRCLE.label),
                    _("与其他企业互保或循环担保"),
                )
            )
    return dict(flags)


# --- the ego graph ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _EntityRow:
    pk: int
    uscc: str
    name: str
    entity_type: str
    status: str
    address_key: str
    legal_rep: int | None


_ENTITY_COLUMNS = (
    "pk",
    "uscc",
    "name",
    "entity_type",
    "registration_status",
    "address_key",
    "legal_representative_id",
)


@dataclass(frozen=True)
class _PersonRow:
    pk: int
    name: str
    phone_index: str


@dataclass(frozen=True)
class _Tie:
    """One registry row (or legal-representative field) between two nodes."""

    source: NodeKey
    target: NodeKey
    kind: str
    share_ratio: Decimal | None = None
    title: str = ""
    amount: Decimal | None = None


@dataclass
class _EdgeSum:
    """The ties of one kind between two nodes, merged (several guarantee contracts add up)."""

    source: NodeKey
    target: NodeKey
    kind: str
    share_ratio: Decimal | None = None
    titles: list[str] = field(default_factory=list)
    amount: Decimal | None = None
    count: int = 0

    def add(self, tie: _Tie) -> None:
        self.count += 1
        if tie.share_ratio is not None:
            self.share_ratio = (self.share_ratio or Decimal(0)) + tie.share_ratio
        if tie.title and tie.title not in self.titles:
            self.titles.append(tie.title)
        if tie.amount is not None:
            self.amount = (self.amount or Decimal(0)) + tie.amount


def _number(value: Decimal) -> str:
    """Format a decimal without trailing zeros or exponent: 35.0000 → 35, 12.50 → 12.5."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def yuan_label(amount: Decimal) -> str:
    """Return an amount in yuan as Chinese finance pages show it: 500万元, 8000元."""
    if abs(amount) >= 10000:
        return _("%(n)s万元") % {"n": _number((amount / 10000).quantize(Decimal("0.01")))}
    return _("%(n)s元") % {"n": _number(amount.quantize(Decimal("0.01")))}


def _edge_label(acc: _EdgeSum) -> str:
    if acc.kind == EdgeKind.SHAREHOLDER:
        if acc.share_ratio is None:
            return _("持股")
        return _("持股 %(ratio)s%%") % {"ratio": _number(acc.share_ratio)}
    if acc.kind == EdgeKind.EXECUTIVE:
        return "、".join(acc.titles) if acc.titles else _("高管")
    if acc.kind == EdgeKind.LEGAL_REPRESENTATIVE:
        return _("法定代表人")
    if acc.kind == EdgeKind.ACTUAL_CONTROLLER:
        return _("实际控制人")
    if acc.kind == EdgeKind.GUARANTEE:
        label = _("担保")
        if acc.amount is not None:
            label = _("担保 %(amount)s") % {"amount": yuan_label(acc.amount)}
        if acc.count > 1:
            label += _("（%(n)d笔）") % {"n": acc.count}
        return label
    return str(EdgeKind(acc.kind).label)


class _Builder:
    """Breadth-first walk from the centre, a few set-based queries per hop."""

    def __init__(
        self,
        center: MarketEntity,
        *,
        hops: int,
        guarantees: bool,
        shared_phones: bool,
        max_nodes: int,
    ) -> None:
        self.hops = hops
        self.guarantees = guarantees
        self.shared_phones = shared_phones
        self.max_nodes = max_nodes
        kinds = set(REGISTRATION_KINDS)
        if guarantees:
            kinds.add(RelationKind.GUARANTOR)
        self.kinds = sorted(kinds)
        self.hop: dict[NodeKey, int] = {}
        self.entities: dict[int, _EntityRow] = {}
        self.persons: dict[int, _PersonRow] = {}
        self.ties: dict[tuple[str, int], _Tie] = {}  # by relationship id (or legal-rep field)
        self.truncated = False
        self.center: NodeKey = (ENTITY, center.pk)
        self.entities[center.pk] = _EntityRow(
            center.pk,
            center.uscc,
            center.name,
            center.entity_type,
            center.registration_status,
            center.address_key,
            center.legal_representative_id,
        )

    # queries -------------------------------------------------------------------------------

    def _relationships(self, entity_ids: list[int], person_ids: list[int]) -> list[tuple[Any, ...]]:
        cond = Q()
        if entity_ids:
            cond |= Q(entity_id__in=entity_ids) | Q(holder_entity_id__in=entity_ids)
        if person_ids:
            cond |= Q(person_id__in=person_ids)
        if not cond:
            return []
        return list(
            Relationship.objects.filter(cond, kind__in=self.kinds)
            .order_by("pk")
            .values_list(
                "pk",
                "entity_id",
                "kind",
                "person_id",
                "holder_entity_id",
                "share_ratio",
                "title",
                "guaranteed_amount",
            )
        )

    def _entity_rows(self, cond: Q) -> list[_EntityRow]:
        return [
            _EntityRow(*row)
            for row in MarketEntity.objects.filter(cond)
            .order_by("pk")
            .values_list(*_ENTITY_COLUMNS)
        ]

    def _person_rows(self, cond: Q) -> list[_PersonRow]:
        return [
            _PersonRow(*row)
            for row in Person.objects.filter(cond)
            .order_by("pk")
            .values_list("pk", "name", "phone_index")
        ]

    def _load(self, keys: list[NodeKey]) -> None:
        """Read the rows of newly added nodes not read yet (one query per node type)."""
        entity_ids = [pk for kind, pk in keys if kind == ENTITY and pk not in self.entities]
        person_ids = [pk for kind, pk in keys if kind == PERSON and pk not in self.persons]
        if entity_ids:
            for row in self._entity_rows(Q(pk__in=entity_ids)):
                self.entities[row.pk] = row
        if person_ids:
            for person in self._person_rows(Q(pk__in=person_ids)):
                self.persons[person.pk] = person

    # walk ----------------------------------------------------------------------------------

    def _tie_from_row(self, row: tuple[Any, ...]) -> _Tie:
        _pk, entity_id, kind, person_id, holder_id, ratio, title, amount = row
        source: NodeKey = (PERSON, person_id) if person_id is not None else (ENTITY, holder_id)
        return _Tie(source, (ENTITY, entity_id), RELATION_EDGE[kind], ratio, title, amount)

    def _add_rows(self, rows: list[tuple[Any, ...]]) -> list[_Tie]:
        ties = []
        for row in rows:
            tie = self._tie_from_row(row)
            self.ties.setdefault(("rel", row[0]), tie)
            ties.append(tie)
        return ties

    def _legal_rep_tie(self, entity: _EntityRow) -> _Tie | None:
        if entity.legal_rep is None:
            return None
        tie = _Tie((PERSON, entity.legal_rep), (ENTITY, entity.pk), EdgeKind.LEGAL_REPRESENTATIVE)
        self.ties.setdefault(("rep", entity.pk), tie)
        return tie

    def _expand(self, frontier: list[NodeKey]) -> dict[NodeKey, int]:
        """Return the neighbours of the frontier not in the graph yet, with their priority."""
        entity_ids = [pk for kind, pk in frontier if kind == ENTITY]
        person_ids = [pk for kind, pk in frontier if kind == PERSON]
        found: dict[NodeKey, int] = {}

        def reach(key: NodeKey, edge_kind: str) -> None:
            if key in self.hop:
                return
            rank = PRIORITY[edge_kind]
            if rank < found.get(key, len(PRIORITY)):
                found[key] = rank

        for tie in self._add_rows(self._relationships(entity_ids, person_ids)):
            reach(tie.source, tie.kind)
            reach(tie.target, tie.kind)
        for pk in entity_ids:
            rep = self._legal_rep_tie(self.entities[pk])
            if rep is not None:
                reach(rep.source, rep.kind)
        addresses = sorted({self.entities[pk].address_key for pk in entity_ids} - {""})
        cond = Q()
        if person_ids:
            cond |= Q(legal_representative_id__in=person_ids)
        if addresses:
            cond |= Q(address_key__in=addresses)
        if cond:
            for row in self._entity_rows(cond):
                self.entities.setdefault(row.pk, row)
                if row.legal_rep is not None and row.legal_rep in person_ids:
                    rep = self._legal_rep_tie(row)
                    assert rep is not None
                    reach(rep.target, rep.kind)
                if row.address_key and row.address_key in addresses:
                    reach((ENTITY, row.pk), EdgeKind.SHARED_ADDRESS)
        if self.shared_phones and person_ids:
            phones = sorted({self.persons[pk].phone_index for pk in person_ids} - {""})
            if phones:
                for person in self._person_rows(Q(phone_index__in=phones)):
                    self.persons.setdefault(person.pk, person)
                    reach((PERSON, person.pk), EdgeKind.SHARED_PHONE)
        return found

    def walk(self) -> None:
        self.hop[self.center] = 0
        frontier = [self.center]
        expanded: set[NodeKey] = set()
        for hop in range(1, self.hops + 1):
            found = self._expand(frontier)
            expanded.update(frontier)
            new = sorted(found, key=lambda key: (found[key], key))
            room = self.max_nodes - len(self.hop)
            if len(new) > room:
                new = new[:room]
                self.truncated = True
            for key in new:
                self.hop[key] = hop
            self._load(new)
            frontier = new
            if self.truncated or not frontier:
                break
        self._close(sorted(set(self.hop) - expanded))

    def _close(self, outer: list[NodeKey]) -> None:
        """Read the ties among nodes that were never expanded (the outer ring of the graph)."""
        entity_ids = [pk for kind, pk in outer if kind == ENTITY]
        person_ids = [pk for kind, pk in outer if kind == PERSON]
        if not entity_ids:
            return
        cond = Q(person_id__in=person_ids) if person_ids else Q()
        cond |= Q(holder_entity_id__in=entity_ids)
        self._add_rows(
            list(
                Relationship.objects.filter(cond, entity_id__in=entity_ids, kind__in=self.kinds)
                .order_by("pk")
                .values_list(
                    "pk",
                    "entity_id",
                    "kind",
                    "person_id",
                    "holder_entity_id",
                    "share_ratio",
                    "title",
                    "guaranteed_amount",
                )
            )
        )
        for pk in entity_ids:
            self._legal_rep_tie(self.entities[pk])

    # result --------------------------------------------------------------------------------

    def _star(self, groups: dict[str, list[NodeKey]], kind: str) -> list[Edge]:
        """Link each group of nodes sharing an address (or phone) to its nearest member."""
        edges: list[Edge] = []
        for _value, keys in sorted(groups.items()):
            if len(keys) < 2:
                continue
            keys.sort(key=lambda k: (self.hop[k], k))
            anchor = keys[0]
            label = str(EdgeKind(kind).label)
            edges.extend(Edge(anchor, other, kind, label) for other in keys[1:])
        return edges

    def edges(self) -> list[Edge]:
        sums: dict[tuple[NodeKey, NodeKey, str], _EdgeSum] = {}
        for _ref, tie in sorted(self.ties.items()):
            if tie.source not in self.hop or tie.target not in self.hop:
                continue
            key = (tie.source, tie.target, tie.kind)
            if key not in sums:
                sums[key] = _EdgeSum(tie.source, tie.target, tie.kind)
            if tie.kind == EdgeKind.LEGAL_REPRESENTATIVE and sums[key].count:
                continue  # the registry row and the entity's field name the same person
            sums[key].add(tie)
        edges = [
            Edge(acc.source, acc.target, acc.kind, _edge_label(acc), acc.amount)
            for acc in sums.values()
        ]
        by_address: dict[str, list[NodeKey]] = defaultdict(list)
        by_phone: dict[str, list[NodeKey]] = defaultdict(list)
        for kind, pk in self.hop:
            if kind == ENTITY and self.entities[pk].address_key:
                by_address[self.entities[pk].address_key].append((kind, pk))
            elif kind == PERSON and self.shared_phones and self.persons[pk].phone_index:
                by_phone[self.persons[pk].phone_index].append((kind, pk))
        edges += self._star(by_address, EdgeKind.SHARED_ADDRESS)
        edges += self._star(by_phone, EdgeKind.SHARED_PHONE)
        edges.sort(key=lambda e: (e.source, e.target, e.kind))
        return edges

    def nodes(self) -> dict[NodeKey, Node]:
        nodes: dict[NodeKey, Node] = {}
        for key, hop in sorted(self.hop.items(), key=lambda kv: (kv[1], kv[0])):
            kind, pk = key
            if kind == ENTITY:
                row = self.entities[pk]
                node_kind = (
                    NodeKind.INDIVIDUAL_BUSINESS
                    if row.entity_type == EntityType.INDIVIDUAL_BUSINESS
                    else NodeKind.ENTERPRISE
                )
                nodes[key] = Node(key, node_kind, row.name, hop, uscc=row.uscc, status=row.status)
            else:
                nodes[key] = Node(key, NodeKind.PERSON, mask_name(self.persons[pk].name), hop)
        return nodes


def _guarantee_amounts(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], Decimal]:
    """Return the summed amounts of the given guarantor → guaranteed pairs (one query)."""
    if not pairs:
        return {}
    guarantors = sorted({a for a, _b in pairs})
    out: dict[tuple[int, int], Decimal] = {}
    for chunk in _chunks(guarantors):
        rows = Relationship.objects.filter(
            kind=RelationKind.GUARANTOR,
            holder_entity_id__in=chunk,
            guaranteed_amount__isnull=False,
        ).values_list("holder_entity_id", "entity_id", "guaranteed_amount")
        for a, b, amount in rows:
            if (a, b) in pairs and amount is not None:
                out[(a, b)] = out.get((a, b), Decimal(0)) + amount
    return out


def ego_graph(
    entity: MarketEntity,
    *,
    hops: int,
    guarantees: bool,
    shared_phones: bool,
    fact_categories: Collection[str],
    max_nodes: int = MAX_NODES,
) -> Graph:
    """Build the graph of everything within ``hops`` ties of ``entity`` (at most ``max_nodes``).

    ``guarantees`` adds guarantee edges and circles, ``shared_phones`` the persons sharing a
    phone number; negative facts of ``fact_categories`` raise flags. The query count depends on
    ``hops``, not on the number of nodes.
    """
    if not 1 <= hops <= MAX_HOPS:
        raise ValueError(hops)
    builder = _Builder(
        entity,
        hops=hops,
        guarantees=guarantees,
        shared_phones=shared_phones,
        max_nodes=max_nodes,
    )
    builder.walk()
    nodes = builder.nodes()
    edges = builder.edges()
    entity_ids = sorted(pk for kind, pk in nodes if kind == ENTITY)
    search = CircleSearch([], False, frozenset())
    circles: list[Circle] = []
    if guarantees:
        search = circle_search(entity_ids)
        members = sorted({pk for c in search.circles for pk in c} - set(builder.entities))
        for row in builder._entity_rows(Q(pk__in=members)) if members else []:
            builder.entities[row.pk] = row
        pairs = {(a, b) for c in search.circles for a, b in zip(c, c[1:] + c[:1], strict=True)}
        amounts = _guarantee_amounts(pairs)
        for ids in search.circles:
            steps = [amounts.get((a, b)) for a, b in zip(ids, ids[1:] + ids[:1], strict=True)]
            known = [s for s in steps if s is not None]
            circles.append(
                Circle(
                    [
                        CircleMember(pk, builder.entities[pk].uscc, builder.entities[pk].name)
                        for pk in ids
                    ],
                    sum(known, Decimal(0)) if known else None,
                )
            )
    # The centre's own facts count as far as the reader may see them. Related parties never
    # consented to this reader: only their public categories and the published 失信 listing.
    centre = builder.center[1]
    flags = risk_flags(
        {pk: builder.entities[pk].status for pk in entity_ids if pk == centre},
        categories=fact_categories,
        in_circle=search.in_circle,
    )
    flags.update(
        risk_flags(
            {pk: builder.entities[pk].status for pk in entity_ids if pk != centre},
            categories=[c for c in fact_categories if c in PUBLIC_CATEGORIES],
            in_circle=search.in_circle,
            published_dishonest=True,
        )
    )
    for pk, entity_flags in flags.items():
        nodes[(ENTITY, pk)].flags = entity_flags
    return Graph(
        center=builder.center,
        hops=hops,
        nodes=nodes,
        edges=edges,
        circles=circles,
        truncated=builder.truncated,
        circles_truncated=search.truncated,
        max_nodes=max_nodes,
        guarantees=guarantees,
        fact_categories=tuple(sorted(fact_categories)),
    )
