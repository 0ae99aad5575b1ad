"""The one timeline-event shape every workflow writes (an abstract model).

Each workflow keeps its own event table (``ApplicationEvent``, ``DisputeEvent``…) so that an
object's timeline is one indexed read, but every table has these columns and is written only by
:func:`xinrong.workflows.kernel.transition_apply` (and, for events that are not moves, by
:func:`xinrong.workflows.kernel.event_record`). The timeline users see is that table.
"""

from __future__ import annotations

from typing import ClassVar

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

    # the statuses of the workflow writing this table (set when it registers): labels to show
    status_choices: ClassVar[type[models.TextChoices] | None] = None

    class Meta:
        abstract = True
        ordering = ["created_at", "id"]

    def _status_label(self, value: str) -> str:
        if not value or self.status_choices is None or value not in self.status_choices.values:
            return value
        return str(self.status_choices(value).label)

    @property
    def from_status_label(self) -> str:
        """The status before the event, as people read it ("审核中", not "in_review")."""
        return self._status_label(self.from_status)

    @property
    def to_status_label(self) -> str:
        """The status after the event, as people read it."""
        return self._status_label(self.to_status)

    @property
    def is_move(self) -> bool:
        """Return True when the event changed the status (not a note on the way)."""
        return bool(self.to_status) and self.to_status != self.from_status
