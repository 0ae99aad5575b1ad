"""Pages of the 甘霖 grid programme: the field officer's phone form of a visit, the visits
(filtered, paged, exported), one visit and the building of its merchant credit file, the gap
report (by officer, bank, community or week, with the reasons) and the programme's loans."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from xinrong.accounts.auth import request_user
from xinrong.accounts.models import User
from xinrong.accounts.permissions import can, require
from xinrong.common import listing
from xinrong.common.errors import SERVICE_ERRORS, PermissionDeniedError
from xinrong.common.exports import Sheet, xlsx_response
from xinrong.common.forms import add_service_error
from xinrong.insight.forms.grid import (
    AreaForm,
    FileBuildForm,
    VisitForm,
    area_choices,
    default_area,
)
from xinrong.insight.models import GridVisit, RefusalReason, VisitResult
from xinrong.insight.selectors import grid as selectors
from xinrong.insight.services import grid as services

VIEW = "insight.grid_visits_view"


def _status_of(exc: Exception) -> int:
    return int(getattr(exc, "status", 422))


def _area(request: HttpRequest, user: User) -> str:
    wanted = request.GET.get("area", "")
    if wanted and wanted in {c for c, _n in area_choices(user)}:
        return wanted
    return default_area(user)


@login_required
def visit_new(request: HttpRequest) -> HttpResponse:
    """The field officer records one visit on its phone: merchant, place, result, consent."""
    user = request_user(request)
    require(user, "insight.grid_visit_record", message=_("只有网格员可以登记走访"))
    area = _area(request, user)
    area_form = AreaForm(initial={"area": area}, user=user)
    form = VisitForm(request.POST or None, area=area)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                visit = services.grid_visit_record(officer=user, visit_in=form.visit_in())
            except SERVICE_ERRORS as exc:
                if isinstance(exc, PermissionDeniedError):
                    raise
                add_service_error(form, exc)
                status = _status_of(exc)
            else:
                messages.success(request, _("已登记走访：%(name)s") % {"name": visit.merchant_name})
                return redirect("insight:grid_visit_detail", pk=visit.pk)
        else:
            status = 422
    return render(
        request,
        "insight/grid/visit_new.html",
        {"form": form, "area_form": area_form, "area": area},
        status=status,
    )


def _filters(user: User) -> list[listing.Filter]:
    return [
        listing.SearchFilter(
            "q",
            gettext_lazy("商户"),
            ["merchant_name__icontains", "uscc__iexact", "address__icontains"],
            placeholder=gettext_lazy("商户名称、信用代码或地址"),
        ),
        listing.ChoiceFilter("result", gettext_lazy("走访结果"), VisitResult.choices),
        listing.ChoiceFilter(
            "reason", gettext_lazy("未建档原因"), RefusalReason.choices, "refusal_reason"
        ),
        listing.ChoiceFilter(
            "filed",
            gettext_lazy("建档"),
            [("yes", gettext_lazy("已建档")), ("waiting", gettext_lazy("同意待建档"))],
            apply=lambda qs, v: (
                qs.filter(file__isnull=False)
                if v == "yes"
                else qs.filter(consent=True, file__isnull=True)
            ),
        ),
        listing.DateRangeFilter("visited", gettext_lazy("走访日期"), "visited_on", datetime=False),
    ]


@login_required
def visits(request: HttpRequest) -> HttpResponse:
    """The visits the user may see: filtered, paged, exportable to Excel."""
    user = request_user(request)
    require(user, VIEW)
    lst = listing.list_build(
        request,
        selectors.visits_visible(user=user),
        _filters(user),
        noun=_("走访记录"),
        export_url=reverse("insight:grid_visits_export"),
    )
    for v in lst.page.object_list:
        v.community = selectors.community_name(v.division_code)
    return render(
        request,
        "insight/grid/visits.html",
        {
            "listing": lst,
            "page": lst.page,
            "visits": lst.page.object_list,
            "may_record": can(user, "insight.grid_visit_record"),
        },
    )


VISIT_COLUMNS = (
    listing.Column(gettext_lazy("走访日期"), listing.attr("visited_on"), 12),
    listing.Column(gettext_lazy("网格员"), lambda v: str(v.officer), 12),
    listing.Column(gettext_lazy("所属单位"), listing.attr("organisation.name"), 24),
    listing.Column(gettext_lazy("商户名称"), listing.attr("merchant_name"), 24),
    listing.Column(gettext_lazy("统一社会信用代码"), listing.attr("uscc"), 20),
    listing.Column(
        gettext_lazy("社区/村"), lambda v: selectors.community_name(v.division_code), 36
    ),
    listing.Column(gettext_lazy("详细地址"), listing.attr("address"), 28),
    listing.Column(gettext_lazy("走访结果"), listing.display("result"), 12),
    listing.Column(gettext_lazy("同意建档"), lambda v: _("同意") if v.consent else _("否"), 10),
    listing.Column(gettext_lazy("同意时间"), listing.attr("consent_at"), 18),
    listing.Column(
        gettext_lazy("未建档原因"),
        lambda v: v.get_refusal_reason_display() if v.refusal_reason else "",
        12,
    ),
    listing.Column(gettext_lazy("原因说明"), listing.attr("refusal_note"), 20),
    listing.Column(
        gettext_lazy("建档时间"),
        lambda v: v.file.built_at if hasattr(v, "file") else None,
        18,
    ),
)


@login_required
def visits_export(request: HttpRequest) -> HttpResponseBase:
    """The same visits as the list (scope and filters) as Excel."""
    user = request_user(request)
    require(user, VIEW)
    qs = selectors.visits_visible(user=user)
    rows = listing.list_filter(request, qs, _filters(user)).apply(qs)
    return listing.xlsx_export(
        listing.query_rows(rows),
        VISIT_COLUMNS,
        title=_("网格走访"),
        filename=_("网格走访记录"),
        fallback="grid-visits",
    )


@login_required
def visit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One visit, its merchant credit file (or the form to build it)."""
    user = request_user(request)
    require(user, VIEW)
    visit = selectors.visit_get(user=user, pk=pk)
    require(user, VIEW, visit)
    may_build = can(user, "insight.grid_file_build", visit)
    return render(
        request,
        "insight/grid/visit_detail.html",
        _detail_context(user, visit, FileBuildForm(initial={"uscc": visit.uscc}), may_build),
    )


