"""Reads of guarantee and credit-insurance requests: each user sees only its side's rows."""

from __future__ import annotations

from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _

from xinrong.accounts.models import User
from xinrong.common.errors import NotFoundError
from xinrong.marketplace.choices import GUARANTEE_KINDS, ProductStatus
from xinrong.marketplace.models import (
    GuaranteeRequest,
    GuaranteeRequestEvent,
    LoanApplication,
    Product,
)


def guarantee_requests_visible(*, user: User, status: str = "") -> QuerySet[GuaranteeRequest]:
    """Return the requests the user may see (the provider's, the lender's, the enterprise's, or
    the operator's), newest first."""
    qs = GuaranteeRequest.objects.restrict(user).select_related(
        "application__entity", "application__institution", "product", "provider"
    )
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


def guarantee_request_get(*, user: User, pk: int) -> GuaranteeRequest:
    """Return one visible request, or 404 (never reveal others' requests)."""
    found = guarantee_requests_visible(user=user).filter(pk=pk).first()
    if found is None:
        raise NotFoundError("not_found", _("担保/保险申请不存在"))
    return found


def guarantee_status_counts(*, user: User) -> dict[str, int]:
    """Return how many visible requests are in each status."""
    rows = (
        GuaranteeRequest.objects.restrict(user)
        .order_by()
        .values("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return dict(rows)


def guarantee_requests_of(
    *, user: User, application: LoanApplication
) -> QuerySet[GuaranteeRequest]:
    """Return the visible requests attached to one application, newest first."""
    return guarantee_requests_visible(user=user).filter(application=application)


def guarantee_events(*, request: GuaranteeRequest) -> QuerySet[GuaranteeRequestEvent]:
    """Return a request's timeline, oldest first."""
    return request.events.select_related("actor", "organisation").order_by("created_at", "id")


def guarantee_products() -> QuerySet[Product]:
    """Return the published guarantee and insurance products (to attach to an application)."""
    return (
        Product.objects.filter(
            status=ProductStatus.PUBLISHED, institution__kind__in=sorted(GUARANTEE_KINDS)
        )
        .select_related("institution")
        .order_by("institution__kind", "institution__name", "name")
    )
