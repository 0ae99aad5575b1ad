"""Writes of loans: disbursement, repayments, overdue and default, the overdue sweep."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts.models import User
from xinrong.common.errors import ApplicationError, ConflictError
from xinrong.common.templatetags.money import amount_text
from xinrong.credit.services.archive import authorisation_end
from xinrong.credit.services.early_warning import loan_watch_end, loan_watch_start
from xinrong.datahub.services.sources import (
    platform_loan_event_enqueue,
    platform_loan_events_record,
)
from xinrong.enterprises.models import MarketEntity
from xinrong.marketplace.choices import ApplicationStatus, LoanStatus
from xinrong.marketplace.models import Loan, LoanApplication, LoanInstalment, Repayment
from xinrong.marketplace.schedule import schedule
from xinrong.marketplace.services.common import APPLICATION_PREFIX, _app_locked, _apply
from xinrong.marketplace.services.demands import _demand_close_funded
from xinrong.marketplace.workflows import APPLICATION

logger = logging.getLogger(__name__)


@transaction.atomic
def application_disburse(
    *,
    application: LoanApplication,
    actor: User,
    amount: Decimal,
    disbursed_on: dt.date | None = None,
    loan_no: str = "",
    via_api: bool = False,
) -> Loan:
    """Disburse the loan: create it with its repayment schedule, first-loan and renewal flags."""
    app = _app_locked(application)
    APPLICATION.check(actor, app, "disburse")
    assert app.approved_amount is not None and app.approved_rate is not None
    assert app.approved_term_months is not None
    if not Decimal("0") < amount <= app.approved_amount:
        raise ValidationError(
            {
                "amount": _("放款金额须大于 0 且不超过批准金额 %(a)s")
                % {"a": amount_text(app.approved_amount)}
            },
            code="out_of_range",
        )
    day = disbursed_on or timezone.localdate()
    if (app.contract_signed_on and day < app.contract_signed_on) or day > timezone.localdate():
        raise ValidationError(
            {"disbursed_on": _("放款日期须在签约日期之后且不晚于今天")}, code="out_of_range"
        )
    bank_no = (loan_no or "").strip()
    if len(bank_no) > 64:
        raise ValidationError({"loan_no": _("借据号不超过 64 个字符")}, code="max_length")
    own = Loan.objects.filter(institution_id=app.institution_id, bank_loan_no=bank_no)
    if bank_no and own.exists():
        raise ConflictError(
            "duplicate_loan_no",
            _("本机构已有借据号为 %(n)s 的贷款") % {"n": bank_no},
            {"field": "loan_no"},
        )
    if app.renewal_of_id is not None:
        _ensure_renewable(app, amount)
    # the entity's row is the lock that makes "no earlier loan" true for exactly one disbursement
    MarketEntity.objects.select_for_update().filter(pk=app.entity_id).first()
    earlier = Loan.objects.filter(entity_id=app.entity_id).exists()
    lines = schedule(
        principal=amount,
        annual_rate=app.approved_rate,
        term_months=app.approved_term_months,
        method=app.repayment_method,
        start=day,
    )
    try:
        with transaction.atomic():  # a savepoint: a concurrent equal 借据号 is a 409, not a 500
            loan = _loan_create(app, bank_no, amount, day, lines, first=not earlier)
    except IntegrityError as exc:
        raise ConflictError(
            "duplicate_loan_no",
            _("本机构已有借据号为 %(n)s 的贷款") % {"n": bank_no},
            {"field": "loan_no"},
        ) from exc
    _loan_fact(loan, event="disbursed", on=day, amount=amount)
    loan_watch_start(entity=app.entity, institution=app.institution, reference=loan.number)
    if app.demand_id is not None:
        _demand_close_funded(app, loan)
    if app.renewal_of_id is not None:
        _loan_roll_over(Loan(pk=app.renewal_of_id), by=loan, actor=actor, via_api=via_api)
    _apply(
        app,
        "disburse",
        actor=actor,
        via_api=via_api,
        note=_("贷款 %(n)s 放款 %(a)s；首期还款日 %(d)s，到期日 %(m)s")
        % {
            "n": loan.number,
            "a": amount_text(amount),
            "d": lines[0].due_on.isoformat(),
            "m": loan.maturity_on.isoformat(),
        },
        data={"loan": loan.number, "amount": str(amount), "disbursed_on": day.isoformat()},
    )
    return loan


OVERDUE_MILESTONES = (1, 30, 60, 90)  # overdue days recorded as facts (M1, M2, M3 buckets)


def loan_event_row(
    loan: Loan,
    *,
    event: str,
    on: dt.date,
    amount: Decimal | None = None,
    overdue_days: int | None = None,
) -> dict[str, Any]:
    """Return one loan event as datahub's platform loan row (see platform_loan_events_record).

    ``overdue_days`` is the loan's days past due unless given: a repayment carries how late it
    was paid (its oldest instalment's days past due on the payment day), not what is left after.
    """
    return {
        "uscc": loan.entity.uscc,
        "loan_no": loan.number,
        "institution": loan.institution.name,
        "event": event,
        "occurred_on": on,
        "amount": amount,
        "outstanding": loan.outstanding,
        "overdue_days": loan.overdue_days if overdue_days is None else overdue_days,
        "maturity_on": loan.maturity_on,
        "first_loan": loan.first_loan,
        "renewal": loan.renewal,
    }


def _loan_fact(
    loan: Loan,
    *,
    event: str,
    on: dt.date,
    amount: Decimal | None = None,
    overdue_days: int | None = None,
) -> None:
    """Keep the event for datahub in the same transaction: credit scores loan history and
    trains on platform outcomes from these facts. A coalesced flush records the events of a few
    seconds as one ingest batch (one rescoring follows), rather than a batch per call; the
    loan's own pages read the loan tables, not these facts."""
    platform_loan_event_enqueue(
        row=loan_event_row(loan, event=event, on=on, amount=amount, overdue_days=overdue_days),
        note=f"{loan.number} {event}",
    )


def _loan_locked(loan: Loan) -> tuple[Loan, LoanApplication]:
    loan = Loan.objects.select_for_update().select_related("entity", "institution").get(pk=loan.pk)
    return loan, _app_locked(loan.application)


def _overdue_days(loan: Loan, today: dt.date) -> int:
    first_unpaid = (
        loan.instalments.filter(paid_on__isnull=True, due_on__lt=today)
        .order_by("due_on")
        .values_list("due_on", flat=True)
        .first()
    )
    return (today - first_unpaid).days if first_unpaid else 0


def _loan_create(
    app: LoanApplication,
    bank_no: str,
    amount: Decimal,
    day: dt.date,
    lines: list[Any],
    *,
    first: bool,
) -> Loan:
    """Write the loan and its schedule."""
    assert app.approved_rate is not None and app.approved_term_months is not None
    loan = Loan.objects.create(
        application=app,
        entity_id=app.entity_id,
        institution_id=app.institution_id,
        number=f"DK{app.number[len(APPLICATION_PREFIX) :]}",
        bank_loan_no=bank_no,
        principal=amount,
        annual_rate=app.approved_rate,
        term_months=app.approved_term_months,
        repayment_method=app.repayment_method,
        disbursed_on=day,
        maturity_on=lines[-1].due_on,
        first_loan=first,
        renewal=app.renewal_of_id is not None,
        outstanding=amount,
    )
    LoanInstalment.objects.bulk_create(
        LoanInstalment(
            loan=loan,
            seq=line.seq,
            due_on=line.due_on,
            principal_due=line.principal,
            interest_due=line.interest,
        )
        for line in lines
    )
    return loan


def _ensure_renewable(app: LoanApplication, amount: Decimal) -> None:
    """Check, with the old loan locked, that a renewal may still replace it: the loan is open,
    in good standing for 无还本续贷, and the new principal covers what is left of it."""
    assert app.renewal_of_id is not None
    old = Loan.objects.select_for_update().get(pk=app.renewal_of_id)
    if old.status not in (LoanStatus.CURRENT, LoanStatus.OVERDUE):
        raise ConflictError(
            "not_renewable",
            _("原贷款“%(n)s”已%(s)s，不能再以续贷结清")
            % {"n": old.number, "s": old.get_status_display()},
            {"field": "renewal_of"},
        )
    if app.without_principal_repayment and old.status != LoanStatus.CURRENT:
        raise ConflictError(
            "not_renewable",
            _("原贷款“%(n)s”已逾期，不能办理无还本续贷") % {"n": old.number},
            {"field": "renewal_of"},
        )
    if amount < old.outstanding:
        raise ValidationError(
            {
                "amount": _("续贷放款金额须不少于原贷款余额 %(o)s，实际为 %(a)s")
                % {"o": amount_text(old.outstanding), "a": amount_text(amount)}
            },
            code="out_of_range",
        )


def _loan_roll_over(old: Loan, *, by: Loan, actor: User, via_api: bool) -> None:
    """Close the loan a renewal replaces: the new loan repays it (借新还旧) or, for 无还本续贷,
    carries its principal on; either way the old loan ends settled on the renewal's day."""
    old, app = _loan_locked(old)
    assert old.status in (LoanStatus.CURRENT, LoanStatus.OVERDUE)  # _ensure_renewable checked
    day = by.disbursed_on
    old.status, old.settled_on = LoanStatus.SETTLED, day
    old.outstanding, old.overdue_days = Decimal("0"), 0
    old.save(update_fields=["status", "settled_on", "outstanding", "overdue_days", "updated_at"])
    _loan_fact(old, event="settled", on=day)
    loan_watch_end(institution=old.institution, reference=old.number)
    how = _("无还本续贷") if by.application.without_principal_repayment else _("借新还旧")
    _apply(
        app,
        "settle",
        actor=actor,
        via_api=via_api,
        note=_("由续贷 %(n)s 结清（%(h)s）") % {"n": by.number, "h": how},
        data={"renewed_by": by.number},
        update=_closed,
    )
    if app.authorisation is not None:  # imported history has no platform consent
        authorisation_end(authorisation=app.authorisation)


def _closed(app: LoanApplication) -> None:
    app.closed_at = timezone.now()


def _crossed(before: int, after: int) -> bool:
    """Whether overdue days went past one of the milestones recorded as facts."""
    return any(before < m <= after for m in OVERDUE_MILESTONES)


def _event_day(value: dt.date | None, loan: Loan, *, field: str) -> dt.date:
    """Return a loan event's date, which must lie between the disbursement and today."""
    day = value or timezone.localdate()
    if not loan.disbursed_on <= day <= timezone.localdate():
        raise ValidationError(
            {
                field: _("日期须在放款日期 %(d)s 与今天之间，实际为 %(v)s")
                % {"d": loan.disbursed_on.isoformat(), "v": day.isoformat()}
            },
            code="out_of_range",
        )
    return day


@transaction.atomic
def loan_repayment_record(
    *,
    loan: Loan,
    actor: User,
    amount: Decimal,
    paid_on: dt.date | None = None,
    via_api: bool = False,
) -> Repayment:
    """Record a repayment: it pays the oldest instalments first, interest before principal.

    What remains decides the status: nothing owed settles the loan; an instalment still past due
    leaves (or makes) it overdue; otherwise it is repaying. On a defaulted loan a repayment is a
    recovery: the loan stays in default until it is paid off.
    """
    loan, app = _loan_locked(loan)
    APPLICATION.check(actor, app, "repay")
    day = _event_day(paid_on, loan, field="paid_on")
    instalments = list(loan.instalments.filter(paid_on__isnull=True).order_by("seq"))
    late = _overdue_days(loan, day)  # how late this payment is: the portrait's and archive's 7天
    owed = sum((i.due_left for i in instalments), Decimal("0"))
    if not Decimal("0") < amount <= owed:
        raise ValidationError(
            {"amount": _("还款金额须大于 0 且不超过尚欠本息 %(o)s") % {"o": amount_text(owed)}},
            code="out_of_range",
        )
    left = amount
    principal = interest = Decimal("0")
    for inst in instalments:
        if left <= 0:
            break
        pay_i = min(left, inst.interest_due - inst.interest_paid)
        inst.interest_paid += pay_i
        left -= pay_i
        pay_p = min(left, inst.principal_due - inst.principal_paid)
        inst.principal_paid += pay_p
        left -= pay_p
        interest += pay_i
        principal += pay_p
        if inst.due_left == 0:
            inst.paid_on = day
        inst.save(update_fields=["interest_paid", "principal_paid", "paid_on"])
    repayment = Repayment.objects.create(
        loan=loan,
        paid_on=day,
        amount=amount,
        principal=principal,
        interest=interest,
        recorded_by=actor,
    )
    loan.outstanding -= principal
    before = loan.overdue_days
    settled = not loan.instalments.filter(paid_on__isnull=True).exists()
    loan.overdue_days = 0 if settled else _overdue_days(loan, timezone.localdate())
    loan.max_overdue_days = max(loan.max_overdue_days, loan.overdue_days, late)
    if settled:
        loan.status, loan.settled_on = LoanStatus.SETTLED, day
        target = ApplicationStatus.SETTLED  # the "settle" action's own target
    elif loan.status == LoanStatus.DEFAULTED:
        target = ApplicationStatus.DEFAULTED  # a recovery
    elif loan.overdue_days > 0:
        loan.status, target = LoanStatus.OVERDUE, ApplicationStatus.OVERDUE
    else:
        loan.status, target = LoanStatus.CURRENT, ApplicationStatus.REPAYING
    loan.save(
        update_fields=[
            "outstanding",
            "overdue_days",
            "max_overdue_days",
            "status",
            "settled_on",
            "updated_at",
        ]
    )
    data = {"amount": str(amount), "principal": str(principal), "interest": str(interest)}
    _loan_fact(loan, event="repaid", on=day, amount=amount, overdue_days=late)
    if loan.status == LoanStatus.OVERDUE and _crossed(before, loan.overdue_days):
        _loan_fact(loan, event="overdue", on=timezone.localdate())
    if settled:
        _loan_fact(loan, event="settled", on=day)
        loan_watch_end(institution=loan.institution, reference=loan.number)
        if app.authorisation is not None:  # imported history has no platform consent
            authorisation_end(authorisation=app.authorisation)
        _apply(app, "settle", actor=actor, via_api=via_api, data=data, update=_closed)
    else:
        _apply(app, "repay", actor=actor, via_api=via_api, data=data, target=target)
    return repayment


@transaction.atomic
def loan_overdue_mark(
    *, loan: Loan, actor: User | None, as_of: dt.date | None = None, via_api: bool = False
) -> Loan:
    """Mark a loan overdue because an instalment due before ``as_of`` (today by default, never
    later) is unpaid."""
    loan, app = _loan_locked(loan)
    APPLICATION.check(actor, app, "overdue")
    today = _event_day(as_of, loan, field="as_of")
    days = _overdue_days(loan, today)
    if days == 0:
        raise ConflictError("not_overdue", _("贷款 %(n)s 没有逾期未还的期次") % {"n": loan.number})
    loan.overdue_days = days
    loan.max_overdue_days = max(loan.max_overdue_days, days)
    loan.status = LoanStatus.OVERDUE
    loan.save(update_fields=["overdue_days", "max_overdue_days", "status", "updated_at"])
    _loan_fact(loan, event="overdue", on=today)
    _apply(
        app,
        "overdue",
        actor=actor,
        via_api=via_api,
        note=_("贷款 %(n)s 已逾期 %(d)s 天") % {"n": loan.number, "d": days},
        data={"overdue_days": days},
    )
    return loan


@transaction.atomic
def loan_default_declare(
    *, loan: Loan, actor: User, note: str, on: dt.date | None = None, via_api: bool = False
) -> Loan:
    """Declare an overdue loan in default (the reviewer's decision, with a written reason)."""
    loan, app = _loan_locked(loan)
    APPLICATION.check(actor, app, "default")
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("请填写违约认定说明")}, code="required")
    loan.status = LoanStatus.DEFAULTED
    loan.defaulted_on = _event_day(on, loan, field="on")
    loan.save(update_fields=["status", "defaulted_on", "updated_at"])
    _loan_fact(loan, event="defaulted", on=loan.defaulted_on)
    _apply(
        app,
        "default",
        actor=actor,
        note=note,
        via_api=via_api,
        data={"outstanding": str(loan.outstanding), "overdue_days": loan.overdue_days},
        update=_closed,
    )
    return loan


