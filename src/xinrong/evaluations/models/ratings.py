"""Mutual ratings on a loan: the institution rates the enterprise, the enterprise the institution,
once per side after disbursement and once after settlement; appeals of unfair ratings.

A rating's ``composite`` is the plain mean of its items (1–5, two decimals); reputations
(Bayesian averages over many ratings) are computed from the active ratings, never stored here.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from xinrong.common.access import RestrictedQuerySet
from xinrong.common.models import TimeStampedModel
from xinrong.evaluations.choices import (
    AppealStatus,
    RatingDirection,
    RatingItem,
    RatingStage,
    RatingStatus,
)
from xinrong.workflows.timeline import TimelineEvent

_USER = settings.AUTH_USER_MODEL


class Rating(TimeStampedModel):
    """One side's rating of the other on one loan at one stage."""

    loan = models.ForeignKey(
        "marketplace.Loan", verbose_name=_("贷款"), on_delete=models.PROTECT, related_name="ratings"
    )
    stage = models.CharField(_("评价阶段"), max_length=12, choices=RatingStage.choices)
    direction = models.CharField(_("评价方向"), max_length=16, choices=RatingDirection.choices)
    # both parties, copied from the loan so that aggregates need no join through it
    entity = models.ForeignKey(
        "enterprises.MarketEntity",
        verbose_name=_("企业"),
        on_delete=models.PROTECT,
        related_name="ratings",
    )
    institution = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("金融机构"),
        on_delete=models.PROTECT,
        related_name="ratings",
    )
    composite = models.DecimalField(_("综合评分"), max_digits=3, decimal_places=2)
    comment = models.TextField(_("评价内容"), blank=True, default="")
    status = models.CharField(
        _("状态"), max_length=12, choices=RatingStatus.choices, default=RatingStatus.ACTIVE
    )
    rated_by = models.ForeignKey(
        _USER, verbose_name=_("评价人"), on_delete=models.PROTECT, related_name="+"
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("融资评价")
        verbose_name_plural = _("融资评价")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["loan", "stage", "direction"], name="evaluations_one_rating_per_side_stage"
            ),
            models.CheckConstraint(
                condition=models.Q(composite__gte=1) & models.Q(composite__lte=5),
                name="evaluations_rating_composite_1_5",
            ),
        ]
        indexes = [
            models.Index(fields=["institution", "direction", "status"]),
            models.Index(fields=["entity", "direction", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} · {self.get_stage_display()} · {self.composite}"


class RatingScore(models.Model):
    """One item of a rating, 1–5."""

    rating = models.ForeignKey(
        Rating, verbose_name=_("评价"), on_delete=models.CASCADE, related_name="scores"
    )
    item = models.CharField(_("评价项"), max_length=16, choices=RatingItem.choices)
    score = models.PositiveSmallIntegerField(_("评分"))

    class Meta:
        verbose_name = _("单项评分")
        verbose_name_plural = _("单项评分")
        constraints = [
            models.UniqueConstraint(
                fields=["rating", "item"], name="evaluations_one_score_per_item"
            ),
            models.CheckConstraint(
                condition=models.Q(score__gte=1) & models.Q(score__lte=5),
                name="evaluations_score_1_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_item_display()} {self.score}"


class RatingAppeal(TimeStampedModel):
    """The rated party's appeal of a rating it finds unfair, decided by the operator."""

    number = models.CharField(_("申诉编号"), max_length=32, unique=True)
    rating = models.ForeignKey(
        Rating, verbose_name=_("评价"), on_delete=models.PROTECT, related_name="appeals"
    )
    reason = models.TextField(_("申诉理由"))
    status = models.CharField(
        _("状态"), max_length=12, choices=AppealStatus.choices, default=AppealStatus.SUBMITTED
    )
    appellant = models.ForeignKey(
        _USER, verbose_name=_("申诉人"), on_delete=models.PROTECT, related_name="+"
    )
    decision_note = models.TextField(_("处理意见"), blank=True, default="")
    decided_by = models.ForeignKey(
        _USER,
        verbose_name=_("处理人"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("评价申诉")
        verbose_name_plural = _("评价申诉")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.number


class RatingAppealEvent(TimelineEvent):
    """One step of an appeal's timeline (the workflow kernel writes it)."""

    appeal = models.ForeignKey(
        RatingAppeal, verbose_name=_("申诉"), on_delete=models.CASCADE, related_name="events"
    )

    class Meta(TimelineEvent.Meta):
        verbose_name = _("申诉记录")
        verbose_name_plural = _("申诉记录")
