from django.urls import path

from xinrong.workflows import views

app_name = "workflows"

urlpatterns = [
    path("processes/", views.process_list, name="process_list"),
    path("processes/<int:pk>/edit/", views.process_edit, name="process_edit"),
    path("versions/<int:pk>/", views.version_edit, name="version_edit"),
    path("versions/<int:pk>/activate/", views.version_activate, name="version_activate"),
]
