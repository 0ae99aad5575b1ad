from django.urls import path

from xinrong.credit import views

app_name = "credit"

urlpatterns = [
    path("archive/<str:uscc>/", views.archive, name="archive"),
    path("archive/<str:uscc>/export.xlsx", views.archive_export, name="archive_export"),
    path("authorisations/", views.authorisations, name="authorisations"),
    path("authorisations/<int:pk>/revoke/", views.authorisation_revoke, name="revoke"),
    path("query-log/", views.query_log, name="query_log"),
]

# credit reports (the public verification page is mounted at /verify/ by config.urls)
urlpatterns += [
    path("report/<str:uscc>/new", views.report_new, name="report_new"),
    path("report/file/<str:number>", views.report_download, name="report_download"),
]
