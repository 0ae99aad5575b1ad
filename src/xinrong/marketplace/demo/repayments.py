"""Repayment of the demo loans, the loan facts delivered to datahub, and the lenders' watch list.

Good loans are repaid on schedule (a few days late now and then); bad loans stop paying at a
random point within their first year, go overdue and are declared in default after 90 days.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from xinrong.accounts.models import Organisation
from xinrong.credit.models import LoanWatch
from xinrong.datahub.services.sources import platform_loan_events_record
from xinrong.enterprises.models import MarketEntity
from xinrong.marketplace.choices import (
    LoanStatus,
)
from xinrong.marketplace.demo.base import DEFAULT_AFTER_DAYS, TEXTS, FinancingReport, Plan, at_ten
from xinrong.marketplace.models import (
    Loan,
    LoanInstalment,
    Repayment,
)


def repay(
    loan: Loan,
    lines: list[Any],
    p: Plan,
    rng: random.Random,
    today: dt.date,
    instalments: list[LoanInstalment],
    repayments: list[Repayment],
    report: FinancingReport,
) -> None:
    """Pay the schedule up to today: good loans on time, bad ones stop within the first year."""
    # a bad loan stops paying early enough to be in default within its first year
    stop_after = loan.disbursed_on + dt.timedelta(days=rng.randint(30, 260)) if p.bad else None
    paid_principal = Decimal("0")
    facts = report.loan_events

    def fact(event: str, on: dt.date, **kw: Any) -> None:
        facts.append({"loan": loan, "event": event, "occurred_on": on, **kw})

    fact("disbursed", loan.disbursed_on, amount=loan.principal, outstanding=loan.principal)
    last_paid: dt.date | None = None
    first_unpaid: dt.date | None = None
    for line in lines:
        inst = LoanInstalment(
            loan=loan,
            seq=line.seq,
            due_on=line.due_on,
            principal_due=line.principal,
            interest_due=line.interest,
        )
        instalments.append(inst)
        if line.due_on > today:
            continue
        if stop_after is not None and line.due_on >= stop_after:
            first_unpaid = first_unpaid or line.due_on
            continue
        late = rng.choice([0] * 18 + [3, 7])
        paid_on = min(line.due_on + dt.timedelta(days=late), today)
        inst.principal_paid, inst.interest_paid, inst.paid_on = (
            line.principal,
            line.interest,
            paid_on,
        )
        paid_principal += line.principal
        fact(
            "repaid",
            paid_on,
            amount=line.total,
            outstanding=loan.principal - paid_principal,
            overdue_days=late,
        )
        last_paid = max(last_paid or paid_on, paid_on)
        repayments.append(
            Repayment(
                loan=loan,
                paid_on=paid_on,
                amount=line.total,
                principal=line.principal,
                interest=line.interest,
                created_at=at_ten(paid_on),
            )
        )
        loan.max_overdue_days = max(loan.max_overdue_days, late)
    loan.outstanding = loan.principal - paid_principal
    if first_unpaid is not None:
        days = (today - first_unpaid).days
        for milestone in (1, 30, 60, DEFAULT_AFTER_DAYS):
            if milestone <= days:
                fact(
                    "overdue",
                    first_unpaid + dt.timedelta(days=milestone),
                    outstanding=loan.principal - paid_principal,
                    overdue_days=milestone,
                )
        loan.max_overdue_days = max(loan.max_overdue_days, min(days, DEFAULT_AFTER_DAYS))
        if days >= DEFAULT_AFTER_DAYS:
            loan.status = LoanStatus.DEFAULTED
            loan.defaulted_on = first_unpaid + dt.timedelta(days=DEFAULT_AFTER_DAYS)
            loan.overdue_days = DEFAULT_AFTER_DAYS
            fact(
                "defaulted",
                loan.defaulted_on,
                outstanding=loan.principal - paid_principal,
                overdue_days=DEFAULT_AFTER_DAYS,
            )
        else:
            loan.status = LoanStatus.OVERDUE
            loan.overdue_days = days
    elif loan.outstanding == 0:
        loan.status = LoanStatus.SETTLED
        loan.settled_on = last_paid
        assert last_paid is not None
        fact("settled", last_paid, outstanding=Decimal("0"))


def record_loan_facts(report: FinancingReport) -> None:
    """Deliver every seeded loan event to datahub as one platform batch (what credit reads)."""
    if not report.loan_events:
        return
    loans = {id(e["loan"]): e["loan"] for e in report.loan_events}.values()
    uscc = dict(
        MarketEntity.objects.filter(pk__in={loan.entity_id for loan in loans}).values_list(
            "pk", "uscc"
        )
    )
    names = dict(
        Organisation.objects.filter(pk__in={loan.institution_id for loan in loans}).values_list(
            "pk", "name"
        )
    )
    rows = []
    for e in report.loan_events:
        loan = e.pop("loan")
        rows.append(
            {
                "uscc": uscc[loan.entity_id],
                "loan_no": loan.number,
                "institution": names[loan.institution_id],
                "maturity_on": loan.maturity_on,
                "first_loan": loan.first_loan,
                "renewal": loan.renewal,
                **e,
            }
        )
    platform_loan_events_record(rows=rows, note=TEXTS["applications"]["loan_facts_note"])
    report.loan_events = []


def watch_open_loans() -> None:
    """Lenders of loans not yet settled receive their borrowers' early warnings."""
    LoanWatch.objects.bulk_create(
        [
            LoanWatch(entity_id=e, institution_id=i, reference=n)
            for e, i, n in Loan.objects.exclude(status=LoanStatus.SETTLED).values_list(
                "entity_id", "institution_id", "number"
            )
        ],
        batch_size=2000,
        ignore_conflicts=True,
    )
