"""Sources, ingestion batches, typed facts, row errors and the name-resolution queue."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.models import Organisation
from xinrong.common.access import RestrictedQuerySet
from xinrong.common.models import TimeStampedModel
from xinrong.datahub.categories import CATEGORIES, CATEGORY_CHOICES, INT
from xinrong.datahub.choices import (
    BatchChannel,
    BatchStatus,
    Cadence,
    ConflictEventKind,
    ConflictStatus,
    ResolutionStatus,
    UnresolvedRowEventKind,
)
from xinrong.datahub.columnar import canonical
from xinrong.enterprises.models import MarketEntity
from xinrong.workflows.timeline import TimelineEvent


class Source(TimeStampedModel):
    """A department or institution that delivers public credit information."""

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("所属机构"),
        on_delete=models.PROTECT,
        related_name="data_sources",
    )
    categories = models.JSONField(_("数据类别"), default=list)
    cadence = models.CharField(
        _("更新频率"), max_length=16, choices=Cadence.choices, default=Cadence.MONTHLY
    )
    description = models.TextField(_("说明"), blank=True, default="")
    is_active = models.BooleanField(_("启用"), default=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("数据来源")
        verbose_name_plural = _("数据来源")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class IngestBatch(TimeStampedModel):
    """One delivery of one category from one source; its facts appear only when completed."""

    source = models.ForeignKey(
        Source, verbose_name=_("数据来源"), on_delete=models.PROTECT, related_name="batches"
    )
    category = models.CharField(_("数据类别"), max_length=32, choices=CATEGORY_CHOICES)
    channel = models.CharField(_("渠道"), max_length=16, choices=BatchChannel.choices)
    filename = models.CharField(_("文件名"), max_length=255, blank=True, default="")
    content_hash = models.CharField(_("内容摘要"), max_length=64)
    status = models.CharField(
        _("状态"),
        max_length=16,
        choices=BatchStatus.choices,
        default=BatchStatus.PENDING,
        db_index=True,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提交人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    received = models.PositiveIntegerField(_("收到行数"), default=0)
    accepted = models.PositiveIntegerField(_("接收行数"), default=0)
    rejected = models.PositiveIntegerField(_("拒绝行数"), default=0)
    duplicates = models.PositiveIntegerField(_("重复行数"), default=0)
    unresolved = models.PositiveIntegerField(_("待关联行数"), default=0)
    conflicts = models.PositiveIntegerField(_("冲突数"), default=0)
    processed = models.PositiveIntegerField(_("已处理行数"), default=0)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    failure = models.TextField(_("失败原因"), blank=True, default="")
    errors_total = models.PositiveIntegerField(
        _("错误总数"),
        default=0,
        help_text=_("全部行错误的条数；只保存前 XINRONG_INGEST_MAX_STORED_ERRORS 条"),
    )
    stored_file = models.CharField(
        _("待处理文件"),
        max_length=255,
        blank=True,
        default="",
        help_text=_("交给后台处理的文件（MEDIA_ROOT/uploads 下的文件名），处理结束即删除"),
    )
    task_id = models.CharField(_("后台任务"), max_length=64, blank=True, default="")
    heartbeat_at = models.DateTimeField(
        _("最近进展时间"), null=True, blank=True, help_text=_("处理中每写完一块即更新")
    )
    attempts = models.PositiveSmallIntegerField(_("处理次数"), default=0)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("归集批次")
        verbose_name_plural = _("归集批次")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "category", "content_hash"],
                name="datahub_ingestbatch_unique_content",
            )
        ]

    def __str__(self) -> str:
        return f"{self.source} · {self.get_category_display()} · {self.filename or self.pk}"


class Fact(models.Model):
    """One row of public credit information, typed for column-wise scoring.

    The table takes millions of rows per delivery, so it carries only the indexes its reads
    need, and its foreign keys are kept by the application (Django's on_delete still cascades
    and protects) rather than by per-row database triggers: see docs/decisions/0004.
    """

    batch = models.ForeignKey(
        IngestBatch,
        verbose_name=_("批次"),
        on_delete=models.CASCADE,
        related_name="facts",
        db_index=False,  # datahub_fact_batch_idx
        db_constraint=False,
    )
    source = models.ForeignKey(
        Source,
        verbose_name=_("数据来源"),
        on_delete=models.PROTECT,
        related_name="facts",
        db_index=False,
        db_constraint=False,
    )
    category = models.CharField(_("数据类别"), max_length=32, choices=CATEGORY_CHOICES)
    entity = models.ForeignKey(
        MarketEntity,
        verbose_name=_("市场主体"),
        on_delete=models.CASCADE,
        related_name="facts",
        db_index=False,  # the unique (entity, source, row_hash, province) key leads with it
        db_constraint=False,
    )
    row_hash = models.BigIntegerField(
        _("行摘要"), help_text=_("行内容的64位摘要，用于识别重复报送")
    )
    period = models.CharField(_("所属期"), max_length=7, blank=True, default="")
    occurred_on = models.DateField(_("发生日期"), null=True, blank=True)
    behaviour_end = models.DateField(_("行为终止日期"), null=True, blank=True)
    amount = models.DecimalField(
        _("金额（元）"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    arrears = models.DecimalField(_("欠缴"), max_digits=16, decimal_places=2, null=True, blank=True)
    quantity = models.DecimalField(
        _("数量"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    grade = models.CharField(_("等级/状态"), max_length=16, blank=True, default="")
    status = models.CharField(_("事项/类型"), max_length=64, blank=True, default="")
    flag = models.BooleanField(_("标记"), default=False)
    reference_no = models.CharField(_("编号"), max_length=64, blank=True, default="")
    negative = models.BooleanField(_("负面信息"), default=False)
    retention_until = models.DateField(
        _("负面信息保存截止"),
        null=True,
        blank=True,
        help_text=_("《征信业管理条例》第十六条：自不良行为终止之日起5年"),
    )
    data = models.JSONField(
        _("其他字段"), default=dict, help_text=_("报送行中没有对应类型列的字段（如地址、案由）")
    )
    created_at = models.DateTimeField(_("入库时间"), db_default=Now())
    # The first two digits of the entity's division code (its province, GB/T 2260), stamped at
    # ingestion. On PostgreSQL the table is partitioned by it (LIST, one partition a province
    # plus DEFAULT; migration 0013, docs/scaling.md), so it is in the primary key and the unique
    # key there, and region-scoped reads filter on it to touch one partition.
    province = models.CharField(_("省级区划"), max_length=2, blank=True, default="")

    class Meta:
        verbose_name = _("信用信息")
        verbose_name_plural = _("信用信息")
        ordering = ["entity_id", "category", "-occurred_on", "-period", "id"]
        constraints = [
            models.UniqueConstraint(
                # the hash covers the category; the entity leads so the archive reads by it;
                # the province (a function of the entity) is the partition key on PostgreSQL
                fields=["entity", "source", "row_hash", "province"],
                name="datahub_fact_unique_row",
            ),
            models.CheckConstraint(
                condition=Q(negative=False) | Q(retention_until__isnull=False),
                name="datahub_fact_negative_has_retention",
            ),
        ]
        indexes = [
            models.Index(fields=["batch"], name="datahub_fact_batch_idx"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_category_display()} · {self.entity_id} · {self.period or self.occurred_on}"
        )

    def values(self) -> dict[str, str]:
        """Return the delivered row: typed columns and other fields, as canonical text by key."""
        out = {k: v for k, v in self.data.items() if k != "uscc"}
        spec = CATEGORIES.get(self.category)
        for f in spec.fields if spec else ():
            value = getattr(self, f.column) if f.column else None
            if value is None or value == "":
                continue
            out[f.key] = str(int(value)) if f.kind == INT else canonical(value)
        return out


class RowError(models.Model):
    """Why a delivered row was refused: row, column, value and the rule it broke."""

    batch = models.ForeignKey(
        IngestBatch, verbose_name=_("批次"), on_delete=models.CASCADE, related_name="errors"
    )
    row_number = models.PositiveIntegerField(_("行号"))
    column = models.CharField(_("列"), max_length=64)
    value = models.CharField(_("值"), max_length=255, blank=True, default="")
    rule = models.CharField(_("规则"), max_length=255)
    cells = models.JSONField(
        _("原始行"),
        default=dict,
        blank=True,
        help_text=_("该行报送时各列的原文（按字段键），错误文件据此还原整行，供修改后重新报送"),
    )

    class Meta:
        verbose_name = _("错误行")
        verbose_name_plural = _("错误行")
        ordering = ["batch_id", "row_number", "id"]

    def __str__(self) -> str:
        return f"#{self.row_number} {self.column}: {self.rule}"


class UnresolvedRow(TimeStampedModel):
    """A valid row whose subject could not be tied to a USCC; an operator resolves it."""

    batch = models.ForeignKey(
        IngestBatch,
        verbose_name=_("批次"),
        on_delete=models.CASCADE,
        related_name="unresolved_rows",
    )
    row_number = models.PositiveIntegerField(_("行号"))
    name = models.CharField(_("主体名称"), max_length=200)
    region = models.CharField(_("行政区划代码"), max_length=12, blank=True, default="")
    values = models.JSONField(_("行数据"), default=dict)
    status = models.CharField(
        _("状态"),
        max_length=16,
        choices=ResolutionStatus.choices,
        default=ResolutionStatus.OPEN,
        db_index=True,
    )
    resolved_entity = models.ForeignKey(
        MarketEntity,
        verbose_name=_("关联主体"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("待关联记录")
        verbose_name_plural = _("待关联记录")
        ordering = ["status", "-created_at", "id"]

    def __str__(self) -> str:
        return f"{self.name} (#{self.row_number})"


class Conflict(TimeStampedModel):
    """Two sources disagree about an enterprise (交叉验证): flagged for review, never auto-fixed."""

    entity = models.ForeignKey(
        MarketEntity,
        verbose_name=_("市场主体"),
        on_delete=models.CASCADE,
        related_name="conflicts",
    )
    rule = models.CharField(_("校验规则"), max_length=40, db_index=True)
    severity = models.CharField(_("严重程度"), max_length=16)
    sources = models.JSONField(_("涉及来源"), default=list)
    detail = models.JSONField(_("详情"), default=dict)
    fingerprint = models.CharField(_("指纹"), max_length=64)
    status = models.CharField(
        _("处理状态"),
        max_length=16,
        choices=ConflictStatus.choices,
        default=ConflictStatus.OPEN,
        db_index=True,
    )
    resolution_note = models.TextField(_("处理说明"), blank=True, default="")
    blamed_source = models.ForeignKey(
        Source,
        verbose_name=_("数据有误的来源"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    blamed_registry = models.BooleanField(
        _("登记信息有误"), default=False, help_text=_("有误的是市场主体登记信息（registry）")
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("处理时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("数据冲突")
        verbose_name_plural = _("数据冲突")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "rule", "fingerprint"], name="datahub_conflict_unique"
            ),
            models.CheckConstraint(
                condition=Q(status=ConflictStatus.OPEN, resolved_at__isnull=True)
                | (~Q(status=ConflictStatus.OPEN) & Q(resolved_at__isnull=False)),
                name="datahub_conflict_closed_has_time",
            ),
            models.CheckConstraint(
                condition=Q(blamed_source__isnull=True) | Q(blamed_registry=False),
                name="datahub_conflict_one_blame",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk}（{self.entity.name}）"

    @property
    def is_open(self) -> bool:
        """Return True while nobody has closed the conflict."""
        return self.status == ConflictStatus.OPEN


class ConflictEvent(TimelineEvent):
    """One step of a conflict's handling: who, when, from and to which status, why (append-only).

    Written only by the workflow kernel (``datahub.workflows.CONFLICT``); an empty actor is the
    platform itself (an error confirmed earlier that reappears in newer data).
    """

    conflict = models.ForeignKey(
        Conflict, verbose_name=_("数据冲突"), on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(_("事项"), max_length=32, choices=ConflictEventKind.choices)
    from_status = models.CharField(
        _("原状态"), max_length=32, blank=True, default="", choices=ConflictStatus.choices
    )
    to_status = models.CharField(
        _("新状态"), max_length=32, blank=True, default="", choices=ConflictStatus.choices
    )

    class Meta(TimelineEvent.Meta):
        verbose_name = _("冲突处理记录")
        verbose_name_plural = _("冲突处理记录")

    def __str__(self) -> str:
        return f"#{self.conflict_id} {self.get_kind_display()}"


class UnresolvedRowEvent(TimelineEvent):
    """One step of an unresolved row's handling: associated with an entity, or discarded."""

    row = models.ForeignKey(
        UnresolvedRow, verbose_name=_("待关联记录"), on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(_("事项"), max_length=32, choices=UnresolvedRowEventKind.choices)
    from_status = models.CharField(
        _("原状态"), max_length=32, blank=True, default="", choices=ResolutionStatus.choices
    )
    to_status = models.CharField(
        _("新状态"), max_length=32, blank=True, default="", choices=ResolutionStatus.choices
    )

    class Meta(TimelineEvent.Meta):
        verbose_name = _("待关联记录处理记录")
        verbose_name_plural = _("待关联记录处理记录")

    def __str__(self) -> str:
        return f"#{self.row_id} {self.get_kind_display()}"


class PendingPlatformEvent(models.Model):
    """A platform loan event written in its caller's transaction, waiting for the next flush.

    The outbox of ``sources.platform_loan_event_enqueue``: a coalesced flush records every
    pending event as facts in one ingest batch and deletes the events in the same transaction,
    so each becomes a fact exactly once. An event the flush refuses (a programming error: an
    unregistered USCC, an unknown event) stays here with ``error`` for the operator.
    """

    row = models.JSONField(_("事件"), help_text=_("贷款事件各字段的文本，如同报送文件中的一行"))
    note = models.CharField(_("说明"), max_length=255, blank=True, default="")
    created_at = models.DateTimeField(_("记录时间"), default=timezone.now)
    failed_at = models.DateTimeField(_("记录失败时间"), null=True, blank=True)
    error = models.TextField(_("失败原因"), blank=True, default="")

    class Meta:
        verbose_name = _("待记录的平台贷款事件")
        verbose_name_plural = _("待记录的平台贷款事件")
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["id"],
                condition=Q(failed_at__isnull=True),
                name="datahub_pendingevent_waiting",
            )
        ]

    def __str__(self) -> str:
        return self.note or f"#{self.pk}"


class TaskRequest(models.Model):
    """A coalesced background task that is queued and has not started: at most one per name.

    Whoever creates the row queues the task (in the same transaction); the task deletes the row
    when it starts, so work arriving while it runs asks for the next run.
    """

    name = models.CharField(_("任务"), max_length=64, unique=True)
    task_id = models.CharField(_("后台任务"), max_length=64, blank=True, default="")
    requested_at = models.DateTimeField(_("请求时间"), default=timezone.now)

    class Meta:
        verbose_name = _("排队中的合并任务")
        verbose_name_plural = _("排队中的合并任务")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
