"""Reads of 贴息 batches: who sees which batches and lines, and a batch's sums."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from xinrong.accounts.permissions import (
    can,
    is_department,
    is_institution,
    region_q,
    require,
)
from xinrong.common.errors import NotFoundError
from xinrong.policies.choices import MeasureKind, MeasureStatus
from xinrong.policies.models import Measure, SubsidyBatch, SubsidyLine
from xinrong.policies.rules.funds import is_finance


def batches_visible(*, user: Any) -> QuerySet[SubsidyBatch]:
    """Batches the user may see: all (operator, departments), or those with its lines."""
    require(user, "policies.subsidy_view")
    qs = SubsidyBatch.objects.select_related("measure__document__department")
    if is_institution.test(user):
        qs = qs.filter(lines__institution_id=user.organisation_id).distinct()
    elif is_department.test(user) and not is_finance.test(user):
        # a department its own measures' batches; finance (which pays them) every department's
        qs = qs.filter(measure__document__department_id=user.organisation_id)
    if not is_institution.test(user):
        # a region-bound viewer (a sub-station, a county department): batches with its loans
        region = region_q(user, "entity__division_code")
        if region:
            qs = qs.filter(pk__in=SubsidyLine.objects.filter(region).values("batch_id"))
    return qs.annotate(
        n_lines=Count("lines", distinct=True),
        total=Sum("lines__amount"),
    ).order_by("-period_end", "-id")


def batch_get(*, user: Any, pk: int) -> SubsidyBatch:
    batch = batches_visible(user=user).filter(pk=pk).first()
    if batch is None:
        raise NotFoundError("not_found", _("贴息批次不存在"))
    return batch


def batch_lines(*, user: Any, batch: SubsidyBatch) -> QuerySet[SubsidyLine]:
    """The batch's lines the user may see (an institution: its own loans)."""
    qs = SubsidyLine.objects.filter(batch=batch).select_related("loan", "entity", "institution")
    if is_institution.test(user):
        qs = qs.filter(institution_id=user.organisation_id)
    else:
        qs = qs.filter(region_q(user, "entity__division_code"))
    return qs.order_by("entity__name", "loan__disbursed_on", "loan_id")


def batch_sums(lines: QuerySet[SubsidyLine]) -> dict[str, Decimal]:
    """The batch's totals: interest paid, computed, subsidy and the confirmed part."""
    agg = lines.order_by().aggregate(
        sum_interest=Sum("interest_paid"),
        sum_computed=Sum("computed"),
        sum_amount=Sum("amount"),
        sum_confirmed=Sum("amount", filter=Q(status="confirmed")),
    )
    return {k.removeprefix("sum_"): v or Decimal("0") for k, v in agg.items()}


def subsidy_measures(*, user: Any) -> list[Measure]:
    """Published interest-subsidy measures the user may calculate."""
    if not can(user, "policies.subsidy_calculate"):
        return []
    qs = Measure.objects.filter(
        kind=MeasureKind.INTEREST_SUBSIDY, status=MeasureStatus.PUBLISHED
    ).select_related("document")
    if is_department.test(user):
        qs = qs.filter(document__department_id=user.organisation_id)
    return [m for m in qs if can(user, "policies.subsidy_calculate", m)]
