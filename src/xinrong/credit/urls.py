from django.urls import path

from xinrong.credit import views

app_name = "credit"

urlpatterns = [
    path("archive/<str:uscc>/", views.archive, name="archive"),
    path("archive/<str:uscc>/export.xlsx", views.archive_export, name="archive_export"),
    path("graph/<str:uscc>/", views.graph, name="graph"),
    path("graph/<str:uscc>/data.json", views.graph_data, name="graph_data"),
    path("authorisations/", views.authorisations, name="authorisations"),
    path("authorisations/<int:pk>/revoke/", views.authorisation_revoke, name="revoke"),
    path("query-log/", views.query_log, name="query_log"),
    path("portrait/", views.portrait_own, name="portrait_own"),
    path("portrait/<str:uscc>/", views.portrait, name="portrait"),
    path("alerts/", views.alerts, name="alerts"),
    path("alerts/<int:pk>/", views.alert_handle, name="alert_handle"),
    path("cultivation/", views.cultivation, name="cultivation"),
    path("cultivation/<int:pk>/", views.cultivation_case, name="cultivation_case"),
    path("models/", views.model_list, name="models"),
    path("models/<int:version>/", views.model_detail, name="model"),
    path("models/<int:version>/activate/", views.model_activate, name="model_activate"),
]

# credit reports (the public verification page is mounted at /verify/ by config.urls)
urlpatterns += [
    path("report/<str:uscc>/new", views.report_new, name="report_new"),
    path("report/file/<str:number>", views.report_download, name="report_download"),
]
