"""Pages of 融资评价: rate a loan's other party, what waits for rating, league tables, ratings,
appeals (file, queue, decide, timeline)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xinrong.accounts.auth import request_user
from xinrong.accounts.permissions import can, region_prefix_for, require
from xinrong.common import listing
from xinrong.common.errors import SERVICE_ERRORS, error_payload
from xinrong.enterprises.listing import RegionFilter
from xinrong.evaluations.choices import (
    ITEMS,
    AppealStatus,
    RatingDirection,
    RatingItem,
    RatingStage,
    RatingStatus,
)
from xinrong.evaluations.forms.ratings import AppealForm, DecideForm, RatingForm
from xinrong.evaluations.selectors import ratings as selectors
from xinrong.evaluations.services import ratings as services
from xinrong.evaluations.workflows.appeals import APPEAL, SUBMITTED_EVENT
from xinrong.marketplace.models import Loan
from xinrong.reference import divisions

EVENT_LABELS = {
    SUBMITTED_EVENT: gettext_lazy("提出申诉"),
    "uphold": gettext_lazy("认定申诉成立"),
    "reject": gettext_lazy("认定申诉不成立"),
}


def _add_errors(form: forms.Form, exc: Exception) -> int:
    """Show a service error on its fields (all at once); return the HTTP status."""
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            for e in errors:
                for m in e.messages:
                    form.add_error(name if name in form.fields else None, m)
        return 400
    status, body = error_payload(exc)
    field = str(body["extra"].get("field") or "")
    form.add_error(field if field in form.fields else None, body["message"])
    return status


# ------------------------------------------------------------------------------ rating


@login_required
def rate(request: HttpRequest, loan_id: int, stage: str) -> HttpResponse:
    """The rating form of one loan at one stage, for the user's side."""
    user = request_user(request)
    loan = get_object_or_404(
        Loan.objects.select_related("entity", "institution"),
        pk=loan_id,
    )
    require(user, "evaluations.rate", loan, message=_("只有贷款双方可以评价这笔贷款"))
    if stage not in RatingStage.values:
        return redirect("evaluations:pending")
    direction = selectors.side_of(user) or RatingDirection.OF_ENTERPRISE
    form = RatingForm(request.POST or None, direction=direction)
    status = 200
    if request.method == "POST":
        try:
            rating = services.rating_submit(
                actor=user,
                loan=loan,
                stage=stage,
                scores=form.scores(),
                comment=str(request.POST.get("comment", "")),
            )
        except SERVICE_ERRORS as exc:
            form.is_valid()
            status = _add_errors(form, exc)
        else:
            messages.success(
                request,
                _("已提交评价：综合 %(c)s 分，感谢您的反馈") % {"c": rating.composite},
            )
            return redirect("evaluations:rating_detail", rating.pk)
    rated = (
        loan.institution.name if direction == RatingDirection.OF_INSTITUTION else loan.entity.name
    )
    return render(
        request,
        "evaluations/rate.html",
        {
            "loan": loan,
            "stage_label": RatingStage(stage).label,
            "rated_name": rated,
            "form": form,
        },
        status=status,
    )


@login_required
def pending(request: HttpRequest) -> HttpResponse:
    """The loans waiting for the user's side's rating."""
    user = request_user(request)
    require(user, "evaluations.pending_view")
    return render(request, "evaluations/pending.html", {"pending": selectors.pending_ratings(user)})


@login_required
def rating_detail(request: HttpRequest, pk: Any) -> HttpResponse:
    user = request_user(request)
    rating = get_object_or_404(selectors.ratings_visible(user), pk=pk)
    require(user, "evaluations.rating_view", rating)
    scores = sorted(rating.scores.all(), key=lambda s: list(RatingItem.values).index(s.item))
    return render(
        request,
        "evaluations/rating_detail.html",
        {
            "rating": rating,
            "scores": scores,
            "appeals": list(rating.appeals.all()),
            "can_appeal": rating.status == RatingStatus.ACTIVE
            and can(user, "evaluations.appeal_file", rating)
            and not rating.appeals.filter(status=AppealStatus.SUBMITTED).exists(),
        },
    )


