"""Pages of the white and black lists: the operator's list management, fraud reports, the
enterprise's own status (with 同意推荐给金融机构), and the institution's prospects."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from xinrong.accounts.auth import request_user
from xinrong.accounts.models import User
from xinrong.accounts.permissions import can, require
from xinrong.common import listing
from xinrong.common.errors import SERVICE_ERRORS, PermissionDeniedError
from xinrong.common.forms import add_service_error
from xinrong.credit.models import (
    BlacklistEntry,
    BlacklistSource,
    FraudReport,
    FraudStatus,
    WhitelistEntry,
)
from xinrong.credit.selectors import lists as selectors
from xinrong.credit.services import lists as services
from xinrong.credit.views.archive import own_entity
from xinrong.credit.workflows_fraud import EVENT_LABELS, FRAUD

BLACK, WHITE = "black", "white"
STATE_CHOICES = (("active", gettext_lazy("在名单中")), ("cleared", gettext_lazy("已移出")))


def _state(qs: QuerySet[Any], value: str) -> QuerySet[Any]:
    return qs.filter(cleared_at__isnull=value == "active")


def _filters(tab: str) -> list[listing.Filter]:
    out: list[listing.Filter] = [
        listing.SearchFilter(
            "q",
            gettext_lazy("关键词"),
            ["entity__name__icontains", "entity__uscc__iexact"],
            placeholder=gettext_lazy("企业名称或信用代码"),
        ),
        listing.ChoiceFilter("state", gettext_lazy("状态"), STATE_CHOICES, apply=_state),
    ]
    if tab == BLACK:
        out.append(
            listing.ChoiceFilter("source", gettext_lazy("列入来源"), BlacklistSource.choices)
        )
    out.append(listing.DateRangeFilter("listed", gettext_lazy("列入日期"), "listed_at"))
    return out


def _tab(request: HttpRequest) -> str:
    return WHITE if request.GET.get("tab") == WHITE else BLACK


def _entries(user: User, tab: str) -> QuerySet[Any]:
    if tab == WHITE:
        return selectors.whitelist_entries(user=user)
    return selectors.blacklist_entries(user=user)


class CriteriaForm(forms.Form):
    min_grade = forms.ChoiceField(
        label=gettext_lazy("最低信用等级"), choices=[(g, g) for g in services.GRADES]
    )
    min_loans_repaid = forms.IntegerField(
        label=gettext_lazy("最少已结清平台贷款笔数"),
        min_value=0,
        max_value=100,
        help_text=gettext_lazy("0 表示不要求"),
    )


@login_required
def list_manage(request: HttpRequest) -> HttpResponse:
    """The operator's black and white lists: filters, history (cleared entries), export."""
    user = request_user(request)
    tab = _tab(request)
    qs = _entries(user, tab)
    lst = listing.list_build(
        request,
        qs,
        _filters(tab),
        noun=gettext_lazy("白名单记录") if tab == WHITE else gettext_lazy("黑名单记录"),
        per_page=30,
        keep=("tab",),
        export_url=_url("credit:lists_export"),
    )
    criteria = selectors.criteria_current()
    form = None
    if can(user, "credit.whitelist_criteria_change"):
        initial = (
            {"min_grade": criteria.min_grade, "min_loans_repaid": criteria.min_loans_repaid}
            if criteria
            else {"min_grade": "A", "min_loans_repaid": 0}
        )
        form = CriteriaForm(initial=initial)
    counts = {
        "black": BlacklistEntry.objects.restrict(user).filter(cleared_at__isnull=True).count(),
        "white": WhitelistEntry.objects.restrict(user).filter(cleared_at__isnull=True).count(),
    }
    return render(
        request,
        "credit/lists/manage.html",
        {
            "listing": lst,
            "page": lst.page,
            "tab": tab,
            "criteria": criteria,
            "criteria_form": form,
            "counts": counts,
            "can_sweep": can(user, "credit.lists_sweep"),
        },
    )


