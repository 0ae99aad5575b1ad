"""Reads of loan applications: visibility, events, counts, referrals, bank-sync changes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts.models import User
from xinrong.accounts.permissions import (
    is_central_operator_staff,
    is_enterprise_user,
    is_institution,
    is_substation_staff,
)
from xinrong.common.errors import NotFoundError
from xinrong.credit.selectors.lists import veto_reason
from xinrong.marketplace.choices import ACTIVE_STATUSES, PENDING_STATUSES
from xinrong.marketplace.eligibility import entity_facts
from xinrong.marketplace.matching import catalogue, rank_products
from xinrong.marketplace.models import ApplicationEvent, Demand, LoanApplication, Product
from xinrong.marketplace.rules import guarantee_backed_q
from xinrong.marketplace.selectors.common import user_entity
from xinrong.marketplace.selectors.products import products_by_id
from xinrong.reference import divisions

# ---------------------------------------------------------------- loan applications


def applications_visible(
    *, user: User, status: str | None = None, late_only: bool = False, backed: bool = False
) -> QuerySet[LoanApplication]:
    """Return the applications the user may see: its entity's, its institution's, or (operator)
    all of them; a regional sub-station sees its region's. Newest first.

    ``backed``: a guarantor or insurer also sees the applications its open guarantee requests
    back (``rules.guarantee_backed_q``) — the page of one application, not the lender's lists."""
    qs = LoanApplication.objects.select_related(
        "entity", "product", "institution", "product_version"
    )
    if is_enterprise_user.test(user):
        entity = user_entity(user=user)
        qs = qs.filter(entity=entity) if entity is not None else qs.none()
    elif is_institution.test(user):  # its own institution's
        own = Q(institution_id=user.organisation_id)
        backing = guarantee_backed_q(user) if backed else None
        qs = qs.filter(own | backing if backing is not None else own)
    elif is_central_operator_staff(user):
        pass
    elif is_substation_staff(user):
        assert user.organisation is not None
        prefix = divisions.descendants_prefix(user.organisation.region_code)
        qs = qs.filter(entity__division_code__startswith=prefix)
    else:
        qs = qs.none()
    if status:
        qs = qs.filter(status=status)
    if late_only:
        qs = qs.filter(status__in=PENDING_STATUSES, sla_due_at__lt=timezone.now())
    return qs.order_by("-submitted_at", "-id")


def application_visible_get(*, user: User, pk: int) -> LoanApplication:
    """Return one application the user may see, or 404 (never reveal others' applications); a
    guarantor or insurer also opens the applications its open guarantee requests back."""
    app = applications_visible(user=user, backed=True).filter(pk=pk).first()
    if app is None:
        raise NotFoundError("not_found", _("贷款申请不存在"))
    return app


def application_by_number(*, user: User, number: str) -> LoanApplication:
    """Return one visible application by its number, or 404."""
    app = applications_visible(user=user).filter(number=number).first()
    if app is None:
        raise NotFoundError("not_found", _("贷款申请不存在"))
    return app


def application_events(*, application: LoanApplication) -> QuerySet[ApplicationEvent]:
    """Return an application's timeline, oldest first."""
    return application.events.select_related("actor", "organisation").order_by("created_at", "id")


def application_status_counts(*, user: User) -> dict[str, int]:
    """Return how many visible applications are in each status (one grouped query)."""
    rows = (
        applications_visible(user=user)
        .order_by()
        .values("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return dict(rows)


@dataclass
class _ReferralTerms:
    amount: Decimal
    term_months: int
    max_rate: Decimal
    collateral_modes: list[str]


def referral_candidates(*, application: LoanApplication, limit: int = 5) -> list[Product]:
    """Return other institutions' products that fit a rejected application, best first."""
    demand = application.demand
    terms = _referral_terms(application, demand)
    facts = entity_facts(entity_ids=[application.entity_id]).get(application.entity_id)
    result = rank_products(
        catalogue(), terms, facts, limit=limit + 20, vetoed=veto_reason(application.entity_id)
    )
    taken = set(
        LoanApplication.objects.filter(
            entity_id=application.entity_id, status__in=ACTIVE_STATUSES
        ).values_list("product_id", flat=True)
    )
    ids = [
        m.product_id
        for m in result.matches
        if m.institution_id != application.institution_id and m.product_id not in taken
    ][:limit]
    found = products_by_id(ids=ids)
    return [found[i] for i in ids if i in found]


def _referral_terms(application: LoanApplication, demand: Demand | None) -> _ReferralTerms:
    return _ReferralTerms(
        amount=application.amount,
        term_months=application.term_months,
        max_rate=demand.max_rate if demand is not None else Decimal("36"),
        collateral_modes=list(demand.collateral_modes) if demand is not None else [],
    )


def applications_changed(
    *,
    user: User,
    after: tuple[dt.datetime, int] | None = None,
    status: str | None = None,
    limit: int = 20,
    changed_before: dt.datetime | None = None,
) -> list[LoanApplication]:
    """Return the user's visible applications changed after a (updated_at, id) position (and,
    if given, before ``changed_before``), oldest change first, with their loans and timelines (a
    cursor feed for institutions' systems)."""
    qs = applications_visible(user=user, status=status).select_related("loan")
    if changed_before is not None:
        qs = qs.filter(updated_at__lt=changed_before)
    if after is not None:
        moment, pk = after
        qs = qs.filter(Q(updated_at__gt=moment) | Q(updated_at=moment, pk__gt=pk))
    timeline = ApplicationEvent.objects.select_related("organisation").order_by("created_at", "id")
    return list(
        qs.prefetch_related(Prefetch("events", queryset=timeline)).order_by("updated_at", "id")[
            :limit
        ]
    )
