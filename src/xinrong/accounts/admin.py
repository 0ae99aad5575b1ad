"""Operator admin for organisations, users and API keys (secrets are never shown)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.models import ApiKey, Organisation, User, UserRole


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "uscc", "region_code", "is_active", "created_at")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "uscc")


class UserRoleInline(admin.TabularInline):
    model = UserRole
    extra = 0


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "display_name", "organisation", "is_active", "locked_until")
    list_filter = ("is_active", "is_staff", "organisation__kind")
    search_fields = ("username", "display_name", "organisation__name")
    list_select_related = ("organisation",)
    raw_id_fields = ("organisation",)
    inlines = (UserRoleInline,)
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        (
            _("机构与安全"),
            {"fields": ("organisation", "display_name", "failed_login_count", "locked_until")},
        ),
    )


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("organisation", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("organisation__name", "name", "prefix")
    readonly_fields = (
        "prefix",
        "key_hash",
        "service_user",
        "created_by",
        "last_used_at",
        "revoked_at",
        "revoked_by",
    )
    list_select_related = ("organisation",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Keys are issued through the service (shown once), never typed into the admin."""
        return False