def _rating_filters() -> list[listing.Filter]:
    return [
        listing.SearchFilter(
            "q",
            _("关键词"),
            ["loan__number__iexact", "entity__name__icontains", "institution__name__icontains"],
            placeholder=_("贷款编号、企业或机构名称"),
        ),
        listing.ChoiceFilter("direction", _("评价方向"), RatingDirection.choices),
        listing.ChoiceFilter("stage", _("评价阶段"), RatingStage.choices),
        listing.ChoiceFilter("status", _("状态"), RatingStatus.choices),
        RegionFilter("region", _("企业所在地区"), "entity__division_code"),
    ]


@login_required
def rating_list(request: HttpRequest) -> HttpResponse:
    """The ratings the user may see (both parties' own; the operator's region)."""
    user = request_user(request)
    require(user, "evaluations.rating_view")
    lst = listing.list_build(
        request,
        selectors.ratings_visible(user),
        _rating_filters(),
        noun=_("评价"),
        export_url=reverse("evaluations:ratings_export"),
    )
    return render(request, "evaluations/ratings.html", {"listing": lst, "page": lst.page})


RATING_COLUMNS = [
    listing.Column(gettext_lazy("贷款编号"), listing.attr("loan.number"), 20),
    listing.Column(gettext_lazy("借款企业"), listing.attr("entity.name"), 28),
    listing.Column(gettext_lazy("金融机构"), listing.attr("institution.name"), 24),
    listing.Column(gettext_lazy("评价方向"), listing.display("direction")),
    listing.Column(gettext_lazy("评价阶段"), listing.display("stage")),
    listing.Column(gettext_lazy("综合评分"), listing.attr("composite")),
    listing.Column(gettext_lazy("状态"), listing.display("status")),
    listing.Column(gettext_lazy("评价时间"), listing.attr("created_at"), 18),
]


@login_required
def rating_export(request: HttpRequest) -> HttpResponseBase:
    user = request_user(request)
    require(user, "evaluations.rating_view")
    qs = selectors.ratings_visible(user)
    fs = listing.list_filter(request, qs, _rating_filters())
    return listing.xlsx_export(
        listing.query_rows(fs.apply(qs)),
        RATING_COLUMNS,
        title=_("融资评价"),
        filename=_("融资评价"),
        fallback="ratings",
    )


# ------------------------------------------------------------------------------ league table


def _league_context(request: HttpRequest, user: Any) -> dict[str, Any]:
    own = region_prefix_for(user)
    regions = divisions.region_choices()
    region = str(request.GET.get("region", "") or "")
    if region and region not in dict(regions):
        region = ""
    prefix = divisions.descendants_prefix(region) if region else ""
    if own is not None and not prefix.startswith(own):
        prefix = own  # a sub-station or a regional department: its region at most
        region = next((c for c, _n in regions if divisions.descendants_prefix(c) == own), "")
    items = [(i, RatingItem(i).label) for i in ITEMS[RatingDirection.OF_INSTITUTION]]
    sort = str(request.GET.get("sort", "score"))
    if sort not in {"score", "count", *dict(items)}:
        sort = "score"
    rows = selectors.league_table(region_prefix=prefix, sort=sort)
    return {
        "rows": rows,
        "items": items,
        "regions": regions,
        "region": region,
        "sort": sort,
        "sorts": [("score", _("信誉分")), ("count", _("评价数")), *items],
    }


@login_required
def league(request: HttpRequest) -> HttpResponse:
    """Institutions ranked by the enterprises' ratings (all signed-in users)."""
    user = request_user(request)
    require(user, "evaluations.league_view")
    return render(request, "evaluations/league.html", _league_context(request, user))


def _item_reader(code: str) -> Callable[[Any], Any]:
    def read(row: Any) -> Any:
        return row.items.get(code, "")

    return read


@login_required
def league_export(request: HttpRequest) -> HttpResponseBase:
    user = request_user(request)
    require(user, "evaluations.league_view")
    ctx = _league_context(request, user)
    items = ctx["items"]
    columns = [
        listing.Column(gettext_lazy("排名"), listing.attr("rank"), 8),
        listing.Column(gettext_lazy("金融机构"), listing.attr("name"), 28),
        listing.Column(gettext_lazy("信誉分"), listing.attr("score")),
        listing.Column(gettext_lazy("综合平均分"), listing.attr("mean")),
        listing.Column(gettext_lazy("评价数"), listing.attr("count")),
        *[listing.Column(label, _item_reader(code)) for code, label in items],
    ]
    return listing.xlsx_export(
        ctx["rows"], columns, title=_("机构评价排行"), filename=_("机构评价排行"), fallback="league"
    )


