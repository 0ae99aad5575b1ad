"""Points scorecard: optimal monotonic WOE binning + logistic regression, scored with NumPy.

Training (``fit``) bins each feature with optbinning's ``OptimalBinning`` (constrained to the
feature's monotonic trend), fits a logistic regression on the WOE values and turns it into
points. Scoring (``Scorecard.score``) needs no optbinning and no per-row Python: a feature's bin is
``searchsorted`` on its split points, its points a gather from a small table.

Scaling (the usual industry convention): ``score = offset + factor · ln(odds)``, where odds are
good : bad, ``factor = PDO / ln 2`` and ``offset = base_points − factor · ln(base_odds)``. The
default is 600 points at 50 : 1, and 20 points double the odds. optbinning's WOE is
``ln(share of non-events / share of events)``, so a positive WOE means a safer bin.

Three rules keep the points honest (docs/credit-scoring.md):

- **Missing is its own evidence, never better than the data supports.** The missing bin's bad
  rate is a Beta-binomial posterior whose prior is centred on the riskiest regular bin's bad rate
  with a weight of ``m`` rows (``missing_prior_rows``); its WOE follows from that rate. With no
  missing rows in training, missing scores exactly as the worst bin; with many, as its own data.
- **Strongly correlated features are not both kept.** Before the regression, of two features whose
  values have |Spearman ρ| ≥ ``max_correlation`` on the training rows where both are known, the
  one with the higher IV stays; ``Scorecard.dropped`` records what went and why.
- **The entity type is a segment, not a feature.** The feature frame's ``entity_type`` column
  (``SEGMENT_COLUMN``) is ignored by ``fit`` unless ``segment=True``, in which case it is binned
  as a category and kept apart (``Scorecard.segment``): its points are added to the score, but it
  is never a reason and belongs to no dimension.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

DEFAULT_BANDS: tuple[tuple[str, float], ...] = (
    ("AAA", 720),
    ("AA", 680),
    ("A", 640),
    ("BBB", 600),
    ("BB", 560),
    ("B", 520),
    ("CCC", 480),
    ("CC", 440),
    ("C", -math.inf),
)
BANKABLE_GRADE = "BBB"  # banks lend from this grade up (cultivation targets those below)
# The feature frame's column of entity types: for segmentation only, never a scored feature.
SEGMENT_COLUMN = "entity_type"
MAX_CORRELATION = 0.9  # |Spearman ρ| of two features' values from which one is dropped


@dataclass
class BinnedFeature:
    """A feature's bins: split points, WOE and points per bin (regular bins, then missing)."""

    name: str
    splits: list[float]
    woe: list[float]
    points: list[float]
    counts: list[int]  # training rows per bin, for PSI
    event_rates: list[float]
    iv: float
    coef: float
    trend: str = ""
    # categorical features: the categories of each regular bin (splits unused)
    categories: list[list[str]] | None = None
    # the prior weight (rows) the missing bin's bad rate was shrunk with (0: an older card,
    # whose empty missing bin was neutral)
    missing_prior_rows: float = 0.0

    @property
    def n_regular(self) -> int:
        return len(self.categories) if self.categories is not None else len(self.splits) + 1

    def bin_index(self, x: np.ndarray) -> np.ndarray:
        """Return each value's bin (uint8); missing values and unseen categories go last."""
        missing = self.n_regular
        if self.categories is not None:
            known = [c for group in self.categories for c in group]
            lookup = np.array(
                [b for b, group in enumerate(self.categories) for _c in group] + [missing],
                dtype=np.uint8,
            )
            codes = pd.Categorical(np.asarray(x, dtype=object), categories=known).codes
            return lookup[np.where(codes < 0, len(known), codes)]
        idx = np.empty(len(x), dtype=np.uint8)
        self.fill_bins(np.asarray(x, dtype=np.float64), idx, np.empty(len(x), dtype=bool))
        return idx

    def fill_bins(self, x: np.ndarray, out: np.ndarray, scratch: np.ndarray) -> None:
        """Write the bins of numeric values into ``out`` (uint8), using ``scratch`` (bool).

        A value's bin is the number of split points it is not below: SIMD comparisons count
        it far faster than a binary search finds it. NaN starts in the missing bin and is
        not above any split.
        """
        # the comparisons' booleans are added as uint8 (a view, no copy): a uint8 + uint8 loop
        # runs without the casting buffer that bool + uint8 needs, about twice as fast
        counted = scratch.view(np.uint8)
        np.isnan(x, out=scratch)
        np.multiply(counted, np.uint8(self.n_regular), out=out)
        for split in self.splits:
            np.greater_equal(x, split, out=scratch)
            np.add(out, counted, out=out)

    def labels(self) -> list[str]:
        """Human-readable bins, like optbinning's."""
        if self.categories is not None:
            return [*("、".join(map(str, group)) for group in self.categories), "缺失"]
        edges = [-math.inf, *self.splits, math.inf]
        out = []
        for lo, hi in itertools.pairwise(edges):
            left = "(-∞" if lo == -math.inf else f"[{lo:g}"
            right = "+∞)" if hi == math.inf else f"{hi:g})"
            out.append(f"{left}, {right}")
        return [*out, "缺失"]


