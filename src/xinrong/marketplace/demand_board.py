"""The institutions' demand hall: open demands ranked for one institution.

The institutions' demand hall ranks the other way round: open demands for one institution.
Its service regions are the union of its published products' regions (empty, or any product
open everywhere, means everywhere); demands outside them are filtered out. The score in 0–100
uses ``HALL_WEIGHTS``: ``amount`` (1 when some product of the institution covers the amount,
falling by 1 per factor of 10 away from the nearest range), ``urgency`` (normal 0, urgent 0.5,
very urgent 1) and ``freshness`` (1 for a demand published now, 0 at 30 days or older).

The open demands are loaded column-wise and cached like the catalogue (``matching.CACHE``,
dropped by ``matching.catalogue_forget``) until any demand changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
from django.db.models import Count, Max

from xinrong.marketplace.choices import DemandStatus, DemandUrgency
from xinrong.marketplace.matching import CACHE, CACHE_LOCK, FloatArray, IntArray
from xinrong.marketplace.models import Demand
from xinrong.reference import divisions

HALL_WEIGHTS: dict[str, float] = {"amount": 0.5, "urgency": 0.3, "freshness": 0.2}
URGENCY_VALUE = {
    DemandUrgency.NORMAL: 0.0,
    DemandUrgency.URGENT: 0.5,
    DemandUrgency.VERY_URGENT: 1.0,
}
FRESH_DAYS = 30.0


@dataclass(frozen=True)
class DemandBoard:
    """Open demands as columns (one row per demand)."""

    demand_id: IntArray
    amount_fen: IntArray
    term: IntArray
    urgency: FloatArray
    division: IntArray  # the first six digits of the entity's division code
    created: FloatArray  # POSIX seconds

    def __len__(self) -> int:
        return int(self.demand_id.shape[0])


@dataclass(frozen=True)
class HallEntry:
    """One open demand ranked for an institution."""

    demand_id: int
    score: float
    components: dict[str, float]


def _division6(code: str) -> int:
    digits = (code or "")[:6]
    return int(digits.ljust(6, "0")) if digits.isdigit() else -1


def demand_board_build(rows: Sequence[Sequence[Any]]) -> DemandBoard:
    """Return columns from rows of (id, amount, term, urgency, division code, created_at)."""
    n = len(rows)
    return DemandBoard(
        demand_id=np.fromiter((r[0] for r in rows), dtype=np.int64, count=n),
        amount_fen=np.fromiter((int(r[1] * 100) for r in rows), dtype=np.int64, count=n),
        term=np.fromiter((r[2] for r in rows), dtype=np.int64, count=n),
        urgency=np.fromiter((URGENCY_VALUE.get(r[3], 0.0) for r in rows), np.float64, count=n),
        division=np.fromiter((_division6(r[4]) for r in rows), dtype=np.int64, count=n),
        created=np.fromiter((r[5].timestamp() for r in rows), dtype=np.float64, count=n),
    )


def demand_board() -> DemandBoard:
    """Return the open demands as columns, reloading only when a demand has changed."""
    agg = Demand.objects.aggregate(n=Count("id"), last=Max("updated_at"))
    stamp = (int(agg["n"] or 0), str(agg["last"]))
    with CACHE_LOCK:
        if CACHE.get("board_stamp") == stamp:
            cached: DemandBoard = CACHE["board"]
            return cached
    rows = list(
        Demand.objects.filter(status=DemandStatus.OPEN)
        .order_by("pk")
        .values_list("pk", "amount", "term_months", "urgency", "division_code", "created_at")
    )
    built = demand_board_build(rows)
    with CACHE_LOCK:
        CACHE["board_stamp"] = stamp
        CACHE["board"] = built
    return built


def region_ranges(regions: Sequence[str]) -> list[tuple[int, int]]:
    """Return [lo, hi) ranges of six-digit division codes covering the regions and below."""
    out = []
    for region in regions:
        try:
            prefix = divisions.descendants_prefix(region)
        except ValueError:
            continue
        lo = int(prefix[:6].ljust(6, "0"))
        out.append((lo, lo + 10 ** (6 - min(len(prefix), 6))))
    return out


def division_in_ranges(code: str, ranges: Sequence[tuple[int, int]] | None) -> bool:
    """Return whether a division code lies in one of the ranges (None: everywhere)."""
    if ranges is None:
        return True
    value = _division6(code)
    return any(lo <= value < hi for lo, hi in ranges)


def rank_demands(
    board: DemandBoard,
    *,
    ranges: Sequence[tuple[int, int]] | None,
    amount_ranges: Sequence[tuple[Decimal, Decimal]],
    now: dt.datetime,
    limit: int = 50,
) -> tuple[list[HallEntry], int]:
    """Return the best open demands for an institution and how many are in its regions.

    ``ranges`` are the institution's regions as division-code ranges (None: everywhere);
    ``amount_ranges`` are its published products' [amount_min, amount_max].
    """
    n = len(board)
    if n == 0:
        return [], 0
    if ranges is None:
        inside = np.ones(n, dtype=bool)
    else:
        inside = np.zeros(n, dtype=bool)
        for lo, hi in ranges:
            inside |= (board.division >= lo) & (board.division < hi)
    idx = np.flatnonzero(inside)
    amount = board.amount_fen[idx].astype(np.float64)
    if amount_ranges:
        # Distance in decades to the nearest product range (0 inside one); distinct ranges only.
        pairs = sorted({(float(lo) * 100, float(hi) * 100) for lo, hi in amount_ranges})
        log_amount = np.log10(np.maximum(amount, 1.0))
        gap = np.full(idx.shape[0], np.inf)
        for low, high in pairs:
            below = np.maximum(np.log10(low) - log_amount, 0.0)
            above = np.maximum(log_amount - np.log10(high), 0.0)
            np.minimum(gap, below + above, out=gap)
        fit = np.clip(1.0 - gap, 0.0, 1.0)
    else:
        fit = np.full(idx.shape[0], 0.5)
    age_days = (now.timestamp() - board.created[idx]) / 86400.0
    parts = {
        "amount": fit,
        "urgency": board.urgency[idx],
        "freshness": np.clip(1.0 - age_days / FRESH_DAYS, 0.0, 1.0),
    }
    score = np.zeros(idx.shape[0])
    for name, weight in HALL_WEIGHTS.items():
        score += weight * parts[name]
    score *= 100.0
    if limit < idx.shape[0]:
        top = np.argpartition(-score, limit)[:limit]
    else:
        top = np.arange(idx.shape[0])
    # Best first; ties by newer demand (higher id).
    order = top[np.lexsort((-board.demand_id[idx][top], -np.round(score[top], 6)))]
    entries = [
        HallEntry(
            demand_id=int(board.demand_id[idx[j]]),
            score=round(float(score[j]), 2),
            components={k: round(float(v[j]), 4) for k, v in parts.items()},
        )
        for j in order
    ]
    return entries, int(idx.shape[0])
