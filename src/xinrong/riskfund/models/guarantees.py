"""Guarantors' and insurers' compensatory payments (代偿/理赔) on defaulted loans they backed.

Loss order: a guaranteed (or insured) loan's loss goes first to the guarantor's 代偿; the fund's
share is computed on what remains. The guarantor's own recoveries (追偿) after its 代偿 are its
own and recorded here; they do not flow to the fund.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinrong.common.access import RestrictedQuerySet
from xinrong.common.models import TimeStampedModel
from xinrong.riskfund.choices import PayoutStatus
from xinrong.workflows.timeline import TimelineEvent

_USER = settings.AUTH_USER_MODEL


class GuarantorPayout(TimeStampedModel):
    """A guarantor's 代偿 (or an insurer's 理赔) to the lender on one defaulted loan."""

    guarantee = models.ForeignKey(
        "marketplace.GuaranteeRequest",
        verbose_name=_("担保/保险"),
        on_delete=models.PROTECT,
        related_name="payouts",
    )
    loan = models.ForeignKey(
        "marketplace.Loan",
        verbose_name=_("贷款"),
        on_delete=models.PROTECT,
        related_name="guarantor_payouts",
    )
    provider = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("担保/保险机构"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    amount = models.DecimalField(_("代偿金额（元）"), max_digits=16, decimal_places=2)
    paid_on = models.DateField(_("代偿日期"))
    status = models.CharField(
        _("状态"), max_length=12, choices=PayoutStatus.choices, default=PayoutStatus.RECORDED
    )
    note = models.TextField(_("说明"), blank=True, default="")
    recorded_by = models.ForeignKey(
        _USER, verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+"
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("担保代偿")
        verbose_name_plural = _("担保代偿")
        ordering = ["-paid_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="riskfund_payout_amount_pos"),
            models.UniqueConstraint(
                fields=["guarantee"],
                condition=Q(status=PayoutStatus.RECORDED),
                name="riskfund_payout_one_live_per_guarantee",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider_id} · {self.loan_id}"


class GuarantorRecovery(models.Model):
    """Money the guarantor recovered from the borrower after its 代偿 (its own, not the fund's)."""

    payout = models.ForeignKey(
        GuarantorPayout,
        verbose_name=_("担保代偿"),
        on_delete=models.PROTECT,
        related_name="recoveries",
    )
    amount = models.DecimalField(_("追回金额（元）"), max_digits=16, decimal_places=2)
    recovered_on = models.DateField(_("追回日期"))
    note = models.TextField(_("说明"), blank=True, default="")
    recorded_by = models.ForeignKey(
        _USER, verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now)

    class Meta:
        verbose_name = _("担保追偿")
        verbose_name_plural = _("担保追偿")
        ordering = ["-recovered_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="riskfund_grecovery_amount_pos"),
        ]

    def __str__(self) -> str:
        return f"{self.payout_id}: {self.amount}"


class GuarantorPayoutEvent(TimelineEvent):
    """One step of a 代偿's timeline (recorded, reversed, a recovery)."""

    payout = models.ForeignKey(
        GuarantorPayout, verbose_name=_("担保代偿"), on_delete=models.CASCADE, related_name="events"
    )

    class Meta(TimelineEvent.Meta):
        verbose_name = _("担保代偿记录")
        verbose_name_plural = _("担保代偿记录")