GATHER_LIMIT = 256  # combinations one uint8 index can address


def _gather_groups(sizes: list[int]) -> list[list[int]]:
    """Group features (by position) so that each group's bin counts multiply to ≤ 256."""
    groups: list[list[int]] = []
    product = GATHER_LIMIT + 1
    for i in sorted(range(len(sizes)), key=lambda i: sizes[i]):
        if product * sizes[i] > GATHER_LIMIT:
            groups.append([])
            product = 1
        groups[-1].append(i)
        product *= sizes[i]
    return groups


def _sum_table(tables: list[np.ndarray]) -> np.ndarray:
    """Return the summed points of every combination of bins, flat in Horner order."""
    total = np.zeros(1)
    for t in tables:
        total = (total[:, None] + t[None, :]).ravel()
    return total


@dataclass
class ScoreResult:
    """Scores of many entities at once."""

    score: np.ndarray  # float points
    bins: np.ndarray  # (features, n) bin indices, uint8, feature-major
    tables: list[np.ndarray]  # each feature's points per bin

    @property
    def points(self) -> np.ndarray:
        """(n, features) points of each row's bin."""
        return np.stack([t[b] for t, b in zip(self.tables, self.bins, strict=True)], axis=1)


@dataclass
class Scorecard:
    """A fitted points scorecard."""

    features: list[BinnedFeature]
    intercept: float
    base_points: float = 600.0
    base_odds: float = 50.0
    pdo: float = 20.0
    bands: list[tuple[str, float]] = field(default_factory=lambda: list(DEFAULT_BANDS))
    # points by entity type (a categorical bin of ``SEGMENT_COLUMN``), when trained with it
    segment: BinnedFeature | None = None
    # features left out before the regression because they duplicate a kept one:
    # {"feature", "kept", "rho"}
    dropped: list[dict[str, Any]] = field(default_factory=list)

    @property
    def factor(self) -> float:
        return self.pdo / math.log(2)

    @property
    def offset(self) -> float:
        return self.base_points - self.factor * math.log(self.base_odds)

    def score(self, frame: pd.DataFrame, *, block: int = 65_536) -> ScoreResult:
        """Score every row of a feature frame (columns by feature name).

        Numeric features are binned block by block, so that a block's values, bins and
        points stay in the CPU cache across the comparisons and the gather. Features whose bin
        counts multiply to at most 256 share one gather: their bins are combined into one uint8
        index (b₁·n₂ + b₂ …) into a table of every combination's summed points, so two or three
        features cost one gather and one addition instead of one each.
        """
        n, k = len(frame), len(self.features)
        for f in self.features:  # the gathers skip bounds checks: tables must fit the bins
            if len(f.points) != f.n_regular + 1:
                raise ValueError(
                    f"feature {f.name}: {len(f.points)} points for {f.n_regular + 1} bins"
                )
        bins = np.empty((k, n), dtype=np.uint8)
        tables = [np.asarray(f.points, dtype=np.float64) for f in self.features]
        total = np.zeros(n)
        numeric: list[tuple[int, BinnedFeature, np.ndarray]] = []
        for j, f in enumerate(self.features):
            if f.categories is not None:
                bins[j] = f.bin_index(frame[f.name].to_numpy(dtype=object))
                total += np.take(tables[j], bins[j], mode="clip")
            else:
                numeric.append((j, f, frame[f.name].to_numpy(dtype=np.float64)))
        groups = _gather_groups([len(tables[j]) for j, _f, _x in numeric])
        combined = [_sum_table([tables[numeric[i][0]] for i in g]) for g in groups]
        if self.segment is not None:
            types = (
                frame[SEGMENT_COLUMN].to_numpy(dtype=object)
                if SEGMENT_COLUMN in frame
                else np.full(n, None, dtype=object)
            )
            total += np.take(np.asarray(self.segment.points), self.segment.bin_index(types))
        scratch = np.empty(min(block, n), dtype=bool)
        index = np.empty(min(block, n), dtype=np.uint8)
        gathered = np.empty(min(block, n))
        for start in range(0, n, block):
            stop = min(start + block, n)
            m = stop - start
            part = total[start:stop]
            for group, table in zip(groups, combined, strict=True):
                idx = index[:m]
                for pos, i in enumerate(group):
                    j, f, x = numeric[i]
                    out = bins[j, start:stop]
                    f.fill_bins(x[start:stop], out, scratch[:m])
                    if pos == 0:
                        np.copyto(idx, out)
                    else:  # Horner: idx = idx · nᵢ + bᵢ, all in uint8 (no casting buffers)
                        np.multiply(idx, np.uint8(len(tables[j])), out=idx)
                        np.add(idx, out, out=idx)
                # every index is valid: "clip" skips the bounds check that makes a uint8
                # take about ten times slower than the gather itself
                np.take(table, idx, out=gathered[:m], mode="clip")
                part += gathered[:m]
        return ScoreResult(total, bins, tables)

    def log_odds(self, score: np.ndarray) -> np.ndarray:
        """ln(good : bad odds) a score stands for."""
        return (score - self.offset) / self.factor

    def grade(self, score: np.ndarray) -> np.ndarray:
        """Grade band of each score (bands are ordered from the best down)."""
        floors = np.array([b[1] for b in self.bands][::-1])  # ascending
        names = np.array([b[0] for b in self.bands][::-1])
        return names[np.searchsorted(floors, score, side="right") - 1]

    def point_ranges(self) -> tuple[np.ndarray, np.ndarray]:
        """Lowest and highest points each feature can give."""
        lows = np.array([min(f.points) for f in self.features])
        highs = np.array([max(f.points) for f in self.features])
        return lows, highs

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "features": [asdict(f) for f in self.features],
            "intercept": self.intercept,
            "base_points": self.base_points,
            "base_odds": self.base_odds,
            "pdo": self.pdo,
            "bands": [[g, (None if math.isinf(v) else v)] for g, v in self.bands],
        }
        if self.segment is not None:
            data["segment"] = asdict(self.segment)
        if self.dropped:
            data["dropped"] = list(self.dropped)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Scorecard:
        """Load a card (cards stored before ``segment``/``dropped`` existed load too)."""
        return cls(
            features=[BinnedFeature(**f) for f in data["features"]],
            intercept=float(data["intercept"]),
            base_points=float(data["base_points"]),
            base_odds=float(data["base_odds"]),
            pdo=float(data["pdo"]),
            bands=[(g, -math.inf if v is None else float(v)) for g, v in data["bands"]],
            segment=BinnedFeature(**data["segment"]) if data.get("segment") else None,
            dropped=list(data.get("dropped") or []),
        )


