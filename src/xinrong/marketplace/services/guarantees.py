"""Writes of guarantee and credit-insurance requests (担保/保险申请) attached to loan applications.

The enterprise files a request to a guarantor's or insurer's published guarantee product; the
provider approves it with its fee (rate and amount, yuan), or declines it with a reason, and then
issues the letter or policy; the enterprise may withdraw it while it is not yet issued. Every move
goes through the workflow kernel (``marketplace.workflows.GUARANTEE_REQUEST``).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts import permissions
from xinrong.accounts.models import User
from xinrong.common.errors import ConflictError
from xinrong.common.templatetags.money import amount_text
from xinrong.marketplace.choices import (
    ACTIVE_STATUSES,
    GUARANTEE_FEE_RATE_MAX,
    GUARANTEE_KINDS,
    GUARANTEE_OPEN_STATUSES,
    GuaranteeRequestEventKind,
    ProductStatus,
)
from xinrong.marketplace.models import GuaranteeRequest, LoanApplication, Product
from xinrong.marketplace.transitions import provider_staff
from xinrong.marketplace.workflows import GUARANTEE_REQUEST
from xinrong.notifications.services import notify_on_commit
from xinrong.workflows.kernel import event_record, transition_apply

CENT = Decimal("0.01")
MILLI = Decimal("0.001")
AMOUNT_TOP = Decimal("1e14")


def _number(raw: Any, label: str) -> tuple[Decimal | None, str]:
    """Parse a plain decimal number; return (value, "") or (None, the Chinese error)."""
    text = str(raw if raw is not None else "").strip().replace(",", "").replace("，", "")
    if not text:
        return None, ""
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        return None, _("%(label)s须为数字") % {"label": label}
    if not value.is_finite() or "e" in text.lower():
        return None, _("%(label)s须为数字") % {"label": label}
    return value, ""


def guarantee_fee_clean(
    *, request: GuaranteeRequest, fee_rate: Any, fee_amount: Any
) -> tuple[Decimal, Decimal]:
    """Return the fee rate (% a year) and the fee (yuan), or raise ValidationError naming every
    wrong field at once. An empty fee is computed from the rate over the loan's term."""
    errors: dict[str, str] = {}
    rate_label, fee_label = _("费率（%/年）"), _("担保/保险费（元）")
    rate, error = _number(fee_rate, rate_label)
    if error:
        errors["fee_rate"] = error
    elif rate is None:
        errors["fee_rate"] = _("请填写%(label)s") % {"label": rate_label}
    elif not Decimal(0) <= rate <= GUARANTEE_FEE_RATE_MAX:
        errors["fee_rate"] = _("%(label)s须在 0 到 %(hi)s 之间") % {
            "label": rate_label,
            "hi": GUARANTEE_FEE_RATE_MAX,
        }
    elif rate != rate.quantize(MILLI):
        errors["fee_rate"] = _("%(label)s最多保留 3 位小数") % {"label": rate_label}
    fee, error = _number(fee_amount, fee_label)
    if error:
        errors["fee_amount"] = error
    elif fee is not None:
        if fee < 0:
            errors["fee_amount"] = _("%(label)s不能为负数") % {"label": fee_label}
        elif fee > request.amount:
            errors["fee_amount"] = _("%(label)s不能超过担保/保险金额 %(a)s") % {
                "label": fee_label,
                "a": amount_text(request.amount),
            }
        elif fee != fee.quantize(CENT):
            errors["fee_amount"] = _("%(label)s最多保留 2 位小数（分）") % {"label": fee_label}
    if errors:
        raise ValidationError(errors, code="invalid")
    assert rate is not None
    if fee is None:
        months = request.application.term_months
        fee = (request.amount * rate / 100 * months / 12).quantize(CENT, ROUND_HALF_UP)
    return rate, fee


def _amount_clean(raw: Any, application: LoanApplication) -> Decimal:
    label = _("担保/保险金额（元）")
    value, error = _number(raw, label)
    if error:
        raise ValidationError({"amount": error}, code="invalid")
    if value is None:
        return application.amount
    if value <= 0 or value != value.quantize(CENT):
        raise ValidationError(
            {"amount": _("%(label)s须大于 0，最多保留 2 位小数") % {"label": label}},
            code="invalid",
        )
    if value > application.amount:
        raise ValidationError(
            {
                "amount": _("%(label)s不能超过申请金额 %(a)s")
                % {"label": label, "a": amount_text(application.amount)}
            },
            code="invalid",
        )
    return value


