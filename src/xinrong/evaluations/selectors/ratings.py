"""Read ratings: what waits for the user's rating, league tables, lists of ratings and appeals."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Avg, Count, Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from xinrong.accounts.models import Organisation
from xinrong.accounts.permissions import is_enterprise_user
from xinrong.evaluations.choices import (
    ITEMS,
    RatingDirection,
    RatingStage,
    RatingStatus,
)
from xinrong.evaluations.models import Rating, RatingAppeal, RatingScore
from xinrong.evaluations.rules.ratings import is_lender_staff
from xinrong.marketplace.choices import LoanStatus
from xinrong.marketplace.models import Loan
from xinrong.marketplace.services.reputation import BADGE_MIN_COUNT, BADGE_SCORE, bayes_score

# The to-do list shows loans disbursed (or settled) within this many days; older ones may still
# be rated from the loan's page.
PENDING_WINDOW_DAYS = 365
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Pending:
    """One loan waiting for the user's rating at one stage."""

    loan: Any
    stage: str

    @property
    def stage_label(self) -> str:
        return str(RatingStage(self.stage).label)


def side_of(user: Any) -> str | None:
    """The direction the user rates in, or None for someone who does not rate."""
    if is_enterprise_user(user):
        return RatingDirection.OF_INSTITUTION
    if is_lender_staff(user):
        return RatingDirection.OF_ENTERPRISE
    return None


def party_loans(user: Any) -> QuerySet[Loan]:
    """The loans the user's organisation is a party of (lender or borrower)."""
    direction = side_of(user)
    if direction is None or user.organisation_id is None:
        return Loan.objects.none()
    if direction == RatingDirection.OF_INSTITUTION:
        return Loan.objects.filter(entity__organisation_id=user.organisation_id)
    return Loan.objects.filter(institution_id=user.organisation_id)


def pending_ratings(user: Any, *, limit: int | None = None) -> list[Pending]:
    """The loans (and stages) waiting for the user's side's rating, newest first."""
    direction = side_of(user)
    if direction is None:
        return []
    since = timezone.localdate() - timedelta(days=PENDING_WINDOW_DAYS)

    def rated(stage: str) -> Exists:
        return Exists(
            Rating.objects.filter(loan_id=OuterRef("pk"), stage=stage, direction=direction)
        )

    qs = (
        party_loans(user)
        .annotate(
            rated_d=rated(RatingStage.DISBURSED),
            rated_s=rated(RatingStage.SETTLED),
        )
        .filter(
            Q(rated_d=False, disbursed_on__gte=since)
            | Q(rated_s=False, status=LoanStatus.SETTLED, settled_on__gte=since)
        )
        .select_related("entity", "institution")
        .order_by("-disbursed_on", "-id")
    )
    out: list[Pending] = []
    for loan in qs:
        settled_on = loan.settled_on
        if (
            loan.status == LoanStatus.SETTLED
            and not loan.rated_s
            and settled_on is not None
            and settled_on >= since
        ):
            out.append(Pending(loan, RatingStage.SETTLED))
        if not loan.rated_d and loan.disbursed_on >= since:
            out.append(Pending(loan, RatingStage.DISBURSED))
        if limit is not None and len(out) >= limit:
            return out[:limit]
    return out


def pending_count(user: Any) -> int:
    return len(pending_ratings(user))


def stages_open(user: Any, loan: Any) -> list[str]:
    """The stages at which the user's side may still rate ``loan``."""
    direction = side_of(user)
    if direction is None:
        return []
    done = set(
        Rating.objects.filter(loan=loan, direction=direction).values_list("stage", flat=True)
    )
    out: list[str] = []
    if RatingStage.DISBURSED not in done:
        out.append(RatingStage.DISBURSED)
    if loan.status == LoanStatus.SETTLED and RatingStage.SETTLED not in done:
        out.append(RatingStage.SETTLED)
    return out


@dataclass
class LeagueRow:
    """One institution in the league table."""

    rank: int
    institution_id: int
    name: str
    score: Decimal
    mean: Decimal
    count: int
    items: dict[str, Decimal] = field(default_factory=dict)
    badge: bool = False


def league_table(*, region_prefix: str = "", sort: str = "score") -> list[LeagueRow]:
    """Institutions ranked by their Bayesian score over the active ratings enterprises gave them
    (only ratings of loans to enterprises in ``region_prefix`` when given; the prior mean is
    that set's mean). ``sort`` is ``score``, ``count`` or an item code (its mean). Two grouped
    queries: totals per institution, item means per institution and item."""
    active = Rating.objects.filter(
        status=RatingStatus.ACTIVE, direction=RatingDirection.OF_INSTITUTION
    )
    scores = RatingScore.objects.filter(
        rating__status=RatingStatus.ACTIVE, rating__direction=RatingDirection.OF_INSTITUTION
    )
    if region_prefix:
        active = active.filter(entity__division_code__startswith=region_prefix)
        scores = scores.filter(rating__entity__division_code__startswith=region_prefix)
    totals = list(
        active.order_by().values("institution_id").annotate(n=Count("id"), total=Sum("composite"))
    )
    if not totals:
        return []
    items: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for iid, item, mean in (
        scores.order_by().values_list("rating__institution_id", "item").annotate(mean=Avg("score"))
    ):
        items[iid][item] = Decimal(str(mean)).quantize(CENT, rounding=ROUND_HALF_UP)
    n_all = sum(t["n"] for t in totals)
    prior = sum((Decimal(t["total"]) for t in totals), Decimal(0)) / n_all
    names = dict(
        Organisation.objects.filter(pk__in=[t["institution_id"] for t in totals]).values_list(
            "pk", "name"
        )
    )
    rows = []
    for t in totals:
        score = bayes_score(total=Decimal(t["total"]), count=t["n"], prior_mean=prior)
        rows.append(
            LeagueRow(
                rank=0,
                institution_id=t["institution_id"],
                name=names.get(t["institution_id"], ""),
                score=score,
                mean=(Decimal(t["total"]) / t["n"]).quantize(CENT, rounding=ROUND_HALF_UP),
                count=t["n"],
                items=items.get(t["institution_id"], {}),
                badge=score >= BADGE_SCORE and t["n"] >= BADGE_MIN_COUNT,
            )
        )
    item_codes = ITEMS[RatingDirection.OF_INSTITUTION]

    def key(r: LeagueRow) -> tuple[Any, ...]:
        if sort in item_codes:
            return (-r.items.get(sort, Decimal(0)), -r.score, r.name)
        if sort == "count":
            return (-r.count, -r.score, r.name)
        return (-r.score, -r.count, r.name)

    rows.sort(key=key)
    for i, r in enumerate(rows, start=1):
        r.rank = i
    return rows


def ratings_visible(user: Any) -> QuerySet[Rating]:
    return (
        Rating.objects.restrict(user)
        .select_related("loan", "entity", "institution")
        .prefetch_related("scores")
    )


def appeals_visible(user: Any) -> QuerySet[RatingAppeal]:
    return RatingAppeal.objects.restrict(user).select_related(
        "rating", "rating__loan", "rating__entity", "rating__institution", "appellant"
    )
