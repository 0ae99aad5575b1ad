"""URL configuration: web pages, admin, the JSON API."""

from django.contrib import admin
from django.urls import include, path

from xinrong.config.api import api

admin.site.site_header = "信融平台管理后台"
admin.site.site_title = "信融 xinrong"
admin.site.index_title = "运营管理"

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("accounts/", include("xinrong.accounts.urls")),
    path("enterprises/", include("xinrong.enterprises.urls")),
    path("", include("xinrong.web.urls")),
]
