"""Reads of loans: the loan of an application, a visible loan, lookup by number."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Case, Q, Value, When
from django.utils.translation import gettext as _

from xinrong.accounts.models import User
from xinrong.common.errors import NotFoundError
from xinrong.marketplace.models import Loan, LoanApplication, LoanInstalment
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


ZERO = Decimal("0.00")


@dataclass(frozen=True)
class InstalmentRow:
    """One line of the schedule as shown: what was due, what is paid, what is late and how long."""

    seq: int
    due_on: dt.date
    principal_due: Decimal
    interest_due: Decimal
    paid: Decimal  # principal + interest received, to the fen
    paid_on: dt.date | None
    left: Decimal  # due and not yet paid
    days_overdue: int  # 0 unless unpaid and past its due date


@dataclass(frozen=True)
class LoanPosition:
    """A loan's schedule and arrears on one (Beijing) day, all sums as Decimal."""

    rows: list[InstalmentRow] = field(default_factory=list)
    paid_total: Decimal = ZERO
    overdue_amount: Decimal = ZERO
    overdue_count: int = 0
    days_past_due: int = 0  # from the oldest unpaid instalment past its due date


def loan_position(loan: Loan, today: dt.date) -> LoanPosition:
    """Return the loan's schedule with paid sums and arrears as of ``today`` (a Beijing date).

    Days past due count from the oldest instalment still unpaid after its due date, so a
    defaulted loan keeps counting (its stored ``overdue_days`` stops at the default)."""
    rows: list[InstalmentRow] = []
    lines: list[LoanInstalment] = list(loan.instalments.order_by("seq"))
    for i in lines:
        paid = (i.principal_paid or ZERO) + (i.interest_paid or ZERO)
        left = max(i.principal_due + i.interest_due - paid, ZERO) if i.paid_on is None else ZERO
        late = (today - i.due_on).days if i.paid_on is None and i.due_on < today else 0
        rows.append(
            InstalmentRow(
                seq=i.seq,
                due_on=i.due_on,
                principal_due=i.principal_due,
                interest_due=i.interest_due,
                paid=paid,
                paid_on=i.paid_on,
                left=left,
                days_overdue=late,
            )
        )
    late_rows = [r for r in rows if r.days_overdue > 0]
    return LoanPosition(
        rows=rows,
        paid_total=sum((r.paid for r in rows), ZERO),
        overdue_amount=sum((r.left for r in late_rows), ZERO),
        overdue_count=len(late_rows),
        days_past_due=max((r.days_overdue for r in late_rows), default=0),
    )
