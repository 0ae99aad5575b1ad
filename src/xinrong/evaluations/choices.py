"""Choices of 融资评价: who rates whom, at which stage of a loan, on which items."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RatingStage(models.TextChoices):
    """The stage of a loan at which both sides rate each other (once per side and stage)."""

    DISBURSED = "disbursed", _("放款后")
    SETTLED = "settled", _("结清后")


class RatingDirection(models.TextChoices):
    """Who rates whom."""

    OF_ENTERPRISE = "of_enterprise", _("机构评价企业")
    OF_INSTITUTION = "of_institution", _("企业评价机构")


class RatingItem(models.TextChoices):
    """The single items rated (1–5 stars each); the first two by institutions, the rest by
    enterprises (``ITEMS``)."""

    TIMELINESS = "timeliness", _("还款及时性")
    QUALITY = "quality", _("还款质量")
    SPEED = "speed", _("放款速度")
    INTEREST = "interest", _("利率水平")
    INNOVATION = "innovation", _("产品创新")
    SERVICE = "service", _("服务满意度")


ITEMS: dict[str, tuple[str, ...]] = {
    RatingDirection.OF_ENTERPRISE: (RatingItem.TIMELINESS, RatingItem.QUALITY),
    RatingDirection.OF_INSTITUTION: (
        RatingItem.SPEED,
        RatingItem.INTEREST,
        RatingItem.INNOVATION,
        RatingItem.SERVICE,
    ),
}


class RatingStatus(models.TextChoices):
    """A rating counts while active; an upheld appeal withdraws it (kept, not deleted)."""

    ACTIVE = "active", _("有效")
    WITHDRAWN = "withdrawn", _("已撤销")


class AppealStatus(models.TextChoices):
    """An appeal of an unfair rating, decided by the operator (workflow ``rating_appeal``)."""

    SUBMITTED = "submitted", _("待处理")
    UPHELD = "upheld", _("申诉成立")
    REJECTED = "rejected", _("申诉不成立")
