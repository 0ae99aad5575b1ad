"""Interest subsidies (贴息) recorded on loans: the policy module pays, the loan shows it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from xinrong.common.errors import ApplicationError
from xinrong.marketplace.models import Loan, LoanSubsidy

CENT = Decimal("0.01")


def loan_subsidy_record(
    *,
    loan: Loan,
    amount: Decimal,
    period_start: dt.date,
    period_end: dt.date,
    title: str,
    reference: str,
) -> LoanSubsidy:
    """Record ``amount`` yuan of interest subsidy on ``loan`` for a period (idempotent).

    ``reference`` names the source (e.g. ``policies.subsidy_line:42``); recording the same
    reference again returns the existing row unchanged. Amount > 0 with at most two decimals.
    """
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
        raise ApplicationError(
            "invalid_amount", _("贴息金额必须大于0元"), {"field": "amount"}, status=422
        )
    if amount != amount.quantize(CENT):
        raise ApplicationError(
            "invalid_amount", _("贴息金额最多保留两位小数（分）"), {"field": "amount"}, status=422
        )
    if period_start > period_end:
        raise ApplicationError(
            "invalid_period",
            _("计息期间的开始日期不能晚于结束日期"),
            {"field": "period_start"},
            status=422,
        )
    reference = (reference or "").strip()[:64]
    if not reference:
        raise ApplicationError("reference_required", _("缺少贴息来源编号"), {"field": "reference"})
    existing = LoanSubsidy.objects.filter(reference=reference).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return LoanSubsidy.objects.create(
                loan=loan,
                amount=amount,
                period_start=period_start,
                period_end=period_end,
                title=(title or "")[:200],
                reference=reference,
            )
    except IntegrityError:  # recorded concurrently under the same reference
        return LoanSubsidy.objects.get(reference=reference)


def loan_subsidies_record(
    *,
    loans_amounts: list[tuple[Loan, Decimal, str]],
    period_start: dt.date,
    period_end: dt.date,
    title: str,
) -> int:
    """Record many subsidies of one period at once: ``(loan, amount, reference)`` each.

    Each row is checked as ``loan_subsidy_record`` checks one; references already recorded are
    left as they are (one bulk insert, conflicts ignored). Returns the rows given.
    """
    if period_start > period_end:
        raise ApplicationError(
            "invalid_period",
            _("计息期间的开始日期不能晚于结束日期"),
            {"field": "period_start"},
            status=422,
        )
    rows = []
    for loan, amount, reference in loans_amounts:
        if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
            raise ApplicationError(
                "invalid_amount", _("贴息金额必须大于0元"), {"field": "amount"}, status=422
            )
        if amount != amount.quantize(CENT) or not (reference or "").strip():
            raise ApplicationError(
                "invalid_amount",
                _("贴息金额最多保留两位小数（分），且须有来源编号"),
                {"field": "amount"},
                status=422,
            )
        rows.append(
            LoanSubsidy(
                loan=loan,
                amount=amount,
                period_start=period_start,
                period_end=period_end,
                title=(title or "")[:200],
                reference=reference.strip()[:64],
            )
        )
    LoanSubsidy.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    return len(rows)
