"""What the policy module puts on each side's workbench: the work waiting, in counts and links.

An enterprise sees the measures it qualifies for (and what they could bring), its applications in
progress and what it was granted; a lender the 贴息 lines waiting for its confirmation.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Sum

from xinrong.accounts.permissions import can
from xinrong.policies.choices import FundApplicationStatus, GrantStatus, SubsidyLineStatus
from xinrong.policies.models import FundApplication, Grant, SubsidyLine
from xinrong.policies.selectors.matching import my_policies, user_entity

OPEN = (
    FundApplicationStatus.DRAFT,
    FundApplicationStatus.SUBMITTED,
    FundApplicationStatus.IN_REVIEW,
    FundApplicationStatus.APPROVED,
)


def enterprise_card(*, user: Any) -> dict[str, Any] | None:
    """The enterprise's policy card (None when the user may not see its own matches)."""
    entity = user_entity(user)
    if entity is None or not can(user, "policies.my_policies_view"):
        return None
    result = my_policies(entity=entity)
    estimated = sum((i.estimated_amount or Decimal(0) for i in result.eligible), Decimal(0))
    granted = Grant.objects.filter(
        entity=entity, status__in=(GrantStatus.COMMITTED, GrantStatus.DISBURSED)
    ).aggregate(s=Sum("amount"))["s"] or Decimal(0)
    return {
        "eligible": len(result.eligible),
        "near": len(result.near),
        "estimated": estimated,
        "top": result.eligible[:3],
        "applications_open": FundApplication.objects.filter(entity=entity, status__in=OPEN).count(),
        "granted": granted,
        "show_funds": can(user, "policies.fund_mine"),
    }


def lender_card(*, user: Any) -> dict[str, Any] | None:
    """The 贴息 lines of the user's institution waiting for its confirmation (None: not its
    work)."""
    if user.organisation_id is None or not can(user, "policies.subsidy_line_confirm"):
        return None
    pending = SubsidyLine.objects.filter(
        institution_id=user.organisation_id, status=SubsidyLineStatus.PENDING
    )
    total = pending.aggregate(s=Sum("amount"))["s"] or Decimal(0)
    return {
        "lines": pending.count(),
        "batches": pending.values("batch_id").distinct().count(),
        "amount": total,
    }
