"""Shared by the demo financing modules: tuning, the report, the plan of one application, texts."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.utils import timezone

from xinrong.marketplace.choices import ApplicationStatus as S
from xinrong.marketplace.models import Loan, Product, ProductVersion

BORROWER_SHARE = 0.7  # of entities, at the demo scale; capped by MAX_BORROWERS (0.5 left the
# demo 49 bad loans with a full 12-month window on some days, one short of the 50 a platform-trained
# model needs; 0.7 gives 87-92 over the seeds tried)
MAX_BORROWERS = 6_000  # the article: 5,200+ financings by Aug 2022
HISTORY_DAYS = 1095  # loans disbursed over the last three years
BAD_RATE = 0.15
DEFAULT_AFTER_DAYS = 90
# share of borrowers whose application is still in the pipeline, by status
PIPELINE = (
    (S.SUBMITTED, 0.05),
    (S.ACCEPTED, 0.04),
    (S.UNDER_REVIEW, 0.04),
    (S.APPROVED, 0.02),
    (S.CONTRACT_SIGNED, 0.02),
    (S.REJECTED, 0.06),
    (S.WITHDRAWN, 0.03),
)
DEMAND_SHARE = 0.06
DEMO_BORROWERS = ("ent_owner", "ib_owner")

# texts and option lists (data/texts.toml)
TEXTS: dict[str, Any] = tomllib.loads(
    (Path(__file__).parent / "data" / "texts.toml").read_text("utf-8")
)


@dataclass
class FinancingReport:
    """What the financing seed wrote."""

    applications: int = 0
    loans: int = 0
    bad_loans: int = 0
    repayments: int = 0
    demands: int = 0
    users: int = 0
    loan_events: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Plan:
    entity_id: int
    org_id: int
    version: ProductVersion
    product: Product
    status: str
    submitted: dt.datetime
    amount: Decimal
    term: int
    bad: bool = False
    renewal_of: Loan | None = None
    first_loan: bool = True


def at_ten(day: dt.date) -> dt.datetime:
    """The day at 10:00 local time (when seeded events happen)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time(10, 0)))


def backdate(objs: list[Any], when: list[dt.datetime]) -> None:
    """Give bulk-created rows their historical timestamps (auto_now_add set them to now)."""
    for obj, at in zip(objs, when, strict=True):
        obj.created_at = obj.updated_at = at
    if objs:
        type(objs[0]).objects.bulk_update(objs, ["created_at", "updated_at"], batch_size=1000)