MIN_RARE_BIN_ROWS = 30  # the fewest training rows a bin of a rare fact may have


def _bin_size(x: np.ndarray, min_bin_size: float) -> float:
    """Return the smallest bin (share of rows) the binning may make of a numeric feature.

    ``min_bin_size`` as a rule; but a rare fact (失信, a serious penalty, a default: the rows
    away from the feature's most common value are fewer than twice ``min_bin_size``) may have
    a bin of ``MIN_RARE_BIN_ROWS`` rows, so that it is on the card and costs what it costs
    rather than being merged into the bin of the firms without it.
    """
    known = x[~np.isnan(x)]
    if len(known) == 0:
        return min_bin_size
    _values, counts = np.unique(known, return_counts=True)
    away = (len(known) - counts.max()) / len(x)
    if away >= 2 * min_bin_size:
        return min_bin_size
    return float(min(min_bin_size, max(MIN_RARE_BIN_ROWS / len(x), 1e-4)))


def missing_prior_rows(train_rows: int, min_bin_size: float) -> float:
    """Return the prior weight ``m`` (rows) of the missing bin's bad rate.

    ``m`` is the smallest bin the binning itself accepts (``min_bin_size`` of the training rows,
    at least 30): optbinning does not trust fewer rows with a bin of their own, so the missing
    bin's own rows weigh as much as the prior exactly when they are as many as that smallest
    bin, and outweigh it nine to one from ten times as many.
    """
    return max(30.0, float(min_bin_size) * train_rows)