# ------------------------------------------------------------------------------ appeals


@login_required
def appeal_new(request: HttpRequest, rating_id: Any) -> HttpResponse:
    user = request_user(request)
    rating = get_object_or_404(selectors.ratings_visible(user), pk=rating_id)
    require(user, "evaluations.appeal_file", rating, message=_("只有被评价的一方可以申诉"))
    form = AppealForm(request.POST or None)
    status = 200
    if request.method == "POST":
        try:
            appeal = services.appeal_submit(
                actor=user, rating=rating, reason=str(request.POST.get("reason", ""))
            )
        except SERVICE_ERRORS as exc:
            form.is_valid()
            status = _add_errors(form, exc)
        else:
            messages.success(request, _("申诉已提交，平台运营方将核实处理"))
            return redirect("evaluations:appeal_detail", appeal.pk)
    return render(
        request, "evaluations/appeal_new.html", {"rating": rating, "form": form}, status=status
    )


def _appeal_filters() -> list[listing.Filter]:
    return [
        listing.SearchFilter(
            "q",
            _("关键词"),
            [
                "number__icontains",
                "rating__loan__number__iexact",
                "rating__entity__name__icontains",
            ],
            placeholder=_("申诉编号、贷款编号或企业名称"),
        ),
        listing.ChoiceFilter("status", _("状态"), AppealStatus.choices),
        RegionFilter("region", _("企业所在地区"), "rating__entity__division_code"),
    ]


@login_required
def appeal_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    require(user, "evaluations.appeal_view")
    lst = listing.list_build(
        request,
        selectors.appeals_visible(user),
        _appeal_filters(),
        noun=_("申诉"),
        export_url=reverse("evaluations:appeals_export"),
    )
    return render(
        request,
        "evaluations/appeals.html",
        {"listing": lst, "page": lst.page, "can_queue": can(user, "evaluations.appeal_queue")},
    )


APPEAL_COLUMNS = [
    listing.Column(gettext_lazy("申诉编号"), listing.attr("number"), 20),
    listing.Column(gettext_lazy("贷款编号"), listing.attr("rating.loan.number"), 20),
    listing.Column(gettext_lazy("借款企业"), listing.attr("rating.entity.name"), 28),
    listing.Column(gettext_lazy("金融机构"), listing.attr("rating.institution.name"), 24),
    listing.Column(gettext_lazy("申诉理由"), listing.attr("reason"), 40),
    listing.Column(gettext_lazy("状态"), listing.display("status")),
    listing.Column(gettext_lazy("提交时间"), listing.attr("created_at"), 18),
]


@login_required
def appeal_export(request: HttpRequest) -> HttpResponseBase:
    user = request_user(request)
    require(user, "evaluations.appeal_view")
    qs = selectors.appeals_visible(user)
    fs = listing.list_filter(request, qs, _appeal_filters())
    return listing.xlsx_export(
        listing.query_rows(fs.apply(qs)),
        APPEAL_COLUMNS,
        title=_("评价申诉"),
        filename=_("评价申诉"),
        fallback="appeals",
    )


@login_required
def appeal_detail(request: HttpRequest, pk: Any) -> HttpResponse:
    user = request_user(request)
    appeal = get_object_or_404(selectors.appeals_visible(user), pk=pk)
    require(user, "evaluations.appeal_view", appeal)
    may_decide = bool(APPEAL.available(user, appeal))
    form = DecideForm(request.POST or None) if may_decide else None
    status = 200
    if request.method == "POST" and form is not None:
        try:
            services.appeal_decide(
                actor=user,
                appeal=appeal,
                action=str(request.POST.get("action", "")),
                note=str(request.POST.get("note", "")),
            )
        except SERVICE_ERRORS as exc:
            form.is_valid()
            status = _add_errors(form, exc)
        else:
            messages.success(request, _("已处理申诉 %(n)s") % {"n": appeal.number})
            return redirect("evaluations:appeal_detail", appeal.pk)
    return render(
        request,
        "evaluations/appeal_detail.html",
        {
            "appeal": appeal,
            "rating": appeal.rating,
            "scores": list(appeal.rating.scores.all()),
            "events": list(appeal.events.select_related("actor").order_by("created_at", "id")),
            "kind_labels": EVENT_LABELS,
            "form": form,
        },
        status=status,
    )
