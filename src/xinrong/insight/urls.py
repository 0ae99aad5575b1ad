"""Addresses of 统计与洞察: statistics, heat maps and the 甘霖 grid programme."""

from django.urls import URLPattern, URLResolver, path  # noqa: F401

from xinrong.insight.views import heatmap

app_name = "insight"

urlpatterns: list[URLPattern | URLResolver] = []

# heat maps
urlpatterns += heatmap.urlpatterns
