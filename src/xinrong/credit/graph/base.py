"""The relationship graph's limits, node keys and data classes."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from xinrong.credit.choices import EdgeKind, RiskFlag
from xinrong.credit.models import Authorisation
from xinrong.enterprises.choices import RegistrationStatus, RelationKind

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
