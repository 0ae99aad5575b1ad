"""Read-only admin views of the policy catalogue (changes go through the services and pages)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from xinrong.policies.models import Measure, MeasureVersion, PolicyDocument


class _ReadOnly(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PolicyDocument)
class PolicyDocumentAdmin(_ReadOnly):
    list_display = ("title", "doc_number", "department", "level", "status", "issued_on")
    list_filter = ("level", "status", "is_pboc")
    search_fields = ("title", "doc_number")


@admin.register(Measure)
class MeasureAdmin(_ReadOnly):
    list_display = ("code", "title", "kind", "delivery", "status", "version", "budget")
    list_filter = ("kind", "delivery", "status")
    search_fields = ("code", "title")


@admin.register(MeasureVersion)
class MeasureVersionAdmin(_ReadOnly):
    list_display = ("measure", "version", "in_force_from", "in_force_to", "note")
