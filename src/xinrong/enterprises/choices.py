"""Choices of the enterprise registry."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EntityType(models.TextChoices):
    """Whether a market entity is an enterprise or an individual business."""

    ENTERPRISE = "enterprise", _("企业")
    INDIVIDUAL_BUSINESS = "individual_business", _("个体工商户")


class RegistrationStatus(models.TextChoices):
    """Registration status as published by market regulation."""

    ACTIVE = "active", _("存续（在营、开业、在册）")
    REVOKED = "revoked", _("吊销")
    CANCELLED = "cancelled", _("注销")
    MOVED_OUT = "moved_out", _("迁出")
    SUSPENDED = "suspended", _("停业")


class RelationKind(models.TextChoices):
    """How a person or an entity is related to a market entity.

    For ``GUARANTOR`` the direction matters: the person or ``holder_entity`` guarantees the debts
    of ``entity`` (担保人 → 被担保人).
    """

    SHAREHOLDER = "shareholder", _("股东")
    EXECUTIVE = "executive", _("高管")
    LEGAL_REPRESENTATIVE = "legal_representative", _("法定代表人")
    ACTUAL_CONTROLLER = "actual_controller", _("实际控制人")
    GUARANTOR = "guarantor", _("担保人")


# Ties published by market regulation (企业信用信息公示): public registration data.
REGISTRATION_KINDS = frozenset(
    {
        RelationKind.SHAREHOLDER,
        RelationKind.EXECUTIVE,
        RelationKind.LEGAL_REPRESENTATIVE,
        RelationKind.ACTUAL_CONTROLLER,
    }
)
