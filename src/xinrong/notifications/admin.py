"""Operator view of sent notifications (read-only: messages are not edited after sending)."""

from django.contrib import admin
from django.http import HttpRequest

from xinrong.notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin[Notification]):
    list_display = ("title", "recipient", "kind", "created_at", "read_at")
    list_filter = ("kind",)
    search_fields = ("title", "recipient__username")
    list_select_related = ("recipient",)
    readonly_fields = (
        "recipient",
        "organisation_id",
        "kind",
        "title",
        "body",
        "link",
        "read_at",
        "created_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