def _missing_evidence(
    regular_rates: np.ndarray,
    regular_woe: np.ndarray,
    missing_count: int,
    missing_rate: float,
    m: float,
) -> tuple[float, float]:
    """Return (bad rate, WOE) of the missing bin, shrunk towards the riskiest regular bin.

    The bad rate is the posterior mean of a Beta prior with mean ``r_w`` (the riskiest regular
    bin's bad rate) and weight ``m`` updated by the missing bin's rows: (e + m·r_w) / (n + m).
    The WOE is the worst bin's WOE moved by the log-odds difference of the two rates, so with no
    missing rows it is exactly the worst bin's.
    """
    worst = int(np.argmax(regular_rates))
    r_w = float(regular_rates[worst])
    events = missing_rate * missing_count if missing_count else 0.0
    rate = (events + m * r_w) / (missing_count + m)
    eps = 1e-6
    p, q = min(max(rate, eps), 1 - eps), min(max(r_w, eps), 1 - eps)
    woe = float(regular_woe[worst]) + math.log((1 - p) / p) - math.log((1 - q) / q)
    return float(rate), woe


MIN_PAIRED_ROWS = 30  # rows where both features are known before their correlation counts


def _spearman(values: pd.DataFrame) -> np.ndarray:
    """Spearman correlation matrix of numeric columns, each pair over the rows where both are
    known (0 where fewer than ``MIN_PAIRED_ROWS`` are, or a column is constant there)."""
    import warnings

    with warnings.catch_warnings():  # a column constant where both are known: no correlation
        warnings.simplefilter("ignore")
        rho = values.corr(method="spearman", min_periods=MIN_PAIRED_ROWS).to_numpy()
    out: np.ndarray = np.nan_to_num(rho, nan=0.0)
    return out


