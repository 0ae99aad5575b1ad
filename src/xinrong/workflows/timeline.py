"""The one timeline-event shape every workflow writes (an abstract model).

Each workflow keeps its own event table (``ApplicationEvent``, ``DisputeEvent``…) so that an
object's timeline is one indexed read, but every table has these columns and is written only by
:func:`xinrong.workflows.kernel.transition_apply` (and, for events that are not moves, by
:func:`xinrong.workflows.kernel.event_record`). The timeline users see is that table.
"""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TimelineEvent(models.Model):
    """One step of an object's timeline: who did what, when, from which status to which."""

    kind = models.CharField(_("事件"), max_length=32)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    from_status = models.CharField(_("原状态"), max_length=32, blank=True, default="")
    to_status = models.CharField(_("新状态"), max_length=32, blank=True, default="")
    note = models.TextField(_("说明"), blank=True, default="")
    data = models.JSONField(_("数据"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        abstract = True
        ordering = ["created_at", "id"]

    @property
    def is_move(self) -> bool:
        """Return True when the event changed the status (not a note on the way)."""
        return bool(self.to_status) and self.to_status != self.from_status
