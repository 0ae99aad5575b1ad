"""Read the reputation summary table: matching's hook and the badges on lists."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from xinrong.marketplace.models import PartyKind, Reputation

NEUTRAL = 0.5


def institution_reputation_lookup(
    institution_ids: npt.NDArray[np.int64],
) -> npt.NDArray[np.float64]:
    """Return each institution's reputation in 0–1 (score 1–5 mapped linearly: (s − 1) / 4);
    neutral 0.5 for an institution nobody has rated. One query for the distinct ids."""
    out = np.full(institution_ids.shape, NEUTRAL, dtype=np.float64)
    if institution_ids.size == 0:
        return out
    wanted = [int(i) for i in np.unique(institution_ids)]
    found = dict(
        Reputation.objects.filter(
            kind=PartyKind.INSTITUTION, institution_id__in=wanted
        ).values_list("institution_id", "score")
    )
    if not found:
        return out
    keys = np.fromiter(found.keys(), dtype=np.int64, count=len(found))
    vals = np.fromiter(((float(s) - 1.0) / 4.0 for s in found.values()), dtype=np.float64)
    order = np.argsort(keys)
    keys, vals = keys[order], vals[order]
    pos = np.clip(np.searchsorted(keys, institution_ids), 0, len(keys) - 1)
    hit = keys[pos] == institution_ids
    out[hit] = vals[pos[hit]]
    return out


def badged_institutions(institution_ids: Iterable[int]) -> set[int]:
    """The institutions among ``institution_ids`` holding the 优质服务机构 badge."""
    ids = list(institution_ids)
    if not ids:
        return set()
    return set(
        Reputation.objects.filter(
            kind=PartyKind.INSTITUTION, institution_id__in=ids, badge=True
        ).values_list("institution_id", flat=True)
    )


def badged_entities(entity_ids: Iterable[int]) -> set[int]:
    """The enterprises among ``entity_ids`` holding the 守信企业 badge."""
    ids = list(entity_ids)
    if not ids:
        return set()
    return set(
        Reputation.objects.filter(kind=PartyKind.ENTITY, entity_id__in=ids, badge=True).values_list(
            "entity_id", flat=True
        )
    )
