"""A model's scorecards by segment: one card for everyone, or one per entity type.

Individual businesses (个体工商户) and enterprises differ. At training (``cards_train``) two
designs are compared by stratified k-fold cross-validation on the training rows:

- **single**: one card, the entity type entering as its own points (``Scorecard.segment``);
- **segmented**: one card per entity type, each fitted on its own rows, used only when every
  segment has at least ``MIN_SEGMENT_BADS`` bad rows in training (else the single card).

The one with the higher mean cross-validated AUC is kept. ``ModelCards`` is what every user of a
model loads: ``ModelCards.from_json(model.card)`` reads both the stored single cards (older ones
included) and segmented ones; ``card_for`` returns an entity's card and ``parts`` splits a
feature frame by segment, so scoring stays column-wise, one card at a time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from django.utils.translation import gettext_noop as N_

from xinrong.credit.scorecard import SEGMENT_COLUMN, Scorecard, ScoreResult, auc_ks, fit

ENTERPRISE, INDIVIDUAL = "enterprise", "individual_business"
SEGMENT_LABELS: dict[str, str] = {ENTERPRISE: N_("企业"), INDIVIDUAL: N_("个体工商户")}
SINGLE = ""  # the key of a model's one card
MIN_SEGMENT_BADS = 50  # bad rows a segment needs in training for a card of its own
CV_FOLDS = 5


@dataclass
class Part:
    """The rows of a frame one card scores."""

    key: str  # segment ("" for a single card)
    card: Scorecard
    rows: np.ndarray | None  # positions in the frame (None: every row, in order)
    frame: pd.DataFrame
    result: ScoreResult | None = None


@dataclass
class ModelCards:
    """A model's scorecards: ``{"": card}`` or one card per entity type."""

    cards: dict[str, Scorecard]
    default: str = SINGLE  # the card of an entity whose type has no card of its own

    @property
    def segmented(self) -> bool:
        return SINGLE not in self.cards

    @property
    def main(self) -> Scorecard:
        """The card whose scaling and grade bands the model shows (every card shares them)."""
        return self.cards[self.default]

    def items(self) -> list[tuple[str, Scorecard]]:
        return list(self.cards.items())

    def card_for(self, entity_type: str | None) -> Scorecard:
        """Return the card that scores an entity of this type."""
        return self.cards.get(entity_type or "", self.cards[self.default])

    def card_for_frame(self, frame: pd.DataFrame) -> Scorecard:
        """Return the card of a one-entity feature frame's entity."""
        if not self.segmented or SEGMENT_COLUMN not in frame or not len(frame):
            return self.main
        return self.card_for(frame[SEGMENT_COLUMN].iloc[0])

    def parts(self, frame: pd.DataFrame) -> Iterator[Part]:
        """Split a feature frame by segment: each card with the positions of its rows."""
        if not self.segmented:
            yield Part(SINGLE, self.main, None, frame)
            return
        keys = list(self.cards)
        if SEGMENT_COLUMN in frame:
            # category codes: one pass over the strings, then integer comparisons
            codes = pd.Categorical(frame[SEGMENT_COLUMN], categories=keys).codes
        else:
            codes = np.full(len(frame), -1, dtype=np.int8)
        for k, key in enumerate(keys):
            mask = codes == k
            if key == self.default:
                mask |= codes < 0  # an unknown type: the default card
            rows = np.flatnonzero(mask)
            if len(rows):
                yield Part(key, self.cards[key], rows, _take(frame, rows))

    def score_parts(self, frame: pd.DataFrame) -> tuple[np.ndarray, list[Part]]:
        """Score every row with its segment's card; return the scores (frame order) and parts."""
        scores = np.empty(len(frame))
        parts = []
        for part in self.parts(frame):
            part.result = part.card.score(part.frame)
            if part.rows is None:
                scores = part.result.score
            else:
                scores[part.rows] = part.result.score
            parts.append(part)
        return scores, parts

    def score(self, frame: pd.DataFrame) -> np.ndarray:
        """Scores of every row of a feature frame, in frame order."""
        scores: np.ndarray = self.score_parts(frame)[0]
        return scores

    def to_json(self) -> dict[str, Any]:
        if not self.segmented:
            return self.main.to_json()  # a single card is stored as it always was
        return {
            "segments": {key: card.to_json() for key, card in self.cards.items()},
            "default": self.default,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ModelCards:
        """Load a model's cards: a plain card (as every model stored before segments) or
        ``{"segments": {type: card}, "default": type}``."""
        if "segments" in data:
            cards = {key: Scorecard.from_json(c) for key, c in data["segments"].items()}
            return cls(cards, str(data.get("default") or next(iter(cards))))
        return cls({SINGLE: Scorecard.from_json(data)})


def _take(frame: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """The rows of a frame: the float columns gathered into one block whose columns stay
    contiguous for the scoring kernel (no consolidation copy), the others (the categorical entity
    type) by pandas' own take."""
    floats = [c for c in frame.columns if frame[c].dtype == np.float64]
    block = np.empty((len(floats), len(rows)))
    for i, c in enumerate(floats):
        np.take(frame[c].to_numpy(), rows, out=block[i], mode="clip")  # rows are valid
    out = pd.DataFrame(block.T, columns=floats, index=frame.index[rows], copy=False)
    for c in frame.columns:
        if c not in out:
            out[c] = frame[c].array.take(rows)
    return out[list(frame.columns)] if list(out.columns) != list(frame.columns) else out


def model_cards(card_json: Mapping[str, Any]) -> ModelCards:
    """Return the cards of a stored model (``ScoreModel.card``)."""
    return ModelCards.from_json(card_json)


@dataclass
class SegmentChoice:
    """What cross-validation found and which design was kept."""

    cards: ModelCards
    cv_auc_single: float | None  # None when too few rows for cross-validation
    cv_auc_segmented: float | None  # None when not evaluated (``why_single`` says why)
    folds: int
    why_single: str = ""  # "too_few_bads" / "one_segment" / "" (lower CV AUC or segmented)
    bads: dict[str, int] = field(default_factory=dict)  # training bad rows per segment

    def metrics(self) -> dict[str, Any]:
        return {
            "segmented": self.cards.segmented,
            "cv_folds": self.folds,
            "cv_auc_single": None if self.cv_auc_single is None else round(self.cv_auc_single, 4),
            "cv_auc_segmented": None
            if self.cv_auc_segmented is None
            else round(self.cv_auc_segmented, 4),
            "segment_bads": dict(self.bads),
            "segment_note": self.why_single,
        }


def _types(X: pd.DataFrame) -> np.ndarray:
    if SEGMENT_COLUMN not in X:
        return np.full(len(X), None, dtype=object)
    types: np.ndarray = X[SEGMENT_COLUMN].to_numpy(dtype=object)
    return types


def _fit_segmented(
    X: pd.DataFrame, y: np.ndarray, keys: Sequence[str], fit_options: Mapping[str, Any]
) -> ModelCards:
    types = _types(X)
    cards = {}
    for key in keys:
        rows = np.flatnonzero(types == key)
        cards[key] = fit(X.iloc[rows], y[rows], **fit_options)
    # an entity of an unknown type is scored by the card of the largest segment
    default = max(keys, key=lambda k: int(np.sum(types == k)))
    return ModelCards(cards, default)


def cards_train(
    X: pd.DataFrame,
    y: np.ndarray,
    *,
    seed: int,
    folds: int = CV_FOLDS,
    min_segment_bads: int | None = None,
    **fit_options: Any,
) -> SegmentChoice:
    """Fit the single card and, when every segment has enough bads, the per-segment cards;
    keep the design with the higher mean AUC over stratified, seeded k-fold cross-validation on
    these (training) rows. Raises ValueError when no card can be fitted."""
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(y, dtype=np.int64)
    least = MIN_SEGMENT_BADS if min_segment_bads is None else min_segment_bads
    types = _types(X)
    keys = [k for k in SEGMENT_LABELS if np.any(types == k)]
    bads = {k: int(y[types == k].sum()) for k in keys}
    why = ""
    if len(keys) < 2:
        why = "one_segment"
    elif min(bads.values()) < least:
        why = "too_few_bads"
    try_segments = not why
    bads_all = int(y.sum())
    folds = min(folds, bads_all, len(y) - bads_all)  # every fold needs a bad and a good row
    single_auc: list[float] = []
    segmented_auc: list[float] = []
    if folds >= 2:
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
        for train, test in splitter.split(np.zeros(len(y)), y):
            Xtr, ytr, Xte, yte = X.iloc[train], y[train], X.iloc[test], y[test]
            try:
                single = ModelCards({SINGLE: fit(Xtr, ytr, segment=True, **fit_options)})
            except ValueError:  # a fold without an informative feature: no figure from it
                continue
            single_auc.append(auc_ks(yte, -single.score(Xte))[0])
            if try_segments:
                try:
                    segmented = _fit_segmented(Xtr, ytr, keys, fit_options)
                except ValueError:  # a fold's segment with no informative feature
                    try_segments, why = False, "too_few_bads"
                    continue
                segmented_auc.append(auc_ks(yte, -segmented.score(Xte))[0])
    cv_single = float(np.mean(single_auc)) if single_auc else None
    cv_segmented = float(np.mean(segmented_auc)) if try_segments and segmented_auc else None
    if cv_segmented is not None and (cv_single is None or cv_segmented > cv_single):
        cards = _fit_segmented(X, y, keys, fit_options)
    else:
        cards = ModelCards({SINGLE: fit(X, y, segment=True, **fit_options)})
    return SegmentChoice(cards, cv_single, cv_segmented, folds, why, bads)
