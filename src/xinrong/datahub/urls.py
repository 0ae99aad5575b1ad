from django.urls import path

from xinrong.datahub import views

app_name = "datahub"

urlpatterns = [
    path("", views.hub_home, name="home"),
    path("batches/export.xlsx", views.batch_export, name="batches_export"),
    path("batches/<int:pk>/", views.batch_detail, name="batch_detail"),
    path("batches/<int:pk>/errors.xlsx", views.batch_errors, name="batch_errors"),
    path("resolution/", views.resolution_queue, name="resolution"),
    path("quality/", views.quality, name="quality"),
    path("conflicts/", views.conflict_queue, name="conflicts"),
    path("conflicts/export.xlsx", views.conflict_export, name="conflicts_export"),
    path("conflicts/<int:pk>/", views.conflict_detail, name="conflict_detail"),
    path("sources/", views.source_list, name="sources"),
    path("sources/new/", views.source_new, name="source_new"),
    path("sources/<int:pk>/edit/", views.source_edit, name="source_edit"),
    path("templates/<slug:category>.xlsx", views.template_download, name="template"),
]
