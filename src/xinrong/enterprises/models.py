"""The registry of market entities, the people behind them and their relationships."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.models import Organisation
from xinrong.common.access import RestrictedQuerySet
from xinrong.common.fields import EncryptedTextField
from xinrong.common.models import TimeStampedModel
from xinrong.enterprises.choices import EntityType, RegistrationStatus, RelationKind
from xinrong.reference.choices import SizeClass


class Person(TimeStampedModel):
    """A natural person (legal representative, shareholder, executive); ID number encrypted."""

    name = models.CharField(_("姓名"), max_length=64)
    id_number = EncryptedTextField(_("身份证号码"), blank=True, default="")
    id_number_index = models.CharField(
        _("身份证号码索引"), max_length=64, null=True, blank=True, unique=True, editable=False
    )
    phone = EncryptedTextField(_("手机号"), blank=True, default="")
    phone_index = models.CharField(
        _("手机号索引"), max_length=64, blank=True, default="", db_index=True, editable=False
    )

    class Meta:
        verbose_name = _("自然人")
        verbose_name_plural = _("自然人")
        ordering = ["id"]

    def __str__(self) -> str:
        from xinrong.common.masking import mask_name

        return mask_name(self.name)


class Tag(TimeStampedModel):
    """A label on market entities, such as 专精特新 or 高新技术企业."""

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=40)

    class Meta:
        verbose_name = _("标签")
        verbose_name_plural = _("标签")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class MarketEntity(TimeStampedModel):
    """A market entity (enterprise or individual business) identified by its USCC."""

    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    name = models.CharField(_("名称"), max_length=200, db_index=True)
    name_key = models.CharField(
        _("名称匹配键"), max_length=200, db_index=True, editable=False, default=""
    )
    entity_type = models.CharField(
        _("主体类型"), max_length=24, choices=EntityType.choices, db_index=True
    )
    legal_representative = models.ForeignKey(
        Person,
        verbose_name=_("法定代表人/经营者"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="represented_entities",
    )
    registered_capital = models.DecimalField(
        _("注册资本（元）"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    established_on = models.DateField(_("成立日期"), null=True, blank=True)
    registration_status = models.CharField(
        _("登记状态"),
        max_length=16,
        choices=RegistrationStatus.choices,
        default=RegistrationStatus.ACTIVE,
    )
    industry_code = models.CharField(_("行业代码"), max_length=5, db_index=True)
    division_code = models.CharField(_("行政区划代码"), max_length=12, db_index=True)
    address = models.CharField(_("住所/经营场所"), max_length=255, blank=True, default="")
    address_key = models.CharField(
        _("住所匹配键"), max_length=255, blank=True, default="", db_index=True, editable=False
    )
    employees = models.PositiveIntegerField(_("从业人员（人）"), null=True, blank=True)
    annual_revenue = models.DecimalField(
        _("营业收入（万元）"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    total_assets = models.DecimalField(
        _("资产总额（万元）"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    size_class = models.CharField(
        _("企业规模"),
        max_length=8,
        choices=SizeClass.choices,
        blank=True,
        default="",
        db_index=True,
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("标签"), blank=True, related_name="entities")
    organisation = models.OneToOneField(
        Organisation,
        verbose_name=_("平台账户机构"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="market_entity",
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("市场主体")
        verbose_name_plural = _("市场主体")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["division_code", "entity_type"], name="ent_division_type_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.uscc}）"


class Relationship(TimeStampedModel):
    """A tie from a person or another entity to a market entity: holding, office, guarantee."""

    entity = models.ForeignKey(
        MarketEntity,
        verbose_name=_("市场主体"),
        on_delete=models.CASCADE,
        related_name="relationships",
    )
    kind = models.CharField(_("关系类型"), max_length=24, choices=RelationKind.choices)
    person = models.ForeignKey(
        Person,
        verbose_name=_("自然人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="relationships",
    )
    holder_entity = models.ForeignKey(
        MarketEntity,
        verbose_name=_("关联主体"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="held_relationships",
    )
    share_ratio = models.DecimalField(
        _("持股比例（%）"), max_digits=7, decimal_places=4, null=True, blank=True
    )
    title = models.CharField(_("职务"), max_length=40, blank=True, default="")
    guaranteed_amount = models.DecimalField(
        _("担保金额（元）"), max_digits=16, decimal_places=2, null=True, blank=True
    )

    class Meta:
        verbose_name = _("关联关系")
        verbose_name_plural = _("关联关系")
        ordering = ["entity_id", "kind", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(person__isnull=False) & Q(holder_entity__isnull=True))
                | (Q(person__isnull=True) & Q(holder_entity__isnull=False)),
                name="enterprises_relationship_one_party",
            ),
            models.CheckConstraint(
                condition=Q(share_ratio__isnull=True)
                | (Q(share_ratio__gt=0) & Q(share_ratio__lte=100)),
                name="enterprises_relationship_share_ratio_range",
            ),
            models.CheckConstraint(
                condition=~Q(holder_entity=models.F("entity")),
                name="enterprises_relationship_not_self",
            ),
            models.CheckConstraint(
                condition=Q(guaranteed_amount__isnull=True)
                | (Q(kind=RelationKind.GUARANTOR) & Q(guaranteed_amount__gte=0)),
                name="enterprises_relationship_guaranteed_amount",
            ),
        ]
        indexes = [
            models.Index(fields=["person", "kind"], name="ent_rel_person_kind_idx"),
            # the guarantee graph is walked both ways and read whole for circle detection
            models.Index(
                fields=["holder_entity", "entity"],
                condition=Q(kind=RelationKind.GUARANTOR),
                name="ent_rel_guarantee_idx",
            ),
        ]

    def __str__(self) -> str:
        party = self.person if self.person_id else self.holder_entity
        return f"{party} → {self.entity}（{self.get_kind_display()}）"
