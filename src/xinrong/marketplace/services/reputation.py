"""Write the reputation summary table (``Reputation``) from rating totals, set-wise.

The evaluations app (which the marketplace may not import) sums its active ratings in one
aggregate query per direction and hands the totals here; this service turns them into Bayesian
averages and replaces the table's rows of that kind in one transaction (delete + bulk insert).

Prior: ``C`` = the platform mean of the active ratings of that direction (Σ composites / n),
weight ``PRIOR_WEIGHT`` = 5 ratings. Score = ``(m × C + Σ) / (m + n)``, two decimals, half up.
A badge (优质服务机构 for institutions, 守信企业 for enterprises) needs a score of at least
``BADGE_SCORE`` and at least ``BADGE_MIN_COUNT`` ratings.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone

from xinrong.marketplace.models import PartyKind, Reputation

PRIOR_WEIGHT = 5
BADGE_SCORE = Decimal("4.00")
BADGE_MIN_COUNT = 3
CENT = Decimal("0.01")


@dataclass(frozen=True)
class PartyTotals:
    """One party's active ratings: their number, the sum of composites and per-item means."""

    party_id: int
    count: int
    total: Decimal
    items: dict[str, Decimal] = field(default_factory=dict)


def bayes_score(*, total: Decimal, count: int, prior_mean: Decimal) -> Decimal:
    """``(m × C + Σ) / (m + n)`` rounded to cents."""
    value = (PRIOR_WEIGHT * prior_mean + total) / (PRIOR_WEIGHT + count)
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def reputation_store(*, kind: str, totals: Iterable[PartyTotals]) -> int:
    """Replace every reputation row of ``kind`` by rows computed from ``totals``; return the
    number of rows written."""
    rows = [t for t in totals if t.count > 0]
    n_all = sum(t.count for t in rows)
    sum_all = sum((t.total for t in rows), Decimal(0))
    prior = (sum_all / n_all) if n_all else Decimal(3)
    now = timezone.now()
    objs = []
    for t in rows:
        score = bayes_score(total=t.total, count=t.count, prior_mean=prior)
        objs.append(
            Reputation(
                kind=kind,
                institution_id=t.party_id if kind == PartyKind.INSTITUTION else None,
                entity_id=t.party_id if kind == PartyKind.ENTITY else None,
                score=score,
                mean=(t.total / t.count).quantize(CENT, rounding=ROUND_HALF_UP),
                count=t.count,
                items={
                    k: str(v.quantize(CENT, rounding=ROUND_HALF_UP)) for k, v in t.items.items()
                },
                badge=score >= BADGE_SCORE and t.count >= BADGE_MIN_COUNT,
                computed_at=now,
            )
        )
    with transaction.atomic():
        Reputation.objects.filter(kind=kind).delete()
        Reputation.objects.bulk_create(objs, batch_size=1000)
    return len(objs)
