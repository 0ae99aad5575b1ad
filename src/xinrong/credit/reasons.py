"""Reason codes that are true: the negative facts that cost points, then what falls short of the
population, never a feature that does not apply to the entity's kind.

Per row of a scored feature frame (``Scorecard.score``), in this order:

1. **Negative facts** (``Feature.negative``: arrears, penalties, cases, 失信, abnormal listing,
   overdue loans, defaults, related entities' negative facts): every one whose bin gives fewer
   points than the bin of 0 (no such fact), by the points it costs against that bin. All of
   them are named, even when that makes more than ``top`` reasons: a penalty that lowers the
   score is never hidden behind a weak tax record.
2. **Shortfalls against the population**: the other features whose points are at least
   ``min_loss`` below the feature's mean points in the training population (the card's bin
   ``counts``: the whole population, or the segment for a segment's card), largest first, until
   there are ``top`` reasons. The best bin is not the yardstick: almost every firm is short of
   the best bin of something, and a reason is what sets this firm below the others.

The default ``min_loss`` is 0.15 PDO (3 points at the usual 20): the odds of default about 11%
higher than the population's average on that feature (2^0.15 = 1.11). Below that the difference
is within the rounding of the shown score and the spread of neighbouring bins, and naming it
would give almost every firm reasons. A firm at or above the population on every feature (less
than ``min_loss`` short) and with no negative fact is a clean firm and gets none.

A feature that does not apply to the entity's kind (``Feature.applies_to``: patents, government
procurement, honours and registered capital for individual businesses) is never a reason. The
kind comes from the frame's optional ``entity_type`` column; without it every feature applies.

Everything is columnar: block by block over the rows, one loop over the (few dozen) features.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from xinrong.credit.features import ALL_KINDS, FEATURES_BY_NAME
from xinrong.credit.scorecard import BinnedFeature, Scorecard, ScoreResult

MIN_LOSS_PDO = 0.15  # the least shortfall named against the population, in PDO (3 points at 20)
COST_EPSILON = 1e-6  # points: a negative fact "costs" when it loses more than float noise
BLOCK = 65_536  # rows per block: a block's (rows, features) arrays stay small
_FIRST = 1e9  # added to a negative fact's loss so that negative facts sort first


def population_points(f: BinnedFeature) -> float:
    """Return a feature's mean points over its training population (bins weighted by counts;
    the regular bins equally when the card records no counts)."""
    counts = np.asarray(f.counts, dtype=np.float64)
    points = np.asarray(f.points, dtype=np.float64)
    if len(counts) == len(points) and counts.sum() > 0:
        return float(np.dot(counts, points) / counts.sum())
    return float(points[: f.n_regular].mean())


def zero_bin(f: BinnedFeature) -> int | None:
    """Return the bin of the value 0 (no such fact) of a numeric feature, None if categorical."""
    if f.categories is not None:
        return None
    return int(f.bin_index(np.zeros(1))[0])


def fact_costs(f: BinnedFeature) -> np.ndarray:
    """Return, per bin, the points a negative feature's value in that bin costs against the
    bin of 0 (0 for the missing bin: no information is not a fact)."""
    z = zero_bin(f)
    points = np.asarray(f.points, dtype=np.float64)
    if z is None:
        return np.zeros(len(points))
    cost: np.ndarray = np.maximum(points[z] - points, 0.0)
    cost[f.n_regular :] = 0.0
    return cost


def _applicable(card: Scorecard, frame: pd.DataFrame | None) -> list[np.ndarray | None]:
    """Per feature, a boolean row mask of where it applies (None: everywhere)."""
    out: list[np.ndarray | None] = [None] * len(card.features)
    if frame is None or "entity_type" not in frame.columns:
        return out
    codes, kinds = pd.factorize(frame["entity_type"].to_numpy(dtype=object))
    for j, f in enumerate(card.features):
        spec = FEATURES_BY_NAME.get(f.name)
        if spec is None or set(ALL_KINDS) <= set(spec.applies_to):
            continue
        # unknown or missing kinds (code -1, the appended True) keep the feature
        applies = np.append([str(kind) in spec.applies_to for kind in kinds], True)
        out[j] = applies[codes]
    return out


def reasons(
    card: Scorecard,
    result: ScoreResult,
    frame: pd.DataFrame | None = None,
    *,
    top: int = 3,
    min_loss: float | None = None,
) -> np.ndarray:
    """Return each row's reason codes as feature indices of ``card`` (int64, -1 = none).

    ``result`` is ``card.score(frame)``. The array has ``max(top, most negative facts of a
    row)`` columns: negative facts first, then shortfalls against the population (see the
    module's docstring).
    """
    k, n = result.bins.shape
    threshold = MIN_LOSS_PDO * card.pdo if min_loss is None else min_loss
    means = np.array([population_points(f) for f in card.features])
    costs: list[np.ndarray | None] = []
    for f in card.features:
        spec = FEATURES_BY_NAME.get(f.name)
        costs.append(fact_costs(f) if spec is not None and spec.negative else None)
    applies = _applicable(card, frame)
    blocks: list[np.ndarray] = []
    for start in range(0, n, BLOCK):
        stop = min(start + BLOCK, n)
        m = stop - start
        key = np.full((m, k), -np.inf)
        negative = np.zeros(m, dtype=np.int64)
        chosen = np.zeros(m, dtype=np.int64)
        for j in range(k):
            b = result.bins[j, start:stop]
            short = means[j] - result.tables[j][b]
            col = np.where(short >= threshold - COST_EPSILON, short, -np.inf)
            cost = costs[j]
            if cost is not None:
                lost = cost[b]
                fact = lost > COST_EPSILON
                col = np.where(fact, _FIRST + lost, col)
            else:
                fact = None
            mask = applies[j]
            if mask is not None:
                col = np.where(mask[start:stop], col, -np.inf)
                if fact is not None:
                    fact &= mask[start:stop]
            if fact is not None:
                negative += fact
            chosen += col > -np.inf
            key[:, j] = col
        keep = np.maximum(negative, np.minimum(top, chosen))
        width = max(top, int(negative.max()) if m else 0)
        order = np.argsort(-key, axis=1, kind="stable")[:, :width]
        if order.shape[1] < width:  # fewer features than ``top``
            order = np.pad(order, ((0, 0), (0, width - order.shape[1])))
        blocks.append(np.where(np.arange(width)[None, :] < keep[:, None], order, -1))
    if not blocks:
        return np.full((0, top), -1, dtype=np.int64)
    width = max(b.shape[1] for b in blocks)
    return np.concatenate(
        [np.pad(b, ((0, 0), (0, width - b.shape[1])), constant_values=-1) for b in blocks]
    ).astype(np.int64)
