"""Pages of 统计分析: the dashboard by dimension, the regulator's per-institution view, exports."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from xinrong.accounts.auth import request_user
from xinrong.accounts.choices import INSTITUTION_KINDS
from xinrong.accounts.models import Organisation
from xinrong.accounts.permissions import can, region_prefix_for, require
from xinrong.common.exports import Sheet, xlsx_response
from xinrong.common.forms import DateInput
from xinrong.common.replica import reads_from_replica
from xinrong.insight.selectors import statistics as st
from xinrong.marketplace.models import LoanApplication
from xinrong.reference import divisions

DIMENSION_LABELS = {
    "region": gettext_lazy("按地区"),
    "institution": gettext_lazy("按金融机构"),
    "product": gettext_lazy("按产品"),
    "industry": gettext_lazy("按行业"),
    "month": gettext_lazy("按月份"),
}
FIRST_COLUMN = {
    "region": gettext_lazy("地区"),
    "institution": gettext_lazy("金融机构"),
    "product": gettext_lazy("产品"),
    "industry": gettext_lazy("行业门类"),
    "month": gettext_lazy("月份"),
}


def _own_region(user: Any) -> str:
    """The reader's own region code ("" without a region limit)."""
    if region_prefix_for(user) is None:
        return ""
    return str(user.organisation.region_code)


def _region_choices(user: Any) -> list[tuple[str, str]]:
    prefix = region_prefix_for(user) or ""
    out = [(c, n) for c, n in divisions.region_choices() if c.startswith(prefix) or not prefix]
    own = _own_region(user)
    if own and own not in dict(out):
        out.insert(0, (own, divisions.full_name(own) or own))
    return out


