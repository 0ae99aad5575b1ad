"""Read-only admin views of products (changes go through the services and pages)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from xinrong.marketplace.models import Demand, Product, ProductEvent, ProductVersion


class _ReadOnlyInline(admin.TabularInline[Any, Product]):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class VersionInline(_ReadOnlyInline):
    model = ProductVersion
    fields = (
        "number",
        "status",
        "product_type",
        "amount_min",
        "amount_max",
        "rate_min",
        "rate_max",
    )
    readonly_fields = fields


class EventInline(_ReadOnlyInline):
    model = ProductEvent
    fields = ("created_at", "kind", "version", "actor", "from_status", "to_status", "note")
    readonly_fields = fields


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin[Product]):
    list_display = ("code", "name", "institution", "status", "published_at")
    list_filter = ("status", "institution__kind")
    search_fields = ("code", "name", "institution__name")
    list_select_related = ("institution",)
    inlines = [VersionInline, EventInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Demand)
class DemandAdmin(admin.ModelAdmin[Demand]):
    list_display = ("id", "entity", "amount", "term_months", "urgency", "status", "created_at")
    list_filter = ("status", "urgency", "purpose_category")
    search_fields = ("entity__name", "entity__uscc")
    list_select_related = ("entity",)
    raw_id_fields = ("entity", "held_by", "created_by")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
