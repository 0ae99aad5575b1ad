"""BPMN approval processes stored as data: definitions, versions and the cases running on them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinrong.common.models import TimeStampedModel
from xinrong.workflows.choices import InstanceStatus, VersionStatus


class ProcessDefinition(TimeStampedModel):
    """One configurable approval process (e.g. credit repair approval), known by a stable key."""

    key = models.CharField(_("流程标识"), max_length=64, unique=True)
    name = models.CharField(_("流程名称"), max_length=100)
    description = models.TextField(_("说明"), blank=True, default="")
    variables = models.JSONField(
        _("流程变量"),
        default=dict,
        blank=True,
        help_text=_("启动时传入、审批时填写的变量及示例值，用于检查分支条件"),
    )

    class Meta:
        verbose_name = _("审批流程")
        verbose_name_plural = _("审批流程")
        ordering = ["key"]

    def __str__(self) -> str:
        return f"{self.name}（{self.key}）"

    @property
    def active_version(self) -> ProcessVersion | None:
        """Return the version new cases start on, if any."""
        return self.versions.filter(status=VersionStatus.ACTIVE).first()


class ProcessVersion(models.Model):
    """One numbered version of a process: its BPMN XML, lane mapping and validation report."""

    definition = models.ForeignKey(
        ProcessDefinition,
        verbose_name=_("审批流程"),
        on_delete=models.CASCADE,
        related_name="versions",
    )
    number = models.PositiveIntegerField(_("版本号"))
    bpmn_xml = models.TextField(_("BPMN 定义"))
    lane_map = models.JSONField(
        _("泳道人员配置"),
        default=dict,
        blank=True,
        help_text=_("泳道 id → {roles: [角色], users: [用户 id], org_kind: 机构类型}"),
    )
    status = models.CharField(
        _("状态"),
        max_length=16,
        choices=VersionStatus.choices,
        default=VersionStatus.DRAFT,
        db_index=True,
    )
    errors = models.JSONField(_("检查结果"), default=list, blank=True)
    validated_at = models.DateTimeField(_("检查时间"), null=True, blank=True)
    note = models.CharField(_("修改说明"), max_length=200, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    activated_at = models.DateTimeField(_("启用时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("流程版本")
        verbose_name_plural = _("流程版本")
        ordering = ["definition_id", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["definition", "number"], name="workflows_processversion_unique_number"
            ),
            models.UniqueConstraint(
                fields=["definition"],
                condition=Q(status="active"),
                name="workflows_processversion_one_active",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.definition.name} v{self.number}"

    @property
    def is_valid(self) -> bool:
        """Return True once checked with no error."""
        return self.validated_at is not None and not self.errors


class ProcessInstance(TimeStampedModel):
    """One case running on one process version (it finishes on the version it started with)."""

    version = models.ForeignKey(
        ProcessVersion,
        verbose_name=_("流程版本"),
        on_delete=models.PROTECT,
        related_name="instances",
    )
    subject_model = models.CharField(_("业务对象类型"), max_length=64)
    subject_id = models.CharField(_("业务对象编号"), max_length=64)
    state = models.JSONField(_("流程状态"), default=dict)
    data = models.JSONField(_("流程数据"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    actors = models.JSONField(
        _("办理记录"), default=list, blank=True, help_text=_("[{task, lane, user}]")
    )
    waiting = models.JSONField(
        _("待办任务"),
        default=list,
        blank=True,
        help_text=_("[{id, task, name, lane, lane_name, roles, users, org_kind}]：谁在等着办"),
    )
    status = models.CharField(
        _("状态"),
        max_length=16,
        choices=InstanceStatus.choices,
        default=InstanceStatus.RUNNING,
        db_index=True,
    )
    end_event = models.CharField(_("结束节点"), max_length=64, blank=True, default="")

    class Meta:
        verbose_name = _("流程实例")
        verbose_name_plural = _("流程实例")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["subject_model", "subject_id"], name="workflows_instance_subject")
        ]

    def __str__(self) -> str:
        return f"{self.version} · {self.subject_model}#{self.subject_id}"

    @property
    def is_completed(self) -> bool:
        """Return True once the process reached an end event."""
        return self.status == InstanceStatus.COMPLETED

    @property
    def result(self) -> dict[str, Any]:
        """Return the process data (the variables set at start and by each step)."""
        return dict(self.data)
