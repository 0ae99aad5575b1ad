"""Addresses of 统计与洞察: statistics, heat maps and the 甘霖 grid programme."""

from django.urls import URLPattern, URLResolver

from xinrong.insight.views import grid as grid_views
from xinrong.insight.views import heatmap
from xinrong.insight.views import statistics as statistics_views

app_name = "insight"

urlpatterns: list[URLPattern | URLResolver] = []

# heat maps
urlpatterns += heatmap.urlpatterns
# grid
urlpatterns += grid_views.urlpatterns
# statistics
urlpatterns += statistics_views.urlpatterns
