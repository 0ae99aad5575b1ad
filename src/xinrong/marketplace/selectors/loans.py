"""Reads of loans: the loan of an application, a visible loan, lookup by number."""

from __future__ import annotations

from django.db.models import Case, Q, Value, When
from django.utils.translation import gettext as _

from xinrong.accounts.models import User
from xinrong.common.errors import NotFoundError
from xinrong.marketplace.models import Loan, LoanApplication
from xinrong.marketplace.selectors.applications import applications_visible


def loan_of(*, application: LoanApplication) -> Loan | None:
    """Return the application's loan, if disbursed."""
    return Loan.objects.filter(application=application).first()


def loan_visible_get(*, user: User, pk: int) -> Loan:
    """Return a loan whose application the user may see, or 404."""
    loan = (
        Loan.objects.select_related("application")
        .filter(pk=pk, application__in=applications_visible(user=user))
        .first()
    )
    if loan is None:
        raise NotFoundError("not_found", _("贷款不存在"))
    return loan


def loan_by_number(*, user: User, number: str) -> Loan:
    """Return a loan the user may see by the platform's number or, for its own institution, by
    the institution's own 借据号 (bank loan number), or 404."""
    own_no = Q(bank_loan_no=number, institution_id=user.organisation_id) if number else Q()
    loan = (
        Loan.objects.select_related("application")
        .filter(Q(number=number) | own_no, application__in=applications_visible(user=user))
        # the platform's number wins if a 借据号 happens to equal another loan's number
        .order_by(Case(When(number=number, then=Value(0)), default=Value(1)), "pk")
        .first()
    )
    if loan is None:
        raise NotFoundError("not_found", _("贷款不存在"))
    return loan
