"""Operator admin for organisations, users and API keys: read-only, so nothing bypasses the record.

Logins, roles and keys are written only through the accounts services (the pages under
/accounts/), which check the permission layer and write a SecurityEvent; the admin shows them.
The admin's own login page sends to the one login page (/accounts/login/), so one lockout applies.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.models import (
    ApiKey,
    LoginThrottle,
    Organisation,
    SecurityEvent,
    User,
    UserRole,
)


def _login_via_platform(request: HttpRequest, extra_context: Any = None) -> HttpResponse:
    """Send the admin's login to the platform's login page (one path, one lockout)."""
    return redirect_to_login(
        request.GET.get("next") or reverse("admin:index"), login_url=reverse("accounts:login")
    )


_admin_logout = admin.site.logout


def _logout_recorded(
    request: HttpRequest, extra_context: dict[str, Any] | None = None
) -> TemplateResponse:
    """Log out of the admin, recording it like a logout from the platform."""
    from xinrong.accounts.auth import request_source
    from xinrong.accounts.services.login import logout_record

    if request.method == "POST" and isinstance(request.user, User):
        ip, agent = request_source(request)
        logout_record(user=request.user, source_ip=ip, user_agent=agent)
    return _admin_logout(request, extra_context)


admin.site.login = _login_via_platform  # type: ignore[method-assign]
admin.site.logout = _logout_recorded  # type: ignore[method-assign]


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    """Show rows; adding, changing and deleting go through the services only."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Organisation)
class OrganisationAdmin(ReadOnlyAdmin):
    list_display = ("name", "kind", "uscc", "region_code", "is_active", "created_at")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "uscc")


class UserRoleInline(admin.TabularInline[UserRole, User]):
    model = UserRole
    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(User)
class UserAdmin(BaseUserAdmin[User]):
    list_display = ("username", "display_name", "organisation", "is_active", "last_login")
    list_filter = ("is_active", "is_staff", "organisation__kind")
    search_fields = ("username", "display_name", "organisation__name")
    list_select_related = ("organisation",)
    raw_id_fields = ("organisation",)
    inlines = (UserRoleInline,)
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        (_("机构"), {"fields": ("organisation", "display_name")}),
    )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(UserRole)
class UserRoleAdmin(ReadOnlyAdmin):
    list_display = ("user", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("user__username",)
    list_select_related = ("user",)


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    list_display = ("organisation", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("organisation__name", "name", "prefix")
    exclude = ("key_hash", "signing_secret")
    list_select_related = ("organisation",)


@admin.register(LoginThrottle)
class LoginThrottleAdmin(ReadOnlyAdmin):
    list_display = ("username", "source_ip", "failures", "locked_until", "lockouts")
    search_fields = ("username", "source_ip")


@admin.register(SecurityEvent)
class SecurityEventAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "action",
        "actor",
        "username",
        "target_organisation",
        "ip_address",
    )
    list_filter = ("action",)
    search_fields = ("username", "ip_address")
    list_select_related = ("actor", "target_organisation")
