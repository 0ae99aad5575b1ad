"""Reputation of the parties of platform loans, summed up from the mutual ratings.

Written only by ``marketplace.services.reputation.reputation_store`` (called by the evaluations
app after each rating and each appeal decision, set-wise); read by ``matching`` (the institution's
reputation component and the 优质服务机构 badge) and by product lists.

The score is a Bayesian average of the party's active ratings' composites (1–5):
``(m × C + Σ composite) / (m + n)`` with ``C`` the platform mean of all active ratings in that
direction and ``m`` = ``PRIOR_WEIGHT`` (5) ratings: a party with few ratings stays near the
platform mean, one with many is judged on its own.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class PartyKind(models.TextChoices):
    INSTITUTION = "institution", _("金融机构")
    ENTITY = "entity", _("企业")


class Reputation(models.Model):
    """One party's reputation (an institution or a market entity, never both)."""

    kind = models.CharField(_("对象类型"), max_length=12, choices=PartyKind.choices)
    institution = models.OneToOneField(
        "accounts.Organisation",
        verbose_name=_("金融机构"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reputation",
    )
    entity = models.OneToOneField(
        "enterprises.MarketEntity",
        verbose_name=_("企业"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reputation",
    )
    score = models.DecimalField(_("信誉分（贝叶斯平均）"), max_digits=4, decimal_places=2)
    mean = models.DecimalField(_("评价平均分"), max_digits=4, decimal_places=2)
    count = models.PositiveIntegerField(_("有效评价数"))
    items = models.JSONField(_("单项平均分"), default=dict, blank=True)
    badge = models.BooleanField(_("优质标识"), default=False)
    computed_at = models.DateTimeField(_("计算时间"))

    objects: models.Manager[Reputation] = models.Manager()

    class Meta:
        verbose_name = _("信誉")
        verbose_name_plural = _("信誉")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="institution", institution__isnull=False, entity__isnull=True)
                    | models.Q(kind="entity", entity__isnull=False, institution__isnull=True)
                ),
                name="marketplace_reputation_one_party",
            ),
        ]
        indexes = [models.Index(fields=["kind", "-score"], name="mkt_reputation_rank_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.score}"
