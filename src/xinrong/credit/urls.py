from django.urls import path

from xinrong.credit.views import archive as archive_views
from xinrong.credit.views import cultivation as cultivation_views
from xinrong.credit.views import disputes as disputes_views
from xinrong.credit.views import early_warning as early_warning_views
from xinrong.credit.views import lists as lists_views
from xinrong.credit.views import repair as repair_views
from xinrong.credit.views import reports as reports_views
from xinrong.credit.views import scoring as scoring_views

app_name = "credit"

urlpatterns = [
    path("archive/<str:uscc>/", archive_views.archive, name="archive"),
    path("archive/<str:uscc>/export.xlsx", archive_views.archive_export, name="archive_export"),
    path("graph/<str:uscc>/", archive_views.graph, name="graph"),
    path("graph/<str:uscc>/data.json", archive_views.graph_data, name="graph_data"),
    path("authorisations/", archive_views.authorisations, name="authorisations"),
    path("disputes/", disputes_views.dispute_list, name="dispute_list"),
    path("disputes/export.xlsx", disputes_views.dispute_export, name="dispute_export"),
    path("disputes/new/<int:fact_id>/", disputes_views.dispute_new, name="dispute_new"),
    path("disputes/<int:pk>/", disputes_views.dispute_detail, name="dispute_detail"),
    path(
        "disputes/<int:pk>/<slug:action>/",
        disputes_views.dispute_action,
        name="dispute_action",
    ),
    path(
        "disputes/<int:pk>/evidence/<int:file_id>/",
        disputes_views.dispute_evidence_download,
        name="dispute_evidence",
    ),
    path("repairs/", repair_views.repair_list, name="repair_list"),
    path("repairs/new/<int:fact_id>/", repair_views.repair_new, name="repair_new"),
    path("repairs/<int:pk>/", repair_views.repair_detail, name="repair_detail"),
    path("repairs/<int:pk>/<slug:action>/", repair_views.repair_decide, name="repair_decide"),
    path(
        "repairs/<int:pk>/evidence/<int:file_id>/",
        repair_views.repair_evidence_download,
        name="repair_evidence",
    ),
    path("authorisations/<int:pk>/revoke/", archive_views.authorisation_revoke, name="revoke"),
    path("query-log/", archive_views.query_log, name="query_log"),
    path("query-log/export.xlsx", archive_views.query_log_export, name="query_log_export"),
    path("portrait/", scoring_views.portrait_own, name="portrait_own"),
    path("portrait/<str:uscc>/", scoring_views.portrait, name="portrait"),
    path("alerts/", early_warning_views.alerts, name="alerts"),
    path("alerts/<int:pk>/", early_warning_views.alert_handle, name="alert_handle"),
    path("alerts/rules/", early_warning_views.warning_rules, name="warning_rules"),
    path("cultivation/", cultivation_views.cultivation, name="cultivation"),
    path("cultivation/<int:pk>/", cultivation_views.cultivation_case, name="cultivation_case"),
    path("models/", scoring_views.model_list, name="models"),
    path("models/train/", scoring_views.model_train, name="model_train"),
    path("models/<int:version>/", scoring_views.model_detail, name="model"),
    path("models/<int:version>/activate/", scoring_views.model_activate, name="model_activate"),
]

# credit reports (the public verification page is mounted at /verify/ by config.urls)
urlpatterns += [
    path("report/<str:uscc>/new", reports_views.report_new, name="report_new"),
    path("report/file/<str:number>", reports_views.report_download, name="report_download"),
]

# white and black lists (issue 16)
urlpatterns += [
    path("lists/", lists_views.list_manage, name="lists"),
    path("lists/export.xlsx", lists_views.list_export, name="lists_export"),
    path("lists/criteria/", lists_views.criteria_set, name="whitelist_criteria"),
    path("lists/sweep/", lists_views.list_sweep, name="lists_sweep"),
    path("lists/mine/", lists_views.list_status, name="list_status"),
    path("lists/mine/consent/", lists_views.recommend_consent, name="recommend_consent"),
    path("prospects/", lists_views.prospects, name="prospects"),
    path("fraud/", lists_views.fraud_list, name="fraud_list"),
    path("fraud/new/", lists_views.fraud_new, name="fraud_new"),
    path("fraud/<int:pk>/", lists_views.fraud_detail, name="fraud_detail"),
    path("fraud/<int:pk>/<slug:action>/", lists_views.fraud_decide, name="fraud_decide"),
]
