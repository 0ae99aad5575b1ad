"""Models of credit reports."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.models import Organisation
from xinrong.credit.choices import Channel, Purpose, ReportAudience
from xinrong.credit.models.archive import Authorisation
from xinrong.enterprises.models import MarketEntity


def _report_path(instance: Any, filename: str) -> str:
    """Store a report as reports/<yyyy>/<mm>/<number>.pdf (the number is unique)."""
    at = timezone.localtime(instance.generated_at)
    return f"reports/{at:%Y}/{at:%m}/{instance.number}.pdf"


class CreditReport(models.Model):
    """A credit report (信用报告) handed out as PDF: who got it, what it said, its SM3 digest.

    The PDF itself lives in Django's default storage (``STORAGES["default"]``) under
    ``reports/``, not in a BinaryField: reports are immutable blobs of 50–500 KB and a province
    produces hundreds of thousands a year, so keeping them out of the tables keeps the database,
    its backups and its replication lean, and lets operators put them on object storage by
    settings alone. Integrity does not depend on the storage: the SM3 digest of the exact bytes
    is stored here, checked again on every download, and is what public verification compares.
    The row is append-only; nothing about a report changes after it was generated.
    """

    number = models.CharField(_("报告编号"), max_length=24, unique=True)
    entity = models.ForeignKey(
        MarketEntity,
        verbose_name=_("报告主体"),
        on_delete=models.PROTECT,  # a report that was handed out must stay verifiable
        related_name="credit_reports",
        db_index=False,  # the (entity, requested_by, generated_at) index leads with it
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("生成人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("生成机构"), on_delete=models.PROTECT, related_name="+"
    )
    audience = models.CharField(_("报告类型"), max_length=16, choices=ReportAudience.choices)
    authorisation = models.ForeignKey(
        Authorisation,
        verbose_name=_("依据授权"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reports",
    )
    purpose = models.CharField(
        _("用途"), max_length=32, choices=Purpose.choices, blank=True, default=""
    )
    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices)
    generated_at = models.DateTimeField(_("生成时间"), default=timezone.now)
    sm3 = models.CharField(_("SM3摘要"), max_length=64, help_text=_("PDF 文件全部字节的 SM3 摘要"))
    pages = models.PositiveSmallIntegerField(_("页数"))
    size = models.PositiveIntegerField(_("文件大小（字节）"))
    model_version = models.PositiveIntegerField(_("评分模型版本"), null=True, blank=True)
    score = models.PositiveSmallIntegerField(_("报告所载信用分"), null=True, blank=True)
    grade = models.CharField(_("报告所载信用等级"), max_length=4, blank=True, default="")
    file = models.FileField(_("报告文件"), upload_to=_report_path, max_length=200)

    class Meta:
        verbose_name = _("信用报告")
        verbose_name_plural = _("信用报告")
        ordering = ["-generated_at", "-id"]
        indexes = [
            models.Index(
                fields=["entity", "requested_by", "generated_at"], name="credit_report_daily_idx"
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(audience="own", authorisation__isnull=True)
                | models.Q(audience="institution", authorisation__isnull=False),
                name="credit_creditreport_audience_authorisation",
            )
        ]

    def __str__(self) -> str:
        return f"{self.number} · {self.entity_id} · {self.generated_at:%Y-%m-%d %H:%M}"
