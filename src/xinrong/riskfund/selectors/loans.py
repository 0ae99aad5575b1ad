"""Loans as the risk fund sees them: the guarantor's 代偿 taken first on a defaulted loan."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Sum

from xinrong.riskfund.choices import PayoutStatus
from xinrong.riskfund.models import GuarantorPayout


def guarantor_paid_for(loan: Any) -> Decimal:
    """Σ of the live 代偿 guarantors and insurers recorded on ``loan`` (0.00 if none)."""
    total = GuarantorPayout.objects.filter(loan=loan, status=PayoutStatus.RECORDED).aggregate(
        s=Sum("amount")
    )["s"]
    return (total or Decimal("0")).quantize(Decimal("0.01"))
