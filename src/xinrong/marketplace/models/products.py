"""Financial products offered on the supermarket, their versioned terms and their timeline."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.models import Organisation
from xinrong.common.models import TimeStampedModel
from xinrong.marketplace.choices import EventKind, ProductStatus, ProductType, VersionStatus
from xinrong.workflows.timeline import TimelineEvent


class Product(TimeStampedModel):
    """A financial product of one institution; its terms live in versions."""

    institution = models.ForeignKey(
        Organisation,
        verbose_name=_("发布机构"),
        on_delete=models.PROTECT,
        related_name="products",
    )
    code = models.CharField(_("产品代码"), max_length=32, unique=True)
    name = models.CharField(_("产品名称"), max_length=100, db_index=True)
    status = models.CharField(
        _("状态"),
        max_length=16,
        choices=ProductStatus.choices,
        default=ProductStatus.DRAFT,
        db_index=True,
    )
    current_version = models.ForeignKey(
        "ProductVersion",
        verbose_name=_("生效版本"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("审核通过、对企业展示的条款"),
    )
    draft_version = models.ForeignKey(
        "ProductVersion",
        verbose_name=_("待发布版本"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("正在编辑或审核中的新条款；审核通过后成为生效版本"),
    )
    published_at = models.DateTimeField(_("上架时间"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("金融产品")
        verbose_name_plural = _("金融产品")
        ordering = ["-published_at", "-id"]
        indexes = [
            models.Index(fields=["institution", "status"], name="mkt_product_inst_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class ProductVersion(TimeStampedModel):
    """One immutable set of a product's terms; edits after submission make a new version."""

    product = models.ForeignKey(
        Product, verbose_name=_("产品"), on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField(_("版本号"))
    status = models.CharField(
        _("版本状态"),
        max_length=16,
        choices=VersionStatus.choices,
        default=VersionStatus.DRAFT,
        db_index=True,
    )
    product_type = models.CharField(_("产品类型"), max_length=16, choices=ProductType.choices)
    amount_min = models.DecimalField(_("最低额度（元）"), max_digits=16, decimal_places=2)
    amount_max = models.DecimalField(_("最高额度（元）"), max_digits=16, decimal_places=2)
    term_min_months = models.PositiveSmallIntegerField(_("最短期限（月）"))
    term_max_months = models.PositiveSmallIntegerField(_("最长期限（月）"))
    rate_min = models.DecimalField(_("最低年利率（%）"), max_digits=5, decimal_places=2)
    rate_max = models.DecimalField(_("最高年利率（%）"), max_digits=5, decimal_places=2)
    repayment_methods = models.JSONField(_("还款方式"), default=list, blank=True)
    entity_types = models.JSONField(
        _("适用主体类型"), default=list, blank=True, help_text=_("为空表示不限")
    )
    industries = models.JSONField(
        _("适用行业"),
        default=list,
        blank=True,
        help_text=_("GB/T 4754 门类字母或两位大类代码；为空表示不限"),
    )
    regions = models.JSONField(
        _("适用地区"), default=list, blank=True, help_text=_("行政区划代码；为空表示不限")
    )
    region_index = models.CharField(
        _("地区检索键"), max_length=500, blank=True, default="", editable=False
    )
    min_years_in_business = models.DecimalField(
        _("最低经营年限（年）"), max_digits=4, decimal_places=1, default=Decimal("0")
    )
    min_credit_grade = models.CharField(
        _("最低信用等级"), max_length=4, blank=True, default="", help_text=_("为空表示不限")
    )
    tax_grades = models.JSONField(
        _("要求纳税信用等级"), default=list, blank=True, help_text=_("为空表示不限")
    )
    collateral_modes = models.JSONField(_("担保方式"), default=list, blank=True)
    tags = models.JSONField(_("标签"), default=list, blank=True)
    tag_index = models.CharField(
        _("标签检索键"), max_length=500, blank=True, default="", editable=False
    )
    supports_relending = models.BooleanField(_("支持再贷款"), default=False)
    supports_rediscount = models.BooleanField(_("支持再贴现"), default=False)
    days_to_accept = models.PositiveSmallIntegerField(_("受理时限（天）"), default=3)
    days_to_decide = models.PositiveSmallIntegerField(_("审批时限（天）"), default=7)
    description = models.TextField(_("产品介绍"), blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    published_at = models.DateTimeField(_("生效时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("产品版本")
        verbose_name_plural = _("产品版本")
        ordering = ["product_id", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "number"], name="marketplace_productversion_unique_number"
            ),
            models.CheckConstraint(
                condition=Q(amount_min__gt=0) & Q(amount_min__lte=models.F("amount_max")),
                name="marketplace_productversion_amount_range",
            ),
            models.CheckConstraint(
                condition=Q(term_min_months__gte=1)
                & Q(term_max_months__lte=360)
                & Q(term_min_months__lte=models.F("term_max_months")),
                name="marketplace_productversion_term_range",
            ),
            models.CheckConstraint(
                condition=Q(rate_min__gte=0)
                & Q(rate_max__lte=36)
                & Q(rate_min__lte=models.F("rate_max")),
                name="marketplace_productversion_rate_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product.code} v{self.number}"


class ProductEvent(TimelineEvent):
    """One step of a product's timeline: who did what, when, from which status to which."""

    product = models.ForeignKey(
        Product, verbose_name=_("产品"), on_delete=models.CASCADE, related_name="events"
    )
    version = models.ForeignKey(
        ProductVersion,
        verbose_name=_("版本"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
    )
    kind = models.CharField(_("事件"), max_length=32, choices=EventKind.choices)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta(TimelineEvent.Meta):
        verbose_name = _("产品事件")
        verbose_name_plural = _("产品事件")
        ordering = ["product_id", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.product_id} · {self.get_kind_display()}"
