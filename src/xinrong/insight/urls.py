"""Addresses of 统计与洞察: statistics, heat maps and the 甘霖 grid programme."""

from django.urls import URLPattern, URLResolver, path  # noqa: F401

app_name = "insight"

urlpatterns: list[URLPattern | URLResolver] = []

# grid
from xinrong.insight.views import grid as grid_views  # noqa: E402

urlpatterns += grid_views.urlpatterns
