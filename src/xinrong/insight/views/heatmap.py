"""Pages of the credit heat map: the map and ranked tables, their Excel export, and the import
of 信用创评 records (with its template)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xinrong.accounts.auth import request_user
from xinrong.accounts.permissions import can, region_prefix_for, require
from xinrong.common.errors import SERVICE_ERRORS, error_payload
from xinrong.common.exports import Sheet, xlsx_response
from xinrong.insight.selectors import heatmap as selectors
from xinrong.insight.services import campaigns as services
from xinrong.reference import divisions


def _params(request: HttpRequest) -> tuple[str, int | None]:
    metric = request.GET.get("metric", "")
    if metric not in selectors.METRICS:
        metric = selectors.DEFAULT_METRIC
    year_text = request.GET.get("year", "")
    year = int(year_text) if year_text.isdigit() and len(year_text) == 4 else None
    return metric, year


def _trail(user: Any, level: divisions.Division) -> list[divisions.Division]:
    """The levels above ``level`` the user may open (from its region or the province)."""
    region = region_prefix_for(user)
    trail = [*divisions.ancestors(level.code), level]
    return [d for d in trail if region is None or d.code.startswith(region)]


def _link(code: str, metric: str, year: int | None) -> str:
    query = f"?region={code}&metric={metric}"
    return reverse("insight:heatmap") + query + (f"&year={year}" if year else "")


@login_required
def heatmap(request: HttpRequest) -> HttpResponse:
    """The map (province → prefectures, prefecture → counties) or, below, the ranked tables of
    townships and villages; a metric switch; figures from one grouped query."""
    user = request_user(request)
    require(user, "insight.heatmap_view")
    metric, year = _params(request)
    level = selectors.level_for(user, request.GET.get("region"))
    if metric == "campaigns" and year is None:
        year = selectors.campaign_year()
    result = selectors.ranking(user, metric, level, year=year)
    on_map = level.level in selectors.MAP_LEVELS
    primary = result.metric.primary
    chart = {
        "geo": static(f"insight/geo/{level.code}.json") if on_map else "",
        "name": level.name,
        "label": str(primary.label),
        "decimals": primary.decimals,
        "rows": [
            {"code": r.code, "name": r.name, "value": r.values[primary.key]} for r in result.rows
        ],
        "link": _link("CODE", metric, year),
        # the chart's own words (the script has no catalogue of its own)
        "words": {"none": _("暂无"), "high": _("高"), "low": _("低")},
    }
    metrics = [
        {
            "key": m.key,
            "label": m.label,
            "url": _link(level.code, m.key, year),
            "on": m.key == metric,
        }
        for m in selectors.METRICS.values()
    ]
    child_noun = {
        divisions.LEVEL_PROVINCE: _("市州"),
        divisions.LEVEL_PREFECTURE: _("区县"),
        divisions.LEVEL_COUNTY: _("乡镇（街道）"),
        divisions.LEVEL_TOWNSHIP: _("村（社区）"),
    }[level.level]
    rows: list[dict[str, Any]] = [
        {
            "rank": r.rank,
            "code": r.code,
            "name": r.name,
            "cells": [(c, r.values[c.key]) for c in result.metric.columns],
            "url": _link(r.code, metric, year) if r.drillable else "",
        }
        for r in result.rows
    ]
    return render(
        request,
        "insight/heatmap/map.html",
        {
            "level": level,
            "trail": [(d, _link(d.code, metric, year)) for d in _trail(user, level)],
            "metric": result.metric,
            "metrics": metrics,
            "rows": rows,
            "totals": [(c, result.totals.get(c.key)) for c in result.metric.columns],
            "has_figures": any(any(v for _c, v in row["cells"]) for row in rows),
            "child_noun": child_noun,
            "on_map": on_map,
            "chart": chart,
            "year": year,
            "years": selectors.campaign_years() if metric == "campaigns" else [],
            "export_url": reverse("insight:heatmap_export")
            + f"?region={level.code}&metric={metric}"
            + (f"&year={year}" if year else ""),
            "may_import": can(user, "insight.campaign_import"),
        },
    )


@login_required
def heatmap_export(request: HttpRequest) -> FileResponse:
    """The ranked table of the page, as Excel."""
    user = request_user(request)
    require(user, "insight.heatmap_view")
    metric, year = _params(request)
    level = selectors.level_for(user, request.GET.get("region"))
    if metric == "campaigns" and year is None:
        year = selectors.campaign_year()
    result = selectors.ranking(user, metric, level, year=year)
    header = [_("排名"), _("区划代码"), _("名称"), *[str(c.label) for c in result.metric.columns]]
    body = [
        [r.rank, r.code, r.name, *[r.values[c.key] for c in result.metric.columns]]
        for r in result.rows
    ]
    title = f"{level.name}·{result.metric.label}"
    return xlsx_response(
        [Sheet(title=str(result.metric.label), header=header, rows=body, freeze_header=True)],
        filename=f"{title}.xlsx",
        fallback="heatmap.xlsx",
    )


class CampaignUploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("文件（.xlsx）"))


@login_required
def campaign_import(request: HttpRequest) -> HttpResponse:
    """Upload a filled template; every row is checked and nothing is written if one is wrong."""
    user = request_user(request)
    require(user, "insight.campaign_import")
    form = CampaignUploadForm(request.POST or None, request.FILES or None)
    errors: list[str] = []
    status = 200
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = services.import_campaigns(user=user, fileobj=upload.file, filename=upload.name)
        except SERVICE_ERRORS as exc:
            status, body = error_payload(exc)
            errors = list(body["extra"].get("errors") or [body["message"]])
        else:
            messages.success(
                request,
                _("已导入信用创评记录：新增 %(c)s 条，更新 %(u)s 条。")
                % {"c": result.created, "u": result.updated},
            )
            return redirect(reverse("insight:heatmap") + "?metric=campaigns")
    elif request.method == "POST":
        status = 422
    return render(
        request,
        "insight/heatmap/import.html",
        {"form": form, "errors": errors, "headers": services.HEADERS},
        status=status,
    )


@login_required
def campaign_template(request: HttpRequest) -> FileResponse:
    """The Excel template of the import, with example rows."""
    user = request_user(request)
    require(user, "insight.campaign_import")
    return xlsx_response(
        [
            Sheet(
                title=_("信用创评"),
                header=list(services.HEADERS),
                rows=services.template_rows(),
                widths=(18, 8, 14, 14, 14),
            )
        ],
        filename=_("信用创评导入模板.xlsx"),
        fallback="campaign-template.xlsx",
    )


urlpatterns = [
    path("heatmap/", heatmap, name="heatmap"),
    path("heatmap/export/", heatmap_export, name="heatmap_export"),
    path("campaigns/import/", campaign_import, name="campaign_import"),
    path("campaigns/template/", campaign_template, name="campaign_template"),
]
