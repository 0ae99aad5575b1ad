"""Pages of financing demands: publish, the enterprise's demands, the demand hall, 抢单."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from xinrong.accounts import permissions
from xinrong.accounts.auth import request_user
from xinrong.common import listing
from xinrong.common.errors import SERVICE_ERRORS, PermissionDeniedError, error_payload
from xinrong.common.forms import add_service_error
from xinrong.common.pagination import paginate
from xinrong.marketplace.choices import (
    CollateralMode,
    DemandPurpose,
    DemandStatus,
    DemandUrgency,
)
from xinrong.marketplace.forms import DemandForm
from xinrong.marketplace.models import Demand
from xinrong.marketplace.selectors import applications as application_selectors
from xinrong.marketplace.selectors import common as common_selectors
from xinrong.marketplace.selectors import demands as demand_selectors
from xinrong.marketplace.selectors import products as product_selectors
from xinrong.marketplace.services import demands as demand_services
from xinrong.marketplace.views.common import _labels
from xinrong.marketplace.workflows import DEMAND
from xinrong.reference import divisions

MATCH_LIMIT = 20
# The hall ranks every open demand in the institution's regions, up to this many, then pages.
HALL_SCAN = 5000


# ---------------------------------------------------------------- financing demands


@login_required
def demand_new(request: HttpRequest) -> HttpResponse:
    """An enterprise publishes a financing demand."""
    user = request_user(request)
    entity = common_selectors.user_entity(user=user)
    if entity is None:
        raise PermissionDeniedError("forbidden", _("仅企业用户可发布融资需求"))
    form = DemandForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            demand = demand_services.demand_publish(actor=user, entity=entity, data=form.demand())
        except SERVICE_ERRORS as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("融资需求已发布，以下是为您匹配的产品"))
            return redirect("marketplace:demand", pk=demand.pk)
    return render(request, "marketplace/demand_form.html", {"form": form, "entity": entity})


def _demand_filters(*, own: bool = False, region: bool = True) -> list[listing.Filter]:
    """The filters of the demand lists (the enterprise's own have no name search or region)."""
    out: list[listing.Filter] = []
    if not own:
        out.append(
            listing.SearchFilter(
                "q",
                _("关键词"),
                ["entity__name__icontains", "entity__uscc__iexact", "purpose__icontains"],
                placeholder=_("企业名称、信用代码或用途"),
            )
        )
    else:
        out.append(listing.ChoiceFilter("status", _("状态"), DemandStatus.choices))
    out += [
        listing.ChoiceFilter("purpose", _("用途类别"), DemandPurpose.choices, "purpose_category"),
        listing.ChoiceFilter("urgency", _("紧急程度"), DemandUrgency.choices),
        listing.AmountRangeFilter("amount", _("融资金额（元）"), "amount"),
        listing.DateRangeFilter("created", _("发布日期"), "created_at"),
    ]
    if region and not own:
        out.insert(1, listing.RegionFilter("region", _("所在地区"), "division_code"))
    return out


DEMAND_SUMS = {"amount": gettext_lazy("融资金额合计")}


def _region_name(d: Demand) -> str:
    return divisions.full_name(d.division_code) or d.division_code


DEMAND_COLUMNS = [
    listing.Column(gettext_lazy("发布时间"), listing.attr("created_at"), 18),
    listing.Column(gettext_lazy("企业"), listing.attr("entity.name"), 28),
    listing.Column(gettext_lazy("统一社会信用代码"), listing.attr("entity.uscc"), 20),
    listing.Column(gettext_lazy("所在地区"), _region_name, 24),
    listing.Column(gettext_lazy("融资金额（元）"), listing.attr("amount")),
    listing.Column(gettext_lazy("期限（月）"), listing.attr("term_months")),
    listing.Column(gettext_lazy("用途类别"), listing.display("purpose_category")),
    listing.Column(gettext_lazy("资金用途"), listing.attr("purpose"), 24),
    listing.Column(gettext_lazy("可接受最高年利率（%）"), listing.attr("max_rate")),
    listing.Column(gettext_lazy("紧急程度"), listing.display("urgency")),
    listing.Column(gettext_lazy("状态"), listing.display("status")),
    listing.Column(gettext_lazy("承接机构"), listing.attr("held_by.name"), 22),
    listing.Column(gettext_lazy("承接截止"), listing.attr("held_until"), 18),
]


def _demand_export(
    rows: Any, *, title: str, fallback: str, columns: Any = None
) -> HttpResponseBase:
    return listing.xlsx_export(
        rows, columns or DEMAND_COLUMNS, title=title, filename=title, fallback=fallback
    )


def _own_demands(request: HttpRequest) -> Any:
    user = request_user(request)
    if common_selectors.user_entity(user=user) is None:
        raise PermissionDeniedError("forbidden", _("仅企业用户可用"))
    return demand_selectors.entity_demands(user=user).select_related("held_by")


@login_required
def my_demands(request: HttpRequest) -> HttpResponse:
    """The enterprise's own demands, filtered, totalled and exportable."""
    lst = listing.list_build(
        request,
        _own_demands(request),
        _demand_filters(own=True),
        noun=_("融资需求"),
        sums=DEMAND_SUMS,
        export_url=reverse("marketplace:my_demands_export"),
    )
    return render(request, "marketplace/my_demands.html", {"listing": lst, "page": lst.page})


@login_required
def my_demands_export(request: HttpRequest) -> HttpResponseBase:
    """The enterprise's own demands as Excel (the same filters as the list)."""
    qs = _own_demands(request)
    qs = listing.list_filter(request, qs, _demand_filters(own=True)).apply(qs)
    return _demand_export(listing.query_rows(qs), title=_("我的融资需求"), fallback="demands")


@login_required
def demand_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A demand with its ranked matches (top 20) and why each fits."""
    user = request_user(request)
    demand = demand_selectors.demand_visible_get(user=user, pk=pk)
    own = demand_selectors.demand_is_own(user=user, demand=demand)
    show = demand_selectors.demand_matches_visible(user=user, demand=demand)
    result = demand_selectors.demand_matches(demand=demand, limit=MATCH_LIMIT) if show else None
    matches = result.matches if result else []
    enhancements = result.enhancements if result else []
    products = product_selectors.products_by_id(
        ids=[m.product_id for m in matches]
        + [e.product_id for e in enhancements]
        + [c.enhancement.product_id for m in matches for c in m.combinations]
    )
    rows = [
        (
            m,
            products[m.product_id],
            [(c, products.get(c.enhancement.product_id)) for c in m.combinations],
        )
        for m in matches
        if m.product_id in products
    ]
    enhancement_rows = [
        (e, products[e.product_id]) for e in enhancements if e.product_id in products
    ]
    _mark_holds(user, [demand])
    timeline = demand_selectors.demand_timeline_visible(user=user, demand=demand)
    contact = demand_selectors.demand_contact(user=user, demand=demand)
    invitations = (
        demand_selectors.demand_invitations(demand=demand) if own or contact is not None else []
    )
    invitable = (
        demand_selectors.invitable_products(user=user, demand=demand)
        if contact is not None and DEMAND.may(user, demand, "invite")
        else []
    )
    return render(
        request,
        "marketplace/demand_detail.html",
        {
            "demand": demand,
            "rows": rows,
            "enhancement_rows": enhancement_rows,
            "result": result,
            "own": own,
            "modes": _labels(demand.collateral_modes, CollateralMode.choices) or _("不限"),
            "can_withdraw": DEMAND.may(user, demand, "withdraw"),
            "contact": contact,
            "invitations": invitations,
            "invitable": invitable,
            "events": list(demand_selectors.demand_events(demand=demand)) if timeline else None,
            "applications": application_selectors.applications_visible(user=user).filter(
                demand=demand
            )
            if own or contact is not None  # the holder sees those made to its institution
            else [],
        },
    )


@login_required
@require_POST
def demand_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    """Withdraw one's own open demand."""
    user = request_user(request)
    try:
        demand = demand_selectors.demand_visible_get(user=user, pk=pk)
        demand_services.demand_withdraw(demand=demand, actor=user)
    except SERVICE_ERRORS as exc:
        messages.error(request, error_payload(exc)[1]["message"])
        return redirect("marketplace:my_demands")
    messages.success(request, _("融资需求已撤回"))
    return redirect("marketplace:demand", pk=pk)


def _hall(request: HttpRequest) -> tuple[Any, list[tuple[Any, Demand]], Any]:
    """The hall's demands for the user's institution, ranked, then narrowed by the filters."""
    user = request_user(request)
    if not permissions.can(user, "marketplace.demand_hall_view"):
        raise PermissionDeniedError("forbidden", _("仅金融机构可用"))
    ranked, _total = demand_selectors.demand_hall(user=user, limit=HALL_SCAN)
    scope = Demand.objects.filter(pk__in=[d.pk for _e, d in ranked])
    fs = listing.list_filter(request, scope, _demand_filters())
    filtered = fs.apply(scope)
    keep = set(filtered.values_list("pk", flat=True))
    return fs, [(e, d) for e, d in ranked if d.pk in keep], filtered


@login_required
def demand_hall(request: HttpRequest) -> HttpResponse:
    """Institutions: open demands in their service regions, ranked for them; every one of them
    (paged), filtered, totalled and exportable."""
    user = request_user(request)
    fs, rows, filtered = _hall(request)
    count, totals = listing.list_totals(filtered, DEMAND_SUMS)
    page = paginate(request, rows, size_param="size")
    lst = listing.Listing(
        fs,
        filtered,
        page,
        count,
        totals,
        _("融资需求"),
        reverse("marketplace:demand_hall_export"),
    )
    _mark_holds(user, [d for _e, d in page.object_list])
    regions = demand_selectors.institution_service_regions(institution_id=user.organisation_id or 0)
    return render(
        request,
        "marketplace/demand_hall.html",
        {
            "listing": lst,
            "page": page,
            "rows": page.object_list,
            "total": count,
            "regions": "、".join(divisions.full_name(r) or r for r in regions)
            if regions
            else _("全部地区"),
        },
    )


@login_required
def demand_hall_export(request: HttpRequest) -> HttpResponseBase:
    """The demand hall as Excel: the same demands, order and filters as the hall."""
    _fs, rows, _filtered = _hall(request)
    columns = [
        *DEMAND_COLUMNS[:11],
        listing.Column(gettext_lazy("契合度得分"), lambda d: round(scores[d.pk], 1)),
    ]
    scores = {d.pk: e.score for e, d in rows}
    return _demand_export(
        [d for _e, d in rows], title=_("需求大厅"), fallback="demand-hall", columns=columns
    )


# ---------------------------------------------------------------- 抢单 (institutions take demands)


def _mark_holds(user: Any, demands: list[Demand]) -> None:
    """Set on each demand whether it is held, by the user's institution, and takable by it."""
    now = timezone.now()
    may_grab = demand_selectors.grab_refusal(user=user) is None
    for d in demands:
        held = demand_selectors.demand_is_held(d, now=now)
        mine = held and d.held_by_id == user.organisation_id
        d.is_held = held  # type: ignore[attr-defined]
        d.held_by_me = mine  # type: ignore[attr-defined]
        d.can_take = may_grab and not held and d.status == DemandStatus.OPEN  # type: ignore[attr-defined]
        d.can_release = may_grab and mine  # type: ignore[attr-defined]


def _back(request: HttpRequest, default: str) -> HttpResponse:
    """Redirect to the page the form came from (a path of this site), else to the default."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(default)


@login_required
@require_POST
def demand_take(request: HttpRequest, pk: int) -> HttpResponse:
    """An institution takes (抢单) a demand; errors are shown on the page it came from."""
    user = request_user(request)
    try:
        refusal = demand_selectors.grab_refusal(user=user)  # say why before the demand is looked up
        if refusal is not None:
            raise refusal
        demand = demand_selectors.demand_visible_get(user=user, pk=pk)
        demand = demand_services.demand_take(demand=demand, actor=user)
    except SERVICE_ERRORS as exc:
        messages.error(request, error_payload(exc)[1]["message"])
        return _back(request, "marketplace:demand_hall")
    assert demand.held_until is not None
    messages.success(
        request,
        _("抢单成功：本机构承接该需求至 %(t)s，请在此之前联系企业办理")
        % {"t": timezone.localtime(demand.held_until).strftime("%Y-%m-%d %H:%M")},
    )
    return redirect("marketplace:demand", pk=pk)


@login_required
@require_POST
def demand_invite(request: HttpRequest, pk: int) -> HttpResponse:
    """The holding institution invites the enterprise to apply for one of its loan products."""
    user = request_user(request)
    try:
        demand = demand_selectors.demand_visible_get(user=user, pk=pk)
        code = request.POST.get("product", "").strip()
        if not code:
            raise ValidationError({"product": _("请选择邀请企业申请的产品")}, code="required")
        product = product_selectors.product_published_get(code=code)
        demand_services.demand_invite(demand=demand, actor=user, product=product)
    except SERVICE_ERRORS as exc:
        messages.error(request, error_payload(exc)[1]["message"])
    else:
        messages.success(
            request, _("已邀请企业申请“%(p)s”，企业将收到带有申请链接的通知") % {"p": product.name}
        )
    return redirect("marketplace:demand", pk=pk)


@login_required
@require_POST
def demand_release(request: HttpRequest, pk: int) -> HttpResponse:
    """The holding institution gives a demand back to the pool."""
    user = request_user(request)
    try:
        demand = demand_selectors.demand_visible_get(user=user, pk=pk)
        demand_services.demand_release(demand=demand, actor=user, note=request.POST.get("note", ""))
    except SERVICE_ERRORS as exc:
        messages.error(request, error_payload(exc)[1]["message"])
    else:
        messages.success(request, _("已放弃承接，需求已退回需求池"))
    return _back(request, "marketplace:demands_held")


def _held(request: HttpRequest) -> Any:
    user = request_user(request)
    if not permissions.can(user, "marketplace.demand_hall_view"):
        raise PermissionDeniedError("forbidden", _("仅金融机构可用"))
    return demand_selectors.held_demands(user=user).select_related("held_by")


@login_required
def demands_held(request: HttpRequest) -> HttpResponse:
    """Institutions: the demands their institution holds now, filtered and exportable."""
    lst = listing.list_build(
        request,
        _held(request),
        _demand_filters(),
        noun=_("承接中的需求"),
        sums=DEMAND_SUMS,
        export_url=reverse("marketplace:demands_held_export"),
    )
    return render(
        request,
        "marketplace/demands_held.html",
        {"listing": lst, "page": lst.page, "hold_hours": demand_services.demand_hold_hours()},
    )


@login_required
def demands_held_export(request: HttpRequest) -> HttpResponseBase:
    """The demands the institution holds, as Excel (the same filters as the list)."""
    qs = _held(request)
    qs = listing.list_filter(request, qs, _demand_filters()).apply(qs)
    return _demand_export(listing.query_rows(qs), title=_("承接中的需求"), fallback="held")


@login_required
def demands_escalated(request: HttpRequest) -> HttpResponse:
    """The operator: open demands nobody took within the limit (a sub-station: its region)."""
    user = request_user(request)
    if not permissions.can(user, "marketplace.demands_escalated_view"):
        raise PermissionDeniedError("forbidden", _("仅平台运营方可用"))
    lst = listing.list_build(
        request,
        demand_selectors.escalated_demands(user=user),
        _demand_filters(),
        noun=_("逾期无人承接的需求"),
        sums=DEMAND_SUMS,
    )
    _mark_holds(user, list(lst.page.object_list))
    return render(
        request,
        "marketplace/demands_escalated.html",
        {"listing": lst, "page": lst.page, "days": demand_services.demand_escalate_days()},
    )