@transaction.atomic
def guarantee_request_file(
    *,
    actor: User,
    application: LoanApplication,
    product: Product | None,
    amount: Any = None,
    note: str = "",
) -> GuaranteeRequest:
    """The enterprise asks a guarantor or insurer to back its application; the provider is told."""
    permissions.require(
        actor,
        "marketplace.guarantee_request_file",
        application,
        message=_("只有申请企业的企业主或经办人可以为贷款申请申请担保或保险"),
    )
    app = LoanApplication.objects.select_for_update().get(pk=application.pk)
    if app.status not in ACTIVE_STATUSES:
        raise ConflictError(
            "application_closed",
            _("贷款申请当前状态为「%(s)s」，不能再申请担保或保险")
            % {"s": app.get_status_display()},
            {"field": "application"},
        )
    if (
        product is None
        or product.status != ProductStatus.PUBLISHED
        or product.institution.kind not in GUARANTEE_KINDS
    ):
        raise ValidationError(
            {"product": _("请选择一款已上架的担保或保险产品")}, code="invalid_choice"
        )
    value = _amount_clean(amount, app)
    note = (note or "").strip()
    if len(note) > 1000:
        raise ValidationError({"note": _("申请说明不超过 1000 字")}, code="invalid")
    if GuaranteeRequest.objects.filter(
        application=app, provider_id=product.institution_id, status__in=GUARANTEE_OPEN_STATUSES
    ).exists():
        raise ConflictError(
            "already_requested",
            _("本笔贷款已向%(p)s申请过担保/保险，请等待其答复") % {"p": product.institution.name},
            {"field": "product"},
        )
    request = GuaranteeRequest.objects.create(
        application=app,
        product=product,
        provider_id=product.institution_id,
        amount=value,
        note=note,
        requested_by=actor,
    )
    event_record(
        GUARANTEE_REQUEST,
        request,
        GuaranteeRequestEventKind.FILED,
        actor=actor,
        note=note,
        data={"amount": str(value)},
        event_fields={"organisation_id": actor.organisation_id},
        created=True,
    )
    notify_on_commit(
        recipients=provider_staff(request),
        kind="guarantee_request",
        title=_("新的担保/保险申请：%(e)s 申请“%(p)s” %(a)s")
        % {"e": app.entity.name, "p": product.name, "a": amount_text(value)},
        link=reverse("marketplace:guarantee_detail", args=[request.pk]),
        organisation_id=request.provider_id,
    )
    return request


def _move(
    request: GuaranteeRequest,
    action: str,
    *,
    actor: User,
    note: str = "",
    data: dict[str, Any] | None = None,
    update: Any = None,
) -> GuaranteeRequest:
    moved: GuaranteeRequest = transition_apply(
        GUARANTEE_REQUEST,
        request,
        action,
        actor=actor,
        note=note,
        data=data,
        update=update,
        event_fields={"organisation_id": actor.organisation_id},
    ).obj
    return moved


@transaction.atomic
def guarantee_approve(
    *, request: GuaranteeRequest, actor: User, fee_rate: Any, fee_amount: Any, note: str = ""
) -> GuaranteeRequest:
    """The provider agrees to guarantee or insure the loan and records its fee."""
    GUARANTEE_REQUEST.check(actor, request, "approve")
    rate, fee = guarantee_fee_clean(request=request, fee_rate=fee_rate, fee_amount=fee_amount)

    def update(locked: GuaranteeRequest) -> None:
        locked.fee_rate = rate
        locked.fee_amount = fee
        locked.decided_by = actor
        locked.decided_at = timezone.now()
        locked.decision_note = (note or "").strip()

    return _move(
        request,
        "approve",
        actor=actor,
        note=note or _("费率 %(r)s%%/年，担保/保险费 %(f)s") % {"r": rate, "f": amount_text(fee)},
        data={"fee_rate": str(rate), "fee_amount": str(fee)},
        update=update,
    )


@transaction.atomic
def guarantee_decline(*, request: GuaranteeRequest, actor: User, note: str) -> GuaranteeRequest:
    """The provider declines; the reason (required) is shown to the enterprise and the lender."""

    def update(locked: GuaranteeRequest) -> None:
        locked.decided_by = actor
        locked.decided_at = timezone.now()
        locked.decision_note = (note or "").strip()

    return _move(request, "decline", actor=actor, note=note, update=update)


@transaction.atomic
def guarantee_issue(
    *, request: GuaranteeRequest, actor: User, letter_no: str, note: str = ""
) -> GuaranteeRequest:
    """The provider issues the guarantee letter or the policy (出函)."""
    letter_no = (letter_no or "").strip()
    if len(letter_no) > 64:
        raise ValidationError({"letter_no": _("保函/保单编号不超过 64 个字符")}, code="invalid")

    def update(locked: GuaranteeRequest) -> None:
        locked.letter_no = letter_no
        locked.issued_at = timezone.now()

    return _move(
        request,
        "issue",
        actor=actor,
        note=note or _("保函/保单编号：%(n)s") % {"n": letter_no},
        data={"letter_no": letter_no},
        update=update,
    )


@transaction.atomic
def guarantee_withdraw(
    *, request: GuaranteeRequest, actor: User, note: str = ""
) -> GuaranteeRequest:
    """The enterprise withdraws its request before the letter is issued."""
    return _move(request, "withdraw", actor=actor, note=note)
