"""Addresses of 统计与洞察: statistics, heat maps and the 甘霖 grid programme."""

from typing import Any

from django.urls import path  # noqa: F401

from xinrong.insight.views import statistics as statistics_views

app_name = "insight"

urlpatterns: list[Any] = []

# statistics
urlpatterns += statistics_views.urlpatterns
