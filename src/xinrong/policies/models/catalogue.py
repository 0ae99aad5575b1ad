"""Policy documents and their support measures (表格化、标签化), with every version kept."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from xinrong.common.access import RestrictedQuerySet
from xinrong.common.models import TimeStampedModel
from xinrong.policies.choices import (
    Delivery,
    DocumentStatus,
    MeasureKind,
    MeasureStatus,
    PolicyLevel,
)
from xinrong.workflows.timeline import TimelineEvent

# the kinds an enterprise applies for as a special fund (贴息 is computed from repayments, tax
# relief and services are not paid out)
APPLY_KINDS = (
    MeasureKind.SUBSIDY,
    MeasureKind.AWARD,
    MeasureKind.GUARANTEE_FEE_SUBSIDY,
    MeasureKind.RISK_COMPENSATION,
)


class PolicyDocument(TimeStampedModel):
    """A policy document (政策文件) issued by one or more departments."""

    title = models.CharField(_("文件标题"), max_length=200)
    doc_number = models.CharField(_("文号"), max_length=100, blank=True, default="")
    level = models.CharField(_("层级"), max_length=16, choices=PolicyLevel.choices)
    department = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("发布部门"),
        on_delete=models.PROTECT,
        related_name="policy_documents",
    )
    co_issuers = models.CharField(_("联合发文单位"), max_length=300, blank=True, default="")
    region_code = models.CharField(
        _("适用地区（行政区划代码）"), max_length=12, blank=True, default=""
    )
    issued_on = models.DateField(_("发布日期"))
    effective_from = models.DateField(_("施行日期"))
    effective_to = models.DateField(_("有效期至"), null=True, blank=True)
    summary = models.TextField(_("政策摘要"), blank=True, default="")
    full_text = models.TextField(_("政策全文"), blank=True, default="")
    attachment = models.FileField(_("附件"), upload_to="policies/documents/", blank=True)
    source_url = models.CharField(_("原文链接"), max_length=300, blank=True, default="")
    # a central-bank document shows in the PBoC column (央行政策专栏)
    is_pboc = models.BooleanField(_("央行政策"), default=False)
    status = models.CharField(
        _("状态"), max_length=16, choices=DocumentStatus.choices, default=DocumentStatus.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("政策文件")
        verbose_name_plural = _("政策文件")
        ordering = ["-issued_on", "-id"]

    def __str__(self) -> str:
        return self.title


class Measure(TimeStampedModel):
    """A support measure (支持措施) of a policy document.

    The row holds the terms in force; every change writes a ``MeasureVersion`` with the whole
    terms, and an enterprise is judged by the version in force (``version``). ``conditions`` is
    the eligibility in the safe structured form of ``policies.conditions`` (data, never code).
    Money is yuan with two decimals; ``ratio`` is a fraction (0.5 = 50%).
    """

    document = models.ForeignKey(
        PolicyDocument,
        verbose_name=_("政策文件"),
        on_delete=models.PROTECT,
        related_name="measures",
    )
    code = models.CharField(_("措施编号"), max_length=40, unique=True)
    title = models.CharField(_("措施名称"), max_length=200)
    kind = models.CharField(_("措施类型"), max_length=24, choices=MeasureKind.choices)
    delivery = models.CharField(
        _("兑现方式"), max_length=16, choices=Delivery.choices, default=Delivery.APPLY
    )
    description = models.TextField(_("措施内容"), blank=True, default="")
    amount = models.DecimalField(
        _("定额金额（元）"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    ratio = models.DecimalField(_("比例"), max_digits=7, decimal_places=6, null=True, blank=True)
    cap = models.DecimalField(
        _("单户上限（元）"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    cap_per_loan = models.DecimalField(
        _("单笔贷款上限（元）"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    budget = models.DecimalField(
        _("预算总额（元）"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    window_start = models.DateField(_("申报开始日期"), null=True, blank=True)
    window_end = models.DateField(_("申报截止日期"), null=True, blank=True)
    materials = models.JSONField(_("申报材料"), default=list, blank=True)
    contact = models.CharField(_("联系方式"), max_length=200, blank=True, default="")
    tags = models.JSONField(_("标签"), default=list, blank=True)
    conditions = models.JSONField(_("申报条件"), default=list, blank=True)
    # the BPMN process that approves applications (special funds); "" = the default process
    process_key = models.CharField(_("审批流程"), max_length=64, blank=True, default="")
    status = models.CharField(
        _("状态"), max_length=16, choices=MeasureStatus.choices, default=MeasureStatus.DRAFT
    )
    version = models.PositiveIntegerField(_("现行版本"), default=1)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("支持措施")
        verbose_name_plural = _("支持措施")
        ordering = ["document_id", "id"]
        indexes = [models.Index(fields=["status", "kind"], name="measure_status_kind_idx")]

    def __str__(self) -> str:
        return self.title

    @property
    def department_id(self) -> int:
        return self.document.department_id

    @property
    def applies_online(self) -> bool:
        """An enterprise applies for it online as a special fund (money, applied for)."""
        return self.delivery == Delivery.APPLY and self.kind in APPLY_KINDS


class MeasureVersion(models.Model):
    """The whole terms of a measure as one version stood (never edited)."""

    measure = models.ForeignKey(
        Measure, verbose_name=_("支持措施"), on_delete=models.CASCADE, related_name="versions"
    )
    version = models.PositiveIntegerField(_("版本"))
    terms = models.JSONField(_("条款"))
    in_force_from = models.DateTimeField(_("生效时间"))
    in_force_to = models.DateTimeField(_("失效时间"), null=True, blank=True)
    note = models.CharField(_("修改说明"), max_length=300, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("修改人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("措施版本")
        verbose_name_plural = _("措施版本")
        ordering = ["measure_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["measure", "version"], name="measure_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.measure_id} v{self.version}"


class PolicyDocumentEvent(TimelineEvent):
    """One step of a policy document's timeline (created, edited, published, withdrawn)."""

    document = models.ForeignKey(
        PolicyDocument, verbose_name=_("政策文件"), on_delete=models.CASCADE, related_name="events"
    )

    class Meta(TimelineEvent.Meta):
        verbose_name = _("政策文件事件")
        verbose_name_plural = _("政策文件事件")
        ordering = ["document_id", "created_at", "id"]

    def __str__(self) -> str:
        return f"{getattr(self, 'document_id', '')} · {self.kind}"


class MeasureEvent(TimelineEvent):
    """One step of a measure's timeline (created, terms edited, published, withdrawn)."""

    measure = models.ForeignKey(
        Measure, verbose_name=_("支持措施"), on_delete=models.CASCADE, related_name="events"
    )
    version = models.PositiveIntegerField(_("版本"), null=True, blank=True)

    class Meta(TimelineEvent.Meta):
        verbose_name = _("支持措施事件")
        verbose_name_plural = _("支持措施事件")
        ordering = ["measure_id", "created_at", "id"]

    def __str__(self) -> str:
        return f"{getattr(self, 'measure_id', '')} · {self.kind}"
