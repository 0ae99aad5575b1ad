"""Addresses of 融资评价: mutual ratings, appeals and league tables."""

from django.urls import path  # noqa: F401

app_name = "evaluations"

urlpatterns: list = []