class StatsFilterForm(forms.Form):
    """Period, region and (optionally) one institution."""

    date_from = forms.DateField(label=gettext_lazy("起始日期"), required=False, widget=DateInput())
    date_to = forms.DateField(label=gettext_lazy("截止日期"), required=False, widget=DateInput())
    region = forms.ChoiceField(label=gettext_lazy("地区"), required=False)
    institution = forms.TypedChoiceField(
        label=gettext_lazy("金融机构"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        regions = _region_choices(user)
        region_field = self.fields["region"]
        institution_field = self.fields["institution"]
        assert isinstance(region_field, forms.ChoiceField)
        assert isinstance(institution_field, forms.ChoiceField)
        region_field.choices = regions
        institution_field.choices = [
            ("", _("全部金融机构")),
            *[(str(pk), name) for pk, name in st.institution_choices()],
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        a, b = data.get("date_from"), data.get("date_to")
        if a and b and a > b:
            raise forms.ValidationError(_("起始日期不能晚于截止日期"))
        return data


def _filters(request: HttpRequest, user: Any) -> tuple[StatsFilterForm, st.Filters]:
    today = timezone.localdate()
    default_from = dt.date(today.year, 1, 1)
    form = StatsFilterForm(request.GET or None, user=user)
    region = _own_region(user) or divisions.PLATFORM_ROOT
    f = st.Filters(date_from=default_from, date_to=today, region=region)
    if form.is_bound and form.is_valid():
        d = form.cleaned_data
        f = st.Filters(
            date_from=d.get("date_from") or default_from,
            date_to=d.get("date_to") or today,
            region=d.get("region") or region,
            institution_id=d.get("institution"),
        )
    return form, f


def _dimension(request: HttpRequest) -> str:
    dim = request.GET.get("dim", "region")
    return dim if dim in st.DIMENSIONS else "region"


def _query_without(request: HttpRequest, *names: str) -> str:
    """The page's query string without ``names``, ending in "&" when anything is left."""
    q = request.GET.copy()
    for name in names:
        q.pop(name, None)
    text = q.urlencode()
    return f"{text}&" if text else ""


def _chart(table: st.Table) -> dict[str, Any]:
    return {
        "labels": [r.label for r in table.rows],
        "amounts": [float(r.amount) for r in table.rows],
        "loans": [r.loans for r in table.rows],
        "amount_name": _("放款金额（元）"),
        "loans_name": _("放款笔数"),
    }


@require_GET
@login_required
@reads_from_replica
def statistics_home(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    require(user, "insight.statistics_view")
    form, f = _filters(request, user)
    dim = _dimension(request)
    table = st.table(user, f, dim)
    return render(
        request,
        "insight/statistics/home.html",
        {
            "form": form,
            "filters": f,
            "dim": dim,
            "dimensions": list(DIMENSION_LABELS.items()),
            "first_column": FIRST_COLUMN[dim],
            "table": table,
            "overview": st.overview(user, f),
            "chart": _chart(table),
            "query": request.GET.urlencode(),
            "base_query": _query_without(request, "dim"),
            "drill_query": _query_without(request, "region"),
            "may_institution": can(user, "insight.statistics_institution_view"),
            "refreshed_at": st.summary_refreshed_at(),
        },
    )


@require_GET
@login_required
@reads_from_replica
def institution_statistics(request: HttpRequest, pk: int) -> HttpResponse:
    """The regulator's view of one institution: its figures by month, product and region."""
    user = request_user(request)
    require(user, "insight.statistics_institution_view")
    org = Organisation.objects.filter(pk=pk, kind__in=INSTITUTION_KINDS).first()
    if org is None:
        raise Http404
    prefix = region_prefix_for(user)
    if prefix is not None and not (
        LoanApplication.objects.filter(
            institution=org, entity__division_code__startswith=prefix
        ).exists()
    ):
        raise Http404  # a regional reader sees only institutions lending in its region
    form, f = _filters(request, user)
    f = st.Filters(f.date_from, f.date_to, f.region, institution_id=org.pk)
    tables = [
        (key, DIMENSION_LABELS[key], FIRST_COLUMN[key], st.table(user, f, key))
        for key in ("month", "product", "region")
    ]
    return render(
        request,
        "insight/statistics/institution.html",
        {
            "org": org,
            "form": form,
            "filters": f,
            "tables": tables,
            "overview": st.overview(user, f),
            "total": tables[0][3].total,
            "refreshed_at": st.summary_refreshed_at(),
            "query": request.GET.urlencode(),
            "drill_query": _query_without(request, "region"),
        },
    )


HEADER = [
    gettext_lazy("入驻企业"),
    gettext_lazy("融资需求"),
    gettext_lazy("已响应需求"),
    gettext_lazy("响应率（%）"),
    gettext_lazy("平均响应天数"),
    gettext_lazy("贷款申请"),
    gettext_lazy("获批"),
    gettext_lazy("获批率（%）"),
    gettext_lazy("平均审批天数"),
    gettext_lazy("放款笔数"),
    gettext_lazy("放款金额（元）"),
    gettext_lazy("加权平均年利率（%）"),
    gettext_lazy("首贷笔数"),
    gettext_lazy("续贷笔数"),
    gettext_lazy("逾期笔数"),
    gettext_lazy("逾期余额（元）"),
    gettext_lazy("不良笔数"),
    gettext_lazy("不良余额（元）"),
    gettext_lazy("不良笔数占比（%）"),
]


def _num(value: Any) -> Any:
    return None if value is None else float(value)


def row_cells(r: st.Row) -> list[Any]:
    """One table row as spreadsheet cells (numbers stay numbers)."""
    return [
        r.label,
        r.registrations,
        r.demands,
        r.demands_answered,
        _num(r.answered_share),
        _num(r.days_to_answer),
        r.applications,
        r.approvals,
        _num(r.approval_share),
        _num(r.days_to_approve),
        r.loans,
        r.amount,
        _num(r.average_rate),
        r.first_loans,
        r.renewals,
        r.overdue,
        r.overdue_balance,
        r.npl,
        r.npl_balance,
        _num(r.npl_ratio),
    ]


@require_GET
@login_required
def statistics_export(request: HttpRequest) -> HttpResponseBase:
    """Every dimension's table, one sheet each, for the same filters as the page."""
    user = request_user(request)
    require(user, "insight.statistics_view")
    _form, f = _filters(request, user)
    if f.institution_id is not None and not can(user, "insight.statistics_institution_view"):
        f = st.Filters(f.date_from, f.date_to, f.region)
    sheets = []
    for key, title in DIMENSION_LABELS.items():
        t = st.table(user, f, key)
        sheets.append(
            Sheet(
                title=str(title),
                header=[str(FIRST_COLUMN[key]), *[str(h) for h in HEADER]],
                rows=[row_cells(r) for r in [*t.rows, t.total]],
                widths=[24, *([12] * len(HEADER))],
                freeze_header=True,
            )
        )
    stamp = f"{f.date_from:%Y%m%d}-{f.date_to:%Y%m%d}"
    return xlsx_response(
        sheets, filename=f"{_('融资统计')}-{stamp}.xlsx", fallback=f"statistics-{stamp}.xlsx"
    )


urlpatterns: list[Any] = [
    path("statistics/", statistics_home, name="statistics"),
    path("statistics/export/", statistics_export, name="statistics_export"),
    path(
        "statistics/institutions/<int:pk>/",
        institution_statistics,
        name="statistics_institution",
    ),
]
