"""Guarantee circles (担保圈): cycles of the directed guarantee graph, found with networkx."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator

import networkx as nx

from xinrong.credit.graph.base import (
    CIRCLE_SEARCH_LIMIT,
    IN_CHUNK,
    MAX_CIRCLE_LENGTH,
    MAX_CIRCLES,
    CircleSearch,
)
from xinrong.enterprises.choices import RelationKind
from xinrong.enterprises.models import Relationship

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


def chunks(ids: list[int], size: int = IN_CHUNK) -> Iterator[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def _guarantees_from(guarantors: list[int]) -> list[tuple[int, int]]:
    """Return (guarantor, guaranteed) pairs of entities guaranteeing among ``guarantors``."""
    pairs: list[tuple[int, int]] = []
    for chunk in chunks(guarantors):
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
