from django.urls import path

from xinrong.credit import views

app_name = "credit"

urlpatterns = [
    path("archive/<str:uscc>/", views.archive, name="archive"),
    path("authorisations/", views.authorisations, name="authorisations"),
    path("authorisations/<int:pk>/revoke/", views.authorisation_revoke, name="revoke"),
    path("query-log/", views.query_log, name="query_log"),
]
