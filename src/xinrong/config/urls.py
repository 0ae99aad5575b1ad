"""URL configuration: web pages, admin, the JSON API."""

from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from xinrong.config.api import api
from xinrong.credit import views as credit_views

admin.site.site_header = _("信融平台管理后台")
admin.site.site_title = _("信融 xinrong")
admin.site.index_title = _("运营管理")

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("accounts/", include("xinrong.accounts.urls")),
    path("enterprises/", include("xinrong.enterprises.urls")),
    path("datahub/", include("xinrong.datahub.urls")),
    path("notifications/", include("xinrong.notifications.urls")),
    path("credit/", include("xinrong.credit.urls")),
    path("marketplace/", include("xinrong.marketplace.urls")),
    # public verification of credit reports (no login): the address printed in every report
    path("verify/", credit_views.report_verify_lookup, name="report_verify_lookup"),
    path("verify/<str:number>", credit_views.report_verify, name="report_verify"),
    path("", include("xinrong.web.urls")),
]
