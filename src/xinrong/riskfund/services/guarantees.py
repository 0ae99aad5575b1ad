"""Writes of guarantors' and insurers' 代偿/理赔 and of their own recoveries (追偿).

Loss order (guarantee first): on a defaulted guaranteed loan the guarantor pays first; the lender's
claim on the fund is computed on what remains (``arithmetic.claim_figures`` with
``selectors.loans.guarantor_paid_for``). Hence a 代偿 can neither be recorded nor reversed while a
claim on the loan is being examined or has been paid: that claim's base was computed without (or
with) it. Every input is checked and every wrong field named at once (``ValidationError``).

Locks: the guarantee request row, then the loan row, then the payout row. Every change of a 代偿
goes through the workflow kernel (``riskfund.workflows.guarantees.PAYOUT``) and is written to its
timeline (``GuarantorPayoutEvent``): recorded, reversed (with the reason), each recovery.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts import permissions
from xinrong.common.errors import ConflictError
from xinrong.common.templatetags.money import amount_text
from xinrong.marketplace.choices import GuaranteeRequestStatus, LoanStatus
from xinrong.marketplace.models import GuaranteeRequest, Loan
from xinrong.marketplace.transitions import institution_staff
from xinrong.notifications.services import notify_on_commit
from xinrong.riskfund.choices import PayoutStatus
from xinrong.riskfund.models import Claim, GuarantorPayout, GuarantorRecovery
from xinrong.riskfund.workflows.guarantees import CLAIM_LIVE as CLAIM_LIVE  # the demo reads it
from xinrong.riskfund.workflows.guarantees import (
    PAYOUT,
    RECORDED,
    live_claim,
)
from xinrong.workflows.kernel import event_record, transition_apply

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
NOTE_MAX = 1000
# Loans on which a guarantor pays: overdue or defaulted.
SETTLE_STATUSES = (LoanStatus.OVERDUE, LoanStatus.DEFAULTED)


def _amount(raw: Any, label: str, errors: dict[str, str], field: str) -> Decimal | None:
    """Parse a yuan amount; on a problem note the Chinese error under ``field``."""
    text = str(raw if raw is not None else "").strip().replace(",", "").replace("，", "")
    if not text:
        errors[field] = _("请填写%(label)s") % {"label": label}
        return None
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        value = None
    if value is None or not value.is_finite() or "e" in text.lower():
        errors[field] = _("%(label)s须为数字") % {"label": label}
        return None
    if value <= 0:
        errors[field] = _("%(label)s须大于 0 元") % {"label": label}
        return None
    if value != value.quantize(CENT):
        errors[field] = _("%(label)s最多保留 2 位小数（分）") % {"label": label}
        return None
    if value >= Decimal("1e14"):
        errors[field] = _("%(label)s过大") % {"label": label}
        return None
    return value


def _date(raw: Any, label: str, errors: dict[str, str], field: str) -> dt.date | None:
    """Parse an ISO date (YYYY-MM-DD), never in the future."""
    if isinstance(raw, dt.date):
        value: dt.date | None = raw
    else:
        text = str(raw or "").strip()
        if not text:
            errors[field] = _("请填写%(label)s") % {"label": label}
            return None
        try:
            value = dt.date.fromisoformat(text)
        except ValueError:
            errors[field] = _("%(label)s须为有效日期（年-月-日）") % {"label": label}
            return None
    assert value is not None
    if value > timezone.localdate():
        errors[field] = _("%(label)s不能晚于今天") % {"label": label}
        return None
    return value


def _note(raw: Any, errors: dict[str, str], *, required: bool = False, label: str = "") -> str:
    note = str(raw or "").strip()
    label = label or _("说明")
    if required and not note:
        errors["note"] = _("请填写%(label)s") % {"label": label}
    elif len(note) > NOTE_MAX:
        errors["note"] = _("%(label)s不超过 %(n)s 字") % {"label": label, "n": NOTE_MAX}
    return note


def _claim_blocks(loan: Loan) -> Claim | None:
    """The loan's claim whose base depends on the 代偿 (being examined or paid), if any."""
    return live_claim(loan.pk)