SWEEP_PART = 5_000  # loans per IN list of the overdue sweep
OVERDUE_SOURCES = APPLICATION.action("overdue").sources


def loans_overdue_sweep(*, as_of: dt.date | None = None) -> int:
    """Mark loans with an unpaid past-due instalment overdue and keep their days current.

    One grouped query finds the late loans. A loan that just fell overdue moves its application
    (timeline event, notice, fact) one by one, and a failure there is logged and skipped, never
    stopping the sweep; loans already overdue get their days in one bulk update, and the 30/60/90
    day milestones they cross go to datahub as one platform batch. Returns how many loans became
    overdue.
    """
    today = as_of or timezone.localdate()
    late = dict(
        LoanInstalment.objects.filter(
            paid_on__isnull=True,
            due_on__lt=today,
            loan__status__in=(LoanStatus.CURRENT, LoanStatus.OVERDUE),
        )
        .values("loan_id")
        .annotate(first_due=Min("due_on"))
        .values_list("loan_id", "first_due")
    )
    newly = 0
    ids = sorted(late)
    for i in range(0, len(ids), SWEEP_PART):
        loans = list(
            Loan.objects.filter(pk__in=ids[i : i + SWEEP_PART]).select_related(
                "application", "entity", "institution"
            )
        )
        fresh = [loan for loan in loans if loan.application.status in OVERDUE_SOURCES]
        for loan in fresh:
            try:
                loan_overdue_mark(loan=loan, actor=None, as_of=today)
                newly += 1
            except (ApplicationError, ValidationError):
                logger.exception("overdue sweep: loan %s skipped", loan.number)
        fresh_ids = {loan.pk for loan in fresh}
        _overdue_days_advance([loan.pk for loan in loans if loan.pk not in fresh_ids], late, today)
    return newly


@transaction.atomic
def _overdue_days_advance(ids: list[int], late: dict[int, dt.date], today: dt.date) -> None:
    """Advance the days of loans already overdue, re-read under lock (a repayment, settlement or
    default committed meanwhile is not overwritten); milestones go to datahub as one batch."""
    loans = list(
        Loan.objects.select_for_update(of=("self",))
        .filter(pk__in=ids, status=LoanStatus.OVERDUE)
        .select_related("entity", "institution")
    )
    rows = []
    stamp = timezone.now()
    for loan in loans:
        days = (today - late[loan.pk]).days
        crossed = _crossed(loan.overdue_days, days)
        loan.overdue_days = days
        loan.max_overdue_days = max(loan.max_overdue_days, days)
        loan.updated_at = stamp
        if crossed:
            rows.append(loan_event_row(loan, event="overdue", on=today))
    Loan.objects.bulk_update(loans, ["overdue_days", "max_overdue_days", "updated_at"])
    if rows:
        platform_loan_events_record(rows=rows, note=f"逾期天数 {today.isoformat()}")
