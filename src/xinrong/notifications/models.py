"""The in-app inbox: one row per message per recipient."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """A message to one user; unread until the user opens or dismisses it.

    Notifications are a low layer that knows no domain: ``kind`` is a free code chosen by the
    sender (e.g. ``dispute.corrected``) and ``organisation_id`` a plain id, not a foreign key,
    so that this app depends on nothing but the user model.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    organisation_id = models.BigIntegerField(
        _("相关机构ID"), null=True, blank=True, help_text=_("与通知相关的机构（可为空）")
    )
    kind = models.CharField(_("类型"), max_length=64, db_index=True)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True, default="")
    link = models.CharField(_("链接"), max_length=500, blank=True, default="")
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("发送时间"), default=timezone.now)

    class Meta:
        verbose_name = _("站内通知")
        verbose_name_plural = _("站内通知")
        ordering = ["-created_at", "-id"]
        indexes = [
            # the inbox and the navbar's unread count read by recipient
            models.Index(
                fields=["recipient", "read_at", "-created_at"],
                name="notifications_recipient_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id} · {self.title}"

    @property
    def is_read(self) -> bool:
        """Return True once the recipient has read it."""
        return self.read_at is not None