def payout_room(guarantee: GuaranteeRequest, loan: Loan) -> Decimal:
    """The most the guarantor may pay: its guaranteed amount, and no more than the loan's
    outstanding less other guarantors' live 代偿 on the same loan."""
    others = GuarantorPayout.objects.filter(loan=loan, status=PayoutStatus.RECORDED).exclude(
        guarantee=guarantee
    ).aggregate(s=Sum("amount"))["s"] or Decimal(0)
    return max(min(guarantee.amount, loan.outstanding - others), ZERO).quantize(CENT)


def _lender_told(payout: GuarantorPayout, title: str) -> None:
    notify_on_commit(
        recipients=institution_staff(payout.guarantee),
        kind="riskfund_payout",
        title=title,
        link=reverse("riskfund:payout_detail", args=[payout.pk]),
        organisation_id=payout.loan.institution_id,
    )


@transaction.atomic
def payout_record(
    *, actor: Any, guarantee: GuaranteeRequest, amount: Any, paid_on: Any, note: str = ""
) -> GuarantorPayout:
    """The guarantor (insurer) records its 代偿 (理赔) on a defaulted loan it backed."""
    permissions.require(
        actor,
        "riskfund.payout_record",
        guarantee,
        message=_("只有出具保函/保单的担保、保险机构的业务人员可以登记代偿"),
    )
    guarantee = GuaranteeRequest.objects.select_for_update().get(pk=guarantee.pk)
    if guarantee.status != GuaranteeRequestStatus.ISSUED:
        raise ConflictError(
            "guarantee_not_issued",
            _("该担保/保险尚未出具保函/保单（当前状态：%(s)s），不能登记代偿")
            % {"s": guarantee.get_status_display()},
            {"field": "guarantee"},
        )
    loan = Loan.objects.select_for_update().filter(application_id=guarantee.application_id).first()
    if loan is None:
        raise ConflictError(
            "loan_missing", _("该笔贷款申请尚未放款，不能登记代偿"), {"field": "guarantee"}
        )
    if loan.status not in SETTLE_STATUSES:
        raise ConflictError(
            "loan_not_defaulted",
            _("贷款当前状态为「%(s)s」，只有逾期或违约的贷款才能登记代偿")
            % {"s": loan.get_status_display()},
            {"field": "guarantee"},
        )
    if GuarantorPayout.objects.filter(guarantee=guarantee, status=PayoutStatus.RECORDED).exists():
        raise ConflictError(
            "payout_exists",
            _("本笔担保已登记过代偿；如有错误，请先冲销原记录再重新登记"),
            {"field": "guarantee"},
        )
    claim = _claim_blocks(loan)
    if claim is not None:
        raise ConflictError(
            "claim_live",
            _(
                "放款机构已就本笔贷款申请风险补偿（%(n)s，%(s)s），补偿基数已按当时的代偿计算；"
                "请放款机构先撤回该申请，再登记代偿"
            )
            % {"n": claim.number, "s": claim.get_status_display()},
            {"field": "guarantee"},
        )
    errors: dict[str, str] = {}
    label = _("代偿金额（元）")
    value = _amount(amount, label, errors, "amount")
    room = payout_room(guarantee, loan)
    if value is not None and value > room:
        errors["amount"] = _(
            "%(label)s不能超过 %(room)s"
            "（担保金额 %(g)s 与贷款余额 %(o)s 扣除其他机构代偿后的较小者）"
        ) % {
            "label": label,
            "room": amount_text(room),
            "g": amount_text(guarantee.amount),
            "o": amount_text(loan.outstanding),
        }
    day = _date(paid_on, _("代偿日期"), errors, "paid_on")
    if day is not None and day < loan.disbursed_on:
        errors["paid_on"] = _("代偿日期不能早于放款日期 %(d)s") % {"d": loan.disbursed_on}
    text = _note(note, errors)
    if errors:
        raise ValidationError(errors, code="invalid")
    assert value is not None and day is not None
    payout = GuarantorPayout.objects.create(
        guarantee=guarantee,
        loan=loan,
        provider_id=guarantee.provider_id,
        amount=value,
        paid_on=day,
        note=text,
        recorded_by=actor,
    )
    event_record(
        PAYOUT,
        payout,
        RECORDED,
        actor=actor,
        note=text,
        data={"amount": str(value), "paid_on": day.isoformat(), "loan": loan.number},
        created=True,
    )
    _lender_told(
        payout,
        _("%(p)s已就贷款 %(l)s 代偿 %(a)s，风险补偿将按余额计算")
        % {"p": guarantee.provider.name, "l": loan.number, "a": amount_text(value)},
    )
    return payout


