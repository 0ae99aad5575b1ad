"""The audit trail: append-only entries chained by SM3, and the head row that serialises appends."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from xinrong.audit.choices import AuditCategory
from xinrong.common.access import RestrictedQuerySet

# The previous hash of the first entry.
GENESIS_HASH = "0" * 64


class AuditEntry(models.Model):
    """One audited event; its hash covers the previous entry's hash and its own canonical row.

    The actor, organisation and target are plain values, never foreign keys: a cascade
    (SET_NULL, CASCADE) would rewrite or remove rows and break the chain.
    """

    seq = models.PositiveBigIntegerField(_("序号"), unique=True)
    created_at = models.DateTimeField(_("时间"), db_index=True)
    category = models.CharField(_("类别"), max_length=20, choices=AuditCategory.choices)
    action = models.CharField(_("操作"), max_length=64, db_index=True)
    actor_user_id = models.BigIntegerField(_("操作人编号"), null=True, blank=True)
    actor_username = models.CharField(_("操作人"), max_length=150, blank=True, db_index=True)
    actor_organisation_id = models.BigIntegerField(_("操作人机构编号"), null=True, blank=True)
    target_type = models.CharField(_("对象类型"), max_length=64, blank=True)
    target_id = models.CharField(_("对象编号"), max_length=64, blank=True)
    target_label = models.CharField(_("对象"), max_length=200, blank=True)
    enterprise_uscc = models.CharField(
        _("统一社会信用代码"), max_length=18, blank=True, db_index=True
    )
    region_code = models.CharField(_("所在地区"), max_length=12, blank=True, db_index=True)
    source_ip = models.CharField(_("来源地址"), max_length=45, blank=True)
    request_id = models.CharField(_("请求编号"), max_length=64, blank=True, db_index=True)
    details = models.JSONField(_("详情"), default=dict, blank=True)
    prev_hash = models.CharField(_("前一条摘要"), max_length=64)
    hash = models.CharField(_("摘要"), max_length=64)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-seq"]
        verbose_name = _("审计日志条目")
        verbose_name_plural = _("审计日志")

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.actor_username}"

    def canonical(self) -> dict[str, Any]:
        """Return the row's hashed content (everything but its own hash)."""
        return {
            "seq": self.seq,
            "created_at": self.created_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
            "category": self.category,
            "action": self.action,
            "actor_user_id": self.actor_user_id,
            "actor_username": self.actor_username,
            "actor_organisation_id": self.actor_organisation_id,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "target_label": self.target_label,
            "enterprise_uscc": self.enterprise_uscc,
            "region_code": self.region_code,
            "source_ip": self.source_ip,
            "request_id": self.request_id,
            "details": self.details,
            "prev_hash": self.prev_hash,
        }


class AuditChainHead(models.Model):
    """The chain's single head row: the last sequence number and hash (locked to append)."""

    last_seq = models.PositiveBigIntegerField(_("最后序号"), default=0)
    last_hash = models.CharField(_("最后摘要"), max_length=64, default=GENESIS_HASH)

    objects: models.Manager[AuditChainHead] = models.Manager()

    class Meta:
        ordering = ["pk"]
        verbose_name = _("审计链头")
        verbose_name_plural = _("审计链头")

    def __str__(self) -> str:
        return f"#{self.last_seq} {self.last_hash[:12]}"