def fit(
    X: pd.DataFrame,
    y: np.ndarray,
    *,
    trends: Mapping[str, str] | None = None,
    base_points: float = 600.0,
    base_odds: float = 50.0,
    pdo: float = 20.0,
    bands: Sequence[tuple[str, float]] = DEFAULT_BANDS,
    min_iv: float = 0.02,
    max_n_bins: int = 8,
    min_bin_size: float = 0.02,
    regularisation: float = 1.0,
    max_correlation: float = MAX_CORRELATION,
    segment: bool = False,
) -> Scorecard:
    """Fit a scorecard on features X and outcomes y (1 = bad).

    Numeric columns are binned by value (NaN = missing), other columns as categories. The
    ``SEGMENT_COLUMN`` (entity type) is not a feature: it is ignored, or with ``segment=True``
    binned as a category whose points go to ``Scorecard.segment``.

    Features with IV below ``min_iv`` are left out. The missing bin's evidence is shrunk towards
    the riskiest regular bin (``_missing_evidence``). Of strongly correlated features (values
    with |Spearman ρ| ≥ ``max_correlation`` where both are known) only the one with the higher
    IV stays. A
    feature whose coefficient comes out with the wrong sign (a safer bin adding risk, a symptom
    of collinearity) is dropped and the regression refitted, so every feature's points rise
    with its WOE.
    """
    from optbinning import OptimalBinning
    from sklearn.linear_model import LogisticRegression

    y = np.asarray(y, dtype=np.int64)
    trends = trends or {}
    m = missing_prior_rows(len(y), min_bin_size)
    binned: list[tuple[BinnedFeature, Any]] = []
    for name in X.columns:
        if name == SEGMENT_COLUMN and not segment:
            continue
        categorical = name == SEGMENT_COLUMN or not pd.api.types.is_numeric_dtype(X[name])
        x = X[name].to_numpy(dtype=object if categorical else np.float64)
        if categorical:
            if X[name].nunique(dropna=True) < 2:
                continue
        elif np.all(np.isnan(x)) or np.nanmin(x) == np.nanmax(x):
            continue
        size = min_bin_size if categorical else _bin_size(x, min_bin_size)
        ob = OptimalBinning(
            name=name,
            dtype="categorical" if categorical else "numerical",
            monotonic_trend=None if categorical else trends.get(name, "auto_asc_desc"),
            max_n_bins=max_n_bins,
            min_bin_size=size,
            # optbinning's pre-binning keeps no bin under 5% of the rows by default: a flag held
            # by 3% of firms (失信) would get one bin, IV 0, and leave the card
            min_prebin_size=size,
            solver="cp",
        )
        ob.fit(x, y)
        table = ob.binning_table.build()
        rows = table.iloc[:-1]  # without the totals row
        regular = rows[~rows["Bin"].astype(str).isin(["Special", "Missing"])]
        missing = rows[rows["Bin"].astype(str) == "Missing"].iloc[0]
        iv = float(table.loc["Totals", "IV"])
        if iv < min_iv and name != SEGMENT_COLUMN:
            continue
        regular_rates = regular["Event rate"].astype(float).to_numpy()
        regular_woe = regular["WoE"].astype(float).to_numpy()
        missing_rate, missing_woe = _missing_evidence(
            regular_rates, regular_woe, int(missing["Count"]), float(missing["Event rate"]), m
        )
        woe = [*regular_woe.tolist(), missing_woe]
        feature = BinnedFeature(
            name=name,
            splits=[] if categorical else [float(s) for s in ob.splits],
            categories=[[str(c) for c in group] for group in ob.splits] if categorical else None,
            woe=woe,
            points=[0.0] * len(woe),
            counts=[*regular["Count"].astype(int), int(missing["Count"])],
            event_rates=[*regular_rates.tolist(), missing_rate],
            iv=iv,
            coef=0.0,
            trend=trends.get(name, "auto_asc_desc"),
            missing_prior_rows=m,
        )
        binned.append((feature, x))
    binned, dropped = _drop_correlated(binned, max_correlation)
    if not any(f.name != SEGMENT_COLUMN for f, _x in binned):
        raise ValueError("no feature has enough information value to build a scorecard")
    while True:
        W = np.column_stack([_woe(f, x) for f, x in binned])
        model = LogisticRegression(C=regularisation, max_iter=2000)
        model.fit(W, y)
        coefs = model.coef_[0]
        wrong = [i for i, c in enumerate(coefs) if c > 0]
        if not wrong or len(binned) == 1:
            break
        worst = max(wrong, key=lambda i: coefs[i])
        binned.pop(worst)
    card = Scorecard(
        features=[f for f, _x in binned],
        intercept=float(model.intercept_[0]),
        base_points=base_points,
        base_odds=base_odds,
        pdo=pdo,
        bands=list(bands),
        dropped=dropped,
    )
    k = len(card.features)
    share = (card.offset - card.factor * card.intercept) / k
    for f, c in zip(card.features, coefs, strict=True):
        f.coef = float(c)
        f.points = [round(-card.factor * c * w + share, 6) for w in f.woe]
    for f in list(card.features):
        if f.name == SEGMENT_COLUMN:  # points by entity type: added to the score, not a reason
            card.features.remove(f)
            card.segment = f
    return card