def _detail_context(user: User, visit: GridVisit, form: FileBuildForm, may_build: bool) -> Any:
    file = getattr(visit, "file", None)
    return {
        "visit": visit,
        "file": file,
        "community": selectors.community_name(visit.division_code),
        "form": form,
        "may_build": may_build,
        "may_see_entity": file is not None and can(user, "enterprises.registry_search"),
    }


@login_required
@require_POST
def file_build(request: HttpRequest, pk: int) -> HttpResponse:
    """Build the merchant's credit file from a consenting visit."""
    user = request_user(request)
    require(user, VIEW)
    visit = selectors.visit_get(user=user, pk=pk)
    require(
        user,
        "insight.grid_file_build",
        visit,
        message=_("只有登记这次走访的网格员可以为已同意且未建档的商户建档"),
    )
    form = FileBuildForm(request.POST)
    status = 422
    if form.is_valid():
        try:
            services.merchant_file_build(
                officer=user, visit=visit, uscc=form.cleaned_data.get("uscc", "")
            )
        except SERVICE_ERRORS as exc:
            if isinstance(exc, PermissionDeniedError):
                raise
            add_service_error(form, exc)
            status = _status_of(exc)
        else:
            messages.success(request, _("已为商户建立信用档案"))
            return redirect("insight:grid_visit_detail", pk=visit.pk)
    visit = selectors.visit_get(user=user, pk=pk)
    return render(
        request,
        "insight/grid/visit_detail.html",
        _detail_context(user, visit, form, True),
        status=status,
    )


def _report_params(request: HttpRequest) -> tuple[str, dt.date | None, dt.date | None, list[str]]:
    by = request.GET.get("by", selectors.BY_OFFICER)
    if by not in selectors.GROUPINGS:
        by = selectors.BY_OFFICER
    errors: list[str] = []
    dates: list[dt.date | None] = []
    for name, label in (("since", _("开始日期")), ("until", _("截止日期"))):
        raw = request.GET.get(name, "").strip()
        try:
            dates.append(dt.date.fromisoformat(raw) if raw else None)
        except ValueError:
            errors.append(
                _("%(label)s“%(raw)s”不是日期（如 2026-01-31），未生效")
                % {"label": label, "raw": raw}
            )
            dates.append(None)
    return by, dates[0], dates[1], errors


@login_required
def report(request: HttpRequest) -> HttpResponse:
    """The gap between visits and files built, by officer, bank, community or week."""
    user = request_user(request)
    require(user, "insight.grid_report_view")
    by, since, until, errors = _report_params(request)
    rows, total = selectors.gap_report(user=user, by=by, since=since, until=until)
    loans = (
        selectors.programme_loan_totals(user=user) if can(user, "insight.grid_loans_view") else None
    )
    return render(
        request,
        "insight/grid/report.html",
        {
            "by": by,
            "groupings": [(g, selectors.grouping_label(g)) for g in selectors.GROUPINGS],
            "by_label": selectors.grouping_label(by),
            "since": since,
            "until": until,
            "errors": errors,
            "rows": rows,
            "total": total,
            "reasons": selectors.reason_columns(),
            "loans": loans,
        },
    )


