"""URL configuration: web pages, admin, the JSON API."""

from typing import Any

from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.i18n import set_language

from xinrong.accounts import views_audit as audit_views
from xinrong.config.api import api
from xinrong.credit.views import reports as reports_views

admin.site.site_header = _("信融平台管理后台")
admin.site.site_title = _("信融 xinrong")
admin.site.index_title = _("运营管理")


def _public_api_urls() -> tuple[list[Any], str, str]:
    """Return the API's URLs, which authenticate each request themselves (401, not a redirect)."""
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        callback = getattr(pattern, "callback", None)
        if callback is not None:
            login_not_required(callback)
    return patterns, app_name, namespace


urlpatterns = [
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("admin/", admin.site.urls),
    path("api/v1/", _public_api_urls()),
    path("accounts/", include("xinrong.accounts.urls")),
    path("enterprises/", include("xinrong.enterprises.urls")),
    path("datahub/", include("xinrong.datahub.urls")),
    path("notifications/", include("xinrong.notifications.urls")),
    path("credit/", include("xinrong.credit.urls")),
    path("marketplace/", include("xinrong.marketplace.urls")),
    path("policies/", include("xinrong.policies.urls")),
    path("riskfund/", include("xinrong.riskfund.urls")),
    path("evaluations/", include("xinrong.evaluations.urls")),
    path("insight/", include("xinrong.insight.urls")),
    path("workflows/", include("xinrong.workflows.urls")),
    # The audit trail (xinrong.audit); its page is declared with the accounts permissions.
    path("audit/", audit_views.audit_log, name="audit_log"),
    path("audit/export", audit_views.audit_log_export, name="audit_log_export"),
    # public verification of credit reports (no login): the address printed in every report
    path("verify/", reports_views.report_verify_lookup, name="report_verify_lookup"),
    path("verify/<str:number>", reports_views.report_verify, name="report_verify"),
    path("", include("xinrong.web.urls")),
]

# Error pages in the platform's layout, in Chinese, with the way forward.
handler400 = "xinrong.web.errors.bad_request"
handler403 = "xinrong.web.errors.permission_denied"
handler404 = "xinrong.web.errors.page_not_found"
handler500 = "xinrong.web.errors.server_error"