def _drop_correlated(
    binned: list[tuple[BinnedFeature, Any]], max_correlation: float
) -> tuple[list[tuple[BinnedFeature, Any]], list[dict[str, Any]]]:
    """Keep, of every pair of numeric features whose values correlate at |ρ| ≥
    ``max_correlation`` (Spearman, training rows where both are known), the one with the
    higher IV; return the kept and what was dropped ({"feature", "kept", "rho"}).

    The values, not the WOE columns: two features missing for the same entities (registered
    capital and insured headcount, both absent for individual businesses) have nearly equal
    WOE columns without saying the same thing where they are known.
    """
    numeric = [i for i, (f, _x) in enumerate(binned) if f.categories is None]
    if len(numeric) < 2:
        return binned, []
    rho = _spearman(pd.DataFrame({i: binned[i][1] for i in numeric}))
    at = {i: k for k, i in enumerate(numeric)}
    order = sorted(numeric, key=lambda i: -binned[i][0].iv)
    kept: list[int] = []
    dropped: list[dict[str, Any]] = []
    gone: set[int] = set()
    for i in order:
        twin = next((j for j in kept if abs(rho[at[i], at[j]]) >= max_correlation), None)
        if twin is None:
            kept.append(i)
            continue
        gone.add(i)
        dropped.append(
            {
                "feature": binned[i][0].name,
                "kept": binned[twin][0].name,
                "rho": round(float(rho[at[i], at[twin]]), 4),
            }
        )
    return [b for i, b in enumerate(binned) if i not in gone], dropped


def _woe(f: BinnedFeature, x: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.asarray(f.woe)[f.bin_index(x)]
    return out


# ---------------------------------------------------------------- metrics


def auc_ks(y: np.ndarray, risk: np.ndarray) -> tuple[float, float]:
    """AUC and KS of a risk measure (higher = more likely bad)."""
    from sklearn.metrics import roc_auc_score, roc_curve

    fpr, tpr, _t = roc_curve(y, risk)
    return float(roc_auc_score(y, risk)), float(np.max(tpr - fpr))


def psi(
    expected_counts: Sequence[float] | np.ndarray, actual_counts: Sequence[float] | np.ndarray
) -> float:
    """Population stability index between two distributions over the same bins."""
    e = np.asarray(expected_counts, dtype=np.float64)
    a = np.asarray(actual_counts, dtype=np.float64)
    e = np.maximum(e / max(e.sum(), 1.0), 1e-4)
    a = np.maximum(a / max(a.sum(), 1.0), 1e-4)
    return float(np.sum((a - e) * np.log(a / e)))


# ---------------------------------------------------------------- explanations


def reasons(
    card: Scorecard, result: ScoreResult, frame: pd.DataFrame | None = None, *, top: int = 3
) -> np.ndarray:
    """Per row, the reason codes of a score as feature indices (-1 = none): every negative fact
    that costs points, then the features furthest below the population, never one that does
    not apply to the entity's kind (``frame``'s optional ``entity_type``). See credit.reasons.
    """
    from xinrong.credit.reasons import reasons as true_reasons  # needs the feature specs

    return true_reasons(card, result, frame, top=top)


def dimension_scores(
    card: Scorecard, result: ScoreResult, dimension_of: Mapping[str, str]
) -> dict[str, np.ndarray]:
    """Per dimension, 0–100: where the row's points sit between the dimension's worst and best."""
    lows, highs = card.point_ranges()
    points = result.points
    out: dict[str, np.ndarray] = {}
    for dim in dict.fromkeys(dimension_of.get(f.name, "") for f in card.features):
        cols = [j for j, f in enumerate(card.features) if dimension_of.get(f.name) == dim]
        lo, hi = lows[cols].sum(), highs[cols].sum()
        got = points[:, cols].sum(axis=1)
        out[dim] = (
            np.round(100.0 * (got - lo) / (hi - lo), 1) if hi > lo else np.full(len(got), 100.0)
        )
    return out