@transaction.atomic
def payout_reverse(*, actor: Any, payout: GuarantorPayout, note: str) -> GuarantorPayout:
    """The guarantor reverses a wrong 代偿 (with the reason), while no claim relies on it and no
    recovery was recorded on it; the record stays, 已冲销, the reason on its timeline."""
    PAYOUT.check(actor, payout, "reverse")  # 403 / 409 before the input is read
    errors: dict[str, str] = {}
    reason = _note(note, errors, required=True, label=_("冲销原因"))
    if errors:
        raise ValidationError(errors, code="invalid")
    GuaranteeRequest.objects.select_for_update().get(pk=payout.guarantee_id)
    loan = Loan.objects.select_for_update().get(pk=payout.loan_id)
    # the kernel locks the payout, asks again, runs the guards (no live claim, no recovery)
    locked: GuarantorPayout = transition_apply(
        PAYOUT, payout, "reverse", actor=actor, note=reason, data={"amount": str(payout.amount)}
    ).obj
    _lender_told(
        locked,
        _("%(p)s冲销了贷款 %(l)s 的代偿 %(a)s")
        % {"p": locked.provider.name, "l": loan.number, "a": amount_text(locked.amount)},
    )
    return locked


def recovered_of(payout: GuarantorPayout) -> Decimal:
    """Σ of what the guarantor recovered after this 代偿."""
    total = payout.recoveries.aggregate(s=Sum("amount"))["s"]
    return (total or ZERO).quantize(CENT)


@transaction.atomic
def guarantor_recovery_record(
    *, actor: Any, payout: GuarantorPayout, amount: Any, recovered_on: Any, note: str = ""
) -> GuarantorRecovery:
    """The guarantor records money it recovered from the borrower after its 代偿 (its own)."""
    PAYOUT.check(actor, payout, "recover")  # 403 / 409 before the input is read
    locked = GuarantorPayout.objects.select_for_update().get(pk=payout.pk)
    errors: dict[str, str] = {}
    label = _("追回金额（元）")
    value = _amount(amount, label, errors, "amount")
    room = (locked.amount - recovered_of(locked)).quantize(CENT)
    if value is not None and value > room:
        errors["amount"] = _("%(label)s不能超过尚未追回的代偿 %(room)s") % {
            "label": label,
            "room": amount_text(room),
        }
    day = _date(recovered_on, _("追回日期"), errors, "recovered_on")
    if day is not None and day < locked.paid_on:
        errors["recovered_on"] = _("追回日期不能早于代偿日期 %(d)s") % {"d": locked.paid_on}
    text = _note(note, errors)
    if errors:
        raise ValidationError(errors, code="invalid")
    assert value is not None and day is not None
    transition_apply(
        PAYOUT,
        locked,
        "recover",
        actor=actor,
        note=text,
        data={"amount": str(value), "recovered_on": day.isoformat()},
    )
    return GuarantorRecovery.objects.create(
        payout=locked, amount=value, recovered_on=day, note=text, recorded_by=actor
    )