BLACK_COLUMNS = [
    listing.Column(gettext_lazy("企业名称"), listing.attr("entity.name"), 30),
    listing.Column(gettext_lazy("统一社会信用代码"), listing.attr("entity.uscc"), 22),
    listing.Column(gettext_lazy("所在地区代码"), listing.attr("entity.division_code")),
    listing.Column(gettext_lazy("列入来源"), listing.display("source"), 24),
    listing.Column(gettext_lazy("列入原因"), listing.attr("reason"), 40),
    listing.Column(gettext_lazy("列入时间"), listing.attr("listed_at"), 18),
    listing.Column(gettext_lazy("移出时间"), listing.attr("cleared_at"), 18),
    listing.Column(gettext_lazy("移出原因"), listing.attr("cleared_reason"), 30),
]
WHITE_COLUMNS = [
    listing.Column(gettext_lazy("企业名称"), listing.attr("entity.name"), 30),
    listing.Column(gettext_lazy("统一社会信用代码"), listing.attr("entity.uscc"), 22),
    listing.Column(gettext_lazy("所在地区代码"), listing.attr("entity.division_code")),
    listing.Column(gettext_lazy("列入时信用等级"), listing.attr("grade")),
    listing.Column(gettext_lazy("列入时间"), listing.attr("listed_at"), 18),
    listing.Column(gettext_lazy("移出时间"), listing.attr("cleared_at"), 18),
    listing.Column(gettext_lazy("移出原因"), listing.attr("cleared_reason"), 30),
]


@login_required
def list_export(request: HttpRequest) -> HttpResponseBase:
    """The list as Excel: the same entries and filters as the page."""
    user = request_user(request)
    tab = _tab(request)
    qs = _entries(user, tab)
    qs = listing.list_filter(request, qs, _filters(tab)).apply(qs)
    white = tab == WHITE
    return listing.xlsx_export(
        listing.query_rows(qs),
        WHITE_COLUMNS if white else BLACK_COLUMNS,
        title=_("白名单") if white else _("黑名单"),
        filename=_("白名单") if white else _("黑名单"),
        fallback="whitelist" if white else "blacklist",
    )


@login_required
@require_POST
def criteria_set(request: HttpRequest) -> HttpResponse:
    """The central operator sets the white-list criteria; the list is recomputed at once."""
    user = request_user(request)
    require(user, "credit.whitelist_criteria_change")
    form = CriteriaForm(request.POST)
    if form.is_valid():
        try:
            services.whitelist_criteria_set(
                actor=user,
                min_grade=form.cleaned_data["min_grade"],
                min_loans_repaid=form.cleaned_data["min_loans_repaid"],
            )
        except SERVICE_ERRORS as exc:
            if isinstance(exc, PermissionDeniedError):
                raise
            add_service_error(form, exc)
        else:
            messages.success(request, _("白名单条件已保存，白名单已按新条件重新计算"))
            return redirect(f"{_url('credit:lists')}?tab=white")
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}：{error}" if label else str(error))
    return redirect(f"{_url('credit:lists')}?tab=white")


def _url(name: str) -> str:
    from django.urls import reverse

    return reverse(name)


@login_required
@require_POST
def list_sweep(request: HttpRequest) -> HttpResponse:
    """Recompute both lists now (the same sweep the background task runs)."""
    user = request_user(request)
    require(user, "credit.lists_sweep")
    r = services.lists_sweep()
    messages.success(
        request,
        _(
            "已重新计算：黑名单新列入 %(bl)s 个、移出 %(bc)s 个；"
            "白名单新列入 %(wl)s 个、移出 %(wc)s 个"
        )
        % {
            "bl": r["black_listed"],
            "bc": r["black_cleared"],
            "wl": r["white_listed"],
            "wc": r["white_cleared"],
        },
    )
    return redirect("credit:lists")


# ---------------------------------------------------------------- fraud reports


