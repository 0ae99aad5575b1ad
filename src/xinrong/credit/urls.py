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
]
