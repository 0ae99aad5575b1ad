from django.urls import path

from xinrong.credit import views

app_name = "credit"

urlpatterns = [
    path("archive/<str:uscc>/", views.archive, name="archive"),
    path("archive/<str:uscc>/export.xlsx", views.archive_export, name="archive_export"),
    path("graph/<str:uscc>/", views.graph, name="graph"),
    path("graph/<str:uscc>/data.json", views.graph_data, name="graph_data"),
    path("authorisations/", views.authorisations, name="authorisations"),
    path("disputes/", views.dispute_list, name="dispute_list"),
    path("disputes/new/<int:fact_id>/", views.dispute_new, name="dispute_new"),
    path("disputes/<int:pk>/", views.dispute_detail, name="dispute_detail"),
    path(
        "disputes/<int:pk>/<slug:action>/",
        views.dispute_action,
        name="dispute_action",
    ),
    path(
        "disputes/<int:pk>/evidence/<int:file_id>/",
        views.dispute_evidence_download,
        name="dispute_evidence",
    ),
    path("repairs/", views.repair_list, name="repair_list"),
    path("repairs/new/<int:fact_id>/", views.repair_new, name="repair_new"),
    path("repairs/<int:pk>/", views.repair_detail, name="repair_detail"),
    path("repairs/<int:pk>/<slug:action>/", views.repair_decide, name="repair_decide"),
    path(
        "repairs/<int:pk>/evidence/<int:file_id>/",
        views.repair_evidence_download,
        name="repair_evidence",
    ),
    path("authorisations/<int:pk>/revoke/", views.authorisation_revoke, name="revoke"),
    path("query-log/", views.query_log, name="query_log"),
    path("portrait/", views.portrait_own, name="portrait_own"),
    path("portrait/<str:uscc>/", views.portrait, name="portrait"),
    path("alerts/", views.alerts, name="alerts"),
    path("alerts/<int:pk>/", views.alert_handle, name="alert_handle"),
    path("alerts/rules/", views.warning_rules, name="warning_rules"),
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
