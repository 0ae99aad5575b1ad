"""A throwaway stateful model for the kernel's own tests (tables made by the test fixture)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from xinrong.workflows.timeline import TimelineEvent


class TicketStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    OPEN = "open", "办理中"
    CLOSED = "closed", "已办结"
    EXPIRED = "expired", "已过期"


class Ticket(models.Model):
    status = models.CharField(max_length=16, choices=TicketStatus.choices, default="draft")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    organisation_id = models.BigIntegerField(null=True)
    due_on = models.DateField(null=True)
    objects: models.Manager[Ticket] = models.Manager()

    class Meta:
        app_label = "workflows"
        db_table = "workflows_test_ticket"

    def __str__(self) -> str:
        return f"工单{self.pk}"


class TicketEvent(TimelineEvent):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    objects: models.Manager[TicketEvent] = models.Manager()

    class Meta(TimelineEvent.Meta):
        app_label = "workflows"
        db_table = "workflows_test_ticketevent"