@login_required
def report_export(request: HttpRequest) -> HttpResponseBase:
    """The gap report as shown (grouping and period) as Excel."""
    user = request_user(request)
    require(user, "insight.grid_report_view")
    by, since, until, _errors = _report_params(request)
    rows, total = selectors.gap_report(user=user, by=by, since=since, until=until)
    reasons = selectors.reason_columns()
    header = [
        selectors.grouping_label(by).removeprefix("按"),
        _("走访户数"),
        _("有建档意向"),
        _("同意建档"),
        _("已建档"),
        _("未建档"),
        _("同意待建档"),
        _("建档率"),
        *[name for _code, name in reasons],
    ]

    def line(r: selectors.GapRow) -> list[Any]:
        return [
            r.label,
            r.visits,
            r.intents,
            r.consents,
            r.files,
            r.gap,
            r.waiting,
            r.file_rate,
            *[r.reasons.get(code, 0) for code, _n in reasons],
        ]

    sheet = Sheet(
        title=str(_("走访建档缺口")),
        header=[str(h) for h in header],
        rows=[line(r) for r in [*rows, total]],
        widths=[36, *[12] * (len(header) - 1)],
        freeze_header=True,
    )
    return xlsx_response([sheet], filename=f"{_('走访建档缺口')}.xlsx", fallback="grid-gap.xlsx")


@login_required
def loans(request: HttpRequest) -> HttpResponse:
    """Loans issued under the programme: to merchants filed from a visit, after the visit."""
    user = request_user(request)
    require(user, "insight.grid_loans_view")
    lst = listing.list_build(
        request,
        selectors.programme_loans(user=user),
        [
            listing.SearchFilter(
                "q",
                gettext_lazy("借款主体"),
                ["entity__name__icontains", "entity__uscc__iexact"],
                placeholder=gettext_lazy("名称或信用代码"),
            ),
            listing.DateRangeFilter(
                "disbursed", gettext_lazy("放款日期"), "disbursed_on", datetime=False
            ),
        ],
        noun=_("甘霖工程贷款"),
        sums={"principal": _("放款金额")},
        export_url=reverse("insight:grid_loans_export"),
    )
    return render(
        request,
        "insight/grid/loans.html",
        {"listing": lst, "page": lst.page, "loans": lst.page.object_list},
    )


LOAN_COLUMNS = (
    listing.Column(gettext_lazy("放款日期"), listing.attr("disbursed_on"), 12),
    listing.Column(gettext_lazy("借款主体"), listing.attr("entity.name"), 28),
    listing.Column(gettext_lazy("统一社会信用代码"), listing.attr("entity.uscc"), 20),
    listing.Column(gettext_lazy("放款机构"), listing.attr("institution.name"), 24),
    listing.Column(gettext_lazy("贷款编号"), listing.attr("number"), 18),
    listing.Column(gettext_lazy("放款金额（元）"), listing.attr("principal"), 16),
    listing.Column(gettext_lazy("期限（月）"), listing.attr("term_months"), 10),
    listing.Column(gettext_lazy("贷款状态"), listing.display("status"), 10),
)


@login_required
def loans_export(request: HttpRequest) -> HttpResponseBase:
    """The programme's loans (scope and filters as the list) as Excel."""
    user = request_user(request)
    require(user, "insight.grid_loans_view")
    qs = selectors.programme_loans(user=user)
    rows = listing.list_filter(
        request,
        qs,
        [
            listing.SearchFilter("q", "", ["entity__name__icontains", "entity__uscc__iexact"]),
            listing.DateRangeFilter("disbursed", "", "disbursed_on", datetime=False),
        ],
    ).apply(qs)
    return listing.xlsx_export(
        listing.query_rows(rows),
        LOAN_COLUMNS,
        title=_("甘霖工程贷款"),
        filename=_("甘霖工程贷款"),
        fallback="grid-loans",
    )


urlpatterns = [
    path("grid/visits/new/", visit_new, name="grid_visit_new"),
    path("grid/visits/", visits, name="grid_visits"),
    path("grid/visits/export/", visits_export, name="grid_visits_export"),
    path("grid/visits/<int:pk>/", visit_detail, name="grid_visit_detail"),
    path("grid/visits/<int:pk>/file/", file_build, name="grid_file_build"),
    path("grid/report/", report, name="grid_report"),
    path("grid/report/export/", report_export, name="grid_report_export"),
    path("grid/loans/", loans, name="grid_loans"),
    path("grid/loans/export/", loans_export, name="grid_loans_export"),
]
