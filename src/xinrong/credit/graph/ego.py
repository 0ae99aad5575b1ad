"""The ego graph: who is tied to an entity within a few hops."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from xinrong.common.masking import mask_name
from xinrong.common.templatetags.money import yuan_text
from xinrong.credit.choices import PUBLIC_CATEGORIES, EdgeKind, NodeKind
from xinrong.credit.graph.base import (
    ENTITY,
    MAX_HOPS,
    MAX_NODES,
    PERSON,
    PRIORITY,
    RELATION_EDGE,
    Circle,
    CircleMember,
    CircleSearch,
    Edge,
    Graph,
    Node,
    NodeKey,
)
from xinrong.credit.graph.circles import chunks, circle_search
from xinrong.credit.graph.flags import risk_flags
from xinrong.enterprises.choices import REGISTRATION_KINDS, EntityType, RelationKind
from xinrong.enterprises.models import MarketEntity, Person, Relationship

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
    """Return an amount in yuan exactly, as pages show it: "5,000,000 元" / "CNY 5,000,000"."""
    return yuan_text(amount)


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
    for chunk in chunks(guarantors):
        rows = Relationship.objects.filter(
            kind=RelationKind.GUARANTOR, holder_entity_id__in=chunk, guaranteed_amount__isnull=False
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
        entity, hops=hops, guarantees=guarantees, shared_phones=shared_phones, max_nodes=max_nodes
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
