"""Read-only admin views of disputes and repair applications (changes go through services)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from xinrong.credit.models import (
    Dispute,
    DisputeEvent,
    DisputeEvidence,
    RepairApplication,
    RepairEvent,
    RepairEvidence,
)


class ReadOnlyInline(admin.TabularInline[Any, Any]):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class DisputeEventInline(ReadOnlyInline):
    model = DisputeEvent
    fields = ("created_at", "kind", "actor", "from_status", "to_status", "note")
    readonly_fields = fields


class DisputeEvidenceInline(ReadOnlyInline):
    model = DisputeEvidence
    fields = ("original_name", "content_type", "size", "sha256", "uploaded_by", "created_at")
    readonly_fields = fields


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdmin):
    list_display = ("id", "entity", "category", "kind", "status", "due_on", "escalated_at")
    list_filter = ("status", "kind", "category")
    search_fields = ("entity__name", "entity__uscc")
    list_select_related = ("entity",)
    inlines = (DisputeEvidenceInline, DisputeEventInline)


class RepairEventInline(ReadOnlyInline):
    model = RepairEvent
    fields = ("created_at", "kind", "actor", "from_status", "to_status", "note")
    readonly_fields = fields


class RepairEvidenceInline(ReadOnlyInline):
    model = RepairEvidence
    fields = ("original_name", "content_type", "size", "sha256", "uploaded_by", "created_at")
    readonly_fields = fields


@admin.register(RepairApplication)
class RepairApplicationAdmin(ReadOnlyAdmin):
    list_display = ("id", "entity", "severity", "decided_on", "status", "submitted_at")
    list_filter = ("status", "severity")
    search_fields = ("entity__name", "entity__uscc")
    list_select_related = ("entity",)
    inlines = (RepairEvidenceInline, RepairEventInline)
