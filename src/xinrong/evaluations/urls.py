"""Addresses of 融资评价: mutual ratings, appeals and league tables."""

from django.urls import path

from xinrong.evaluations.views import ratings as views

app_name = "evaluations"

urlpatterns = [
    path("pending/", views.pending, name="pending"),
    path("loans/<int:loan_id>/rate/<str:stage>/", views.rate, name="rate"),
    path("ratings/", views.rating_list, name="ratings"),
    path("ratings/export/", views.rating_export, name="ratings_export"),
    path("ratings/<int:pk>/", views.rating_detail, name="rating_detail"),
    path("ratings/<int:rating_id>/appeal/", views.appeal_new, name="appeal_new"),
    path("league/", views.league, name="league"),
    path("league/export/", views.league_export, name="league_export"),
    path("appeals/", views.appeal_list, name="appeals"),
    path("appeals/export/", views.appeal_export, name="appeals_export"),
    path("appeals/<int:pk>/", views.appeal_detail, name="appeal_detail"),
]
