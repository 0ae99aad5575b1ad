"""Guarantee and credit-insurance requests (担保/保险申请) attached to loan applications.

An enterprise applying for a loan asks a guarantor or an insurer, through one of its published
guarantee products, to guarantee (担保) or insure (保证保险) the loan. The provider approves with a
fee (rate and amount, yuan) or declines with a reason, then issues the letter or policy; the
lender sees the request's status on the application.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.models import Organisation
from xinrong.common.access import RestrictedQuerySet
from xinrong.common.models import TimeStampedModel
from xinrong.marketplace.choices import GuaranteeRequestEventKind, GuaranteeRequestStatus
from xinrong.marketplace.models.applications import LoanApplication
from xinrong.marketplace.models.products import Product
from xinrong.workflows.timeline import TimelineEvent


class GuaranteeRequest(TimeStampedModel):
    """An enterprise's request to a guarantor or insurer to back one loan application."""

    application = models.ForeignKey(
        LoanApplication,
        verbose_name=_("贷款申请"),
        on_delete=models.CASCADE,
        related_name="guarantee_requests",
    )
    product = models.ForeignKey(
        Product,
        verbose_name=_("担保/保险产品"),
        on_delete=models.PROTECT,
        related_name="guarantee_requests",
    )
    provider = models.ForeignKey(
        Organisation,
        verbose_name=_("担保/保险机构"),
        on_delete=models.PROTECT,
        related_name="guarantee_requests",
    )
    amount = models.DecimalField(_("担保/保险金额（元）"), max_digits=16, decimal_places=2)
    status = models.CharField(
        _("状态"),
        max_length=12,
        choices=GuaranteeRequestStatus.choices,
        default=GuaranteeRequestStatus.PENDING,
        db_index=True,
    )
    note = models.TextField(_("申请说明"), blank=True, default="")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    fee_rate = models.DecimalField(
        _("费率（%/年）"), max_digits=6, decimal_places=3, null=True, blank=True
    )
    fee_amount = models.DecimalField(
        _("担保/保险费（元）"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    decision_note = models.TextField(_("审核意见"), blank=True, default="")
    letter_no = models.CharField(_("保函/保单编号"), max_length=64, blank=True, default="")
    issued_at = models.DateTimeField(_("出函时间"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("担保/保险申请")
        verbose_name_plural = _("担保/保险申请")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["provider", "status"], name="mkt_guar_provider_status_idx"),
            models.Index(fields=["application", "status"], name="mkt_guar_app_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="marketplace_guaranteerequest_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(fee_rate__isnull=True) | (Q(fee_rate__gte=0) & Q(fee_rate__lte=10)),
                name="marketplace_guaranteerequest_fee_rate_range",
            ),
            models.CheckConstraint(
                condition=Q(fee_amount__isnull=True) | Q(fee_amount__gte=0),
                name="marketplace_guaranteerequest_fee_nonnegative",
            ),
            # a provider's letter (policy) numbers identify its letters: one number, one letter
            models.UniqueConstraint(
                fields=["provider", "letter_no"],
                condition=~Q(letter_no=""),
                name="mkt_guar_provider_letter_no_uniq",
                violation_error_message=_("本机构已有相同编号的保函/保单"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product.name} · {self.application.number}"

    @property
    def entity(self) -> Any:
        """The enterprise that asks (the application's), for the enterprise-side rules."""
        return self.application.entity

    @property
    def fee_rate_text(self) -> str:
        """The fee rate without trailing zeros ("1.2", "0.875"), or "" before approval."""
        return "" if self.fee_rate is None else format(self.fee_rate.normalize(), "f")

    @property
    def institution_id(self) -> int:
        """The lending institution (the application's), for the lender-side rules."""
        return self.application.institution_id


class GuaranteeRequestEvent(TimelineEvent):
    """One step of a guarantee request's timeline: who did what, when."""

    request = models.ForeignKey(
        GuaranteeRequest,
        verbose_name=_("担保/保险申请"),
        on_delete=models.CASCADE,
        related_name="events",
    )
    kind = models.CharField(_("事件"), max_length=32, choices=GuaranteeRequestEventKind.choices)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("操作机构"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta(TimelineEvent.Meta):
        verbose_name = _("担保/保险申请事件")
        verbose_name_plural = _("担保/保险申请事件")
        ordering = ["request_id", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.request_id} · {self.get_kind_display()}"