class FraudForm(forms.Form):
    uscc = forms.CharField(label=gettext_lazy("被举报企业的统一社会信用代码"), max_length=18)
    description = forms.CharField(
        label=gettext_lazy("欺诈情况"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=2000,
        help_text=gettext_lazy("写明时间、经过、涉及的贷款或申请，以及掌握的证据"),
    )


class DecisionForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("认定意见"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )


@login_required
def fraud_list(request: HttpRequest) -> HttpResponse:
    """The institution's own fraud reports, or the operator's queue."""
    user = request_user(request)
    qs = selectors.fraud_reports(user=user)
    filters: list[listing.Filter] = [
        listing.SearchFilter(
            "q",
            gettext_lazy("关键词"),
            ["entity__name__icontains", "entity__uscc__iexact"],
            placeholder=gettext_lazy("企业名称或信用代码"),
        ),
        listing.ChoiceFilter("status", gettext_lazy("状态"), FraudStatus.choices),
    ]
    lst = listing.list_build(request, qs, filters, noun=gettext_lazy("欺诈举报"), per_page=30)
    return render(
        request,
        "credit/lists/fraud_list.html",
        {"listing": lst, "page": lst.page, "can_report": can(user, "credit.fraud_report")},
    )


@login_required
def fraud_new(request: HttpRequest) -> HttpResponse:
    """An institution reports an entity's fraud to the operator."""
    user = request_user(request)
    require(user, "credit.fraud_report")
    form = FraudForm(request.POST or None, initial={"uscc": request.GET.get("uscc", "")[:18]})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                report = services.fraud_report_file(
                    actor=user,
                    uscc=form.cleaned_data["uscc"],
                    description=form.cleaned_data["description"],
                )
            except SERVICE_ERRORS as exc:
                if isinstance(exc, PermissionDeniedError):
                    raise
                add_service_error(form, exc)
            else:
                messages.success(request, _("举报已提交，平台运营方核实后会通知您"))
                return redirect("credit:fraud_detail", pk=report.pk)
        status = 422
    return render(request, "credit/lists/fraud_new.html", {"form": form}, status=status)


def _report(user: User, pk: int) -> FraudReport:
    report = selectors.fraud_reports(user=user).filter(pk=pk).first()
    if report is None:
        raise Http404
    return report


def _fraud_detail(
    request: HttpRequest, report: FraudReport, user: User, form: Any = None, status: int = 200
) -> HttpResponse:
    events = list(report.events.select_related("actor"))
    for e in events:
        e.label = EVENT_LABELS.get(e.kind, e.kind)  # type: ignore[attr-defined]
    decide = FRAUD.may(user, report, "confirm")
    return render(
        request,
        "credit/lists/fraud_detail.html",
        {
            "report": report,
            "events": events,
            "form": form or (DecisionForm() if decide else None),
        },
        status=status,
    )


@login_required
def fraud_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One fraud report: what was reported, its timeline and (for the operator) the decision."""
    user = request_user(request)
    return _fraud_detail(request, _report(user, pk), user)


@login_required
@require_POST
def fraud_decide(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """The operator confirms (the entity is black-listed at once) or dismisses the report."""
    user = request_user(request)
    if action not in ("confirm", "dismiss"):
        raise Http404
    report = _report(user, pk)
    FRAUD.check(user, report, action)  # 403 for others, 409 once decided
    form = DecisionForm(request.POST)
    if form.is_valid():
        do = services.fraud_confirm if action == "confirm" else services.fraud_dismiss
        try:
            do(actor=user, report=report, note=form.cleaned_data["note"])
        except SERVICE_ERRORS as exc:
            if isinstance(exc, PermissionDeniedError):
                raise
            add_service_error(form, exc)
            return _fraud_detail(request, report, user, form, 422)
        messages.success(
            request,
            _("已确认欺诈，该企业已列入黑名单") if action == "confirm" else _("已不予认定"),
        )
        return redirect("credit:fraud_detail", pk=pk)
    return _fraud_detail(request, report, user, form, 422)


# ---------------------------------------------------------------- the enterprise, institutions


@login_required
def list_status(request: HttpRequest) -> HttpResponse:
    """The enterprise's own status: black-list reasons and how to clear them, history, white
    list, and its answer to 同意推荐给金融机构."""
    user = request_user(request)
    entity = own_entity(user)
    status = selectors.list_status(user=user, entity=entity)
    return render(request, "credit/lists/status.html", {"s": status, "entity": entity})


@login_required
@require_POST
def recommend_consent(request: HttpRequest) -> HttpResponse:
    """The enterprise agrees (or no longer agrees) to be recommended to institutions."""
    user = request_user(request)
    entity = own_entity(user)
    consented = request.POST.get("consented") == "1"
    services.recommend_consent_set(actor=user, entity=entity, consented=consented)
    messages.success(
        request,
        _("已同意推荐给金融机构") if consented else _("已撤回同意，金融机构不再看到本企业的推荐"),
    )
    return redirect("credit:list_status")


@login_required
def prospects(request: HttpRequest) -> HttpResponse:
    """The institution's prospects: white-listed entities that agreed to be recommended."""
    user = request_user(request)
    qs = selectors.prospects(user=user)
    filters: list[listing.Filter] = [
        listing.SearchFilter(
            "q",
            gettext_lazy("关键词"),
            ["entity__name__icontains"],
            placeholder=gettext_lazy("企业名称"),
        ),
        listing.ChoiceFilter(
            "grade",
            gettext_lazy("信用等级"),
            [(g, g) for g in services.GRADES],
            apply=lambda q, v: q.filter(Q(grade=v)),
        ),
    ]
    lst = listing.list_build(request, qs, filters, noun=gettext_lazy("推荐客户"), per_page=30)
    return render(request, "credit/lists/prospects.html", {"listing": lst, "page": lst.page})
