"""Pages of the financial product supermarket, the institution's products and the review queue."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from xinrong.accounts import permissions
from xinrong.accounts.auth import request_user
from xinrong.accounts.choices import OrgGroup
from xinrong.common.errors import (
    SERVICE_ERRORS,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    error_payload,
)
from xinrong.common.forms import add_service_error
from xinrong.common.http import error_page
from xinrong.common.ids import id_or_404, ids_parse
from xinrong.common.pagination import DEFAULT_PAGE_SIZE
from xinrong.enterprises.choices import EntityType
from xinrong.enterprises.selectors import market_entity_visible
from xinrong.marketplace import selectors, services
from xinrong.marketplace.choices import (
    PRODUCT_TAGS,
    RENEWAL_HORIZON_DAYS,
    ApplicationStatus,
    CollateralMode,
    DemandStatus,
    ProductType,
    RepaymentMethod,
    ReserveStatus,
    VersionStatus,
)
from xinrong.marketplace.eligibility import Verdict, entity_facts, evaluate
from xinrong.marketplace.forms import (
    ApplicationForm,
    ApproveForm,
    DefaultForm,
    DemandForm,
    DisburseForm,
    FinancingCaseForm,
    InterestForm,
    NoteForm,
    ProductForm,
    RejectForm,
    RepayForm,
    ReserveCloseForm,
    ReserveCriteriaForm,
    ReserveIntroForm,
    SignForm,
)
from xinrong.marketplace.lifecycle import TRANSITIONS, actions_from
from xinrong.marketplace.models import Demand, LoanApplication, Product
from xinrong.reference import divisions, industries

INSTITUTION_KIND_CHOICES = [
    ("bank", gettext_lazy("银行")),
    ("microloan", gettext_lazy("小额贷款公司")),
    ("guarantor", gettext_lazy("融资担保机构")),
    ("insurer", gettext_lazy("保险机构")),
]
MATCH_LIMIT = 20
HALL_LIMIT = 50
SORT_CHOICES = [
    ("newest", gettext_lazy("最新上架")),
    ("rate", gettext_lazy("利率从低到高")),
    ("amount", gettext_lazy("额度从高到低")),
    ("service", gettext_lazy("办理最快")),
]


def _labels(values: list[str], choices: Any) -> str:
    lookup = {k: str(v) for k, v in choices}
    return "、".join(lookup.get(v, v) for v in values)


def _verdicts(request: HttpRequest, products: list[Product]) -> dict[int, Verdict]:
    """Return eligibility per product for an enterprise user: one facts load for the whole list."""
    user = request_user(request)
    entity = selectors.user_entity(user=user)
    if entity is None or not products:
        return {}
    facts = entity_facts(entity_ids=[entity.pk]).get(entity.pk)
    if facts is None:
        return {}
    return {p.pk: evaluate(p.current_version, facts) for p in products if p.current_version}


@login_required
def product_list(request: HttpRequest) -> HttpResponse:
    """Browse, search, filter and sort published products."""
    error = ""
    page = None
    try:
        filters = selectors.product_filter_parse(request.GET)
        qs = selectors.product_search(filters=filters)
        page = Paginator(qs, DEFAULT_PAGE_SIZE).get_page(request.GET.get("page"))
    except ValidationError as exc:
        error = error_payload(exc)[1]["message"]
    rows = list(page.object_list) if page else []
    verdicts = _verdicts(request, rows)
    for p in rows:
        p.verdict = verdicts.get(p.pk)  # type: ignore[attr-defined]
    query = request.GET.copy()
    query.pop("page", None)
    region = request.GET.get("region", "")
    return render(
        request,
        "marketplace/product_list.html",
        {
            "page": page,
            "rows": rows,
            "error": error,
            "params": request.GET,
            "querystring": query.urlencode(),
            "types": ProductType.choices,
            "tags": PRODUCT_TAGS,
            "kinds": INSTITUTION_KIND_CHOICES,
            "sorts": SORT_CHOICES,
            "region_name": divisions.full_name(region) if region else "",
            "is_enterprise": selectors.user_entity(user=request_user(request)) is not None,
        },
    )


def _terms_table(product: Product) -> list[tuple[str, str]]:
    v = product.current_version
    assert v is not None
    any_ = _("不限")
    return [
        (_("产品类型"), str(v.get_product_type_display())),
        (_("额度"), f"{v.amount_min:,.0f} – {v.amount_max:,.0f} 元"),
        (_("期限"), f"{v.term_min_months} – {v.term_max_months} 个月"),
        (_("年利率"), f"{v.rate_min}% – {v.rate_max}%"),
        (_("还款方式"), _labels(v.repayment_methods, RepaymentMethod.choices) or any_),
        (_("担保方式"), _labels(v.collateral_modes, CollateralMode.choices) or any_),
        (
            _("适用主体"),
            _labels(v.entity_types, EntityType.choices) or any_,
        ),
        (_("适用行业"), "、".join(v.industries) or any_),
        (_("适用地区"), "、".join(divisions.full_name(r) or r for r in v.regions) or any_),
        (_("最低经营年限"), f"{v.min_years_in_business} 年" if v.min_years_in_business else any_),
        (_("最低信用等级"), v.min_credit_grade or any_),
        (_("纳税信用等级"), "/".join(v.tax_grades) or any_),
        (
            _("货币政策工具"),
            "、".join(
                s
                for s, on in (
                    (_("再贷款"), v.supports_relending),
                    (_("再贴现"), v.supports_rediscount),
                )
                if on
            )
            or _("无"),
        ),
        (
            _("服务时限"),
            _("%(a)s 天受理，%(d)s 天审批") % {"a": v.days_to_accept, "d": v.days_to_decide},
        ),
        (_("标签"), "、".join(v.tags) or "—"),
    ]


@login_required
def product_detail(request: HttpRequest, code: str) -> HttpResponse:
    """Show a published product's terms and, for an enterprise, whether it qualifies."""
    try:
        product = selectors.product_published_get(code=code)
    except SERVICE_ERRORS as exc:
        return error_page(request, exc)
    verdict = _verdicts(request, [product]).get(product.pk)
    return render(
        request,
        "marketplace/product_detail.html",
        {"product": product, "terms": _terms_table(product), "verdict": verdict},
    )


def _compare_ids(request: HttpRequest) -> list[int]:
    raw: list[str] = []
    for value in request.GET.getlist("ids"):
        raw.extend(p for p in value.replace("，", ",").split(",") if p.strip())
    return ids_parse(raw, field="ids", label=_("产品编号"))


@login_required
def product_compare(request: HttpRequest) -> HttpResponse:
    """Show up to four published products side by side."""
    error = ""
    products: list[Product] = []
    try:
        products = selectors.products_compare(ids=_compare_ids(request))
    except ValidationError as exc:
        error = error_payload(exc)[1]["message"]
    verdicts = _verdicts(request, products)
    columns = [(p, _terms_table(p), verdicts.get(p.pk)) for p in products]
    labels = [label for label, _v in columns[0][1]] if columns else []
    rows = [(label, [c[1][i][1] for c in columns]) for i, label in enumerate(labels)]
    return render(
        request,
        "marketplace/compare.html",
        {"columns": columns, "rows": rows, "error": error, "limit": selectors.COMPARE_LIMIT},
    )


# ---------------------------------------------------------------- institution and operator


@login_required
def my_products(request: HttpRequest) -> HttpResponse:
    """The institution's products in every status."""
    user = request_user(request)
    if not permissions.can(user, "marketplace.product_manage"):
        return error_page(request, PermissionDeniedError("forbidden", _("仅金融机构可用")))
    page = Paginator(selectors.institution_products(user=user), DEFAULT_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "marketplace/my_products.html", {"page": page, "querystring": ""})


@login_required
def product_new(request: HttpRequest) -> HttpResponse:
    """Create a draft product."""
    user = request_user(request)
    form = ProductForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            product = services.product_create(
                actor=user,
                code=form.cleaned_data["code"],
                name=form.cleaned_data["name"],
                terms=form.terms(),
            )
        except SERVICE_ERRORS as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("产品草稿已保存，可提交审核"))
            return redirect("marketplace:manage", pk=product.pk)
    return render(request, "marketplace/product_form.html", {"form": form, "product": None})


@login_required
def product_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a product's draft terms, or open a new version of a live product."""
    user = request_user(request)
    try:
        product = selectors.product_visible_get(user=user, pk=pk)
    except SERVICE_ERRORS as exc:
        return error_page(request, exc)
    base = product.draft_version or product.current_version
    initial = ProductForm.initial_from(base) if base else {}
    form = ProductForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            version = services.product_update(
                product=product, actor=user, name=form.cleaned_data["name"], terms=form.terms()
            )
        except SERVICE_ERRORS as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("已保存为第 %(n)s 版草稿") % {"n": version.number})
            return redirect("marketplace:manage", pk=product.pk)
    return render(request, "marketplace/product_form.html", {"form": form, "product": product})


@login_required
def product_manage(request: HttpRequest, pk: int) -> HttpResponse:
    """A product's versions, timeline and the actions open to the user."""
    user = request_user(request)
    try:
        product = selectors.product_visible_get(user=user, pk=pk)
    except SERVICE_ERRORS as exc:
        return error_page(request, exc)
    own = user.group == OrgGroup.INSTITUTION and user.organisation_id == product.institution_id
    draft = product.draft_version
    return render(
        request,
        "marketplace/product_manage.html",
        {
            "product": product,
            "versions": list(selectors.product_versions(product=product)),
            "events": list(selectors.product_events(product=product)),
            "own": own,
            "can_review": not own and draft is not None and draft.status == VersionStatus.IN_REVIEW,
            "can_submit": own and draft is not None and draft.status == VersionStatus.DRAFT,
            "can_withdraw": own and product.status == "published",
        },
    )


ACTIONS = {
    "submit": lambda p, u, note: services.product_submit(product=p, actor=u, note=note),
    "approve": lambda p, u, note: services.product_approve(product=p, actor=u, note=note),
    "return": lambda p, u, note: services.product_return(product=p, actor=u, reason=note),
    "withdraw": lambda p, u, note: services.product_withdraw(product=p, actor=u, note=note),
}
ACTION_DONE = {
    "submit": gettext_lazy("已提交审核"),
    "approve": gettext_lazy("审核通过，产品已上架"),
    "return": gettext_lazy("已退回机构修改"),
    "withdraw": gettext_lazy("产品已下架"),
}


@login_required
@require_POST
def product_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Run one workflow transition from the manage page."""
    user = request_user(request)
    if action not in ACTIONS:
        return error_page(request, ConflictError("bad_action", _("未知操作")))
    try:
        product = selectors.product_visible_get(user=user, pk=pk)
        ACTIONS[action](product, user, request.POST.get("note", ""))
    except SERVICE_ERRORS as exc:
        messages.error(request, error_payload(exc)[1]["message"])
    else:
        messages.success(request, str(ACTION_DONE[action]))
        if action in ("approve", "return"):
            return redirect("marketplace:review")
    return redirect("marketplace:manage", pk=pk)


@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    """The operator's queue of product versions awaiting review."""
    user = request_user(request)
    if not permissions.can(user, "marketplace.product_review"):
        return error_page(request, PermissionDeniedError("forbidden", _("仅平台运营管理员可用")))
    rows = list(selectors.review_queue(user=user)[:500])
    return render(request, "marketplace/review_queue.html", {"rows": rows})


# ---------------------------------------------------------------- financing demands


@login_required
def demand_new(request: HttpRequest) -> HttpResponse:
    """An enterprise publishes a financing demand."""
    user = request_user(request)
    entity = selectors.user_entity(user=user)
    if entity is None:
        return error_page(
            request, PermissionDeniedError("forbidden", _("仅企业用户可发布融资需求"))
        )
    form = DemandForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            demand = services.demand_publish(actor=user, entity=entity, data=form.cleaned_data)
        except SERVICE_ERRORS as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("融资需求已发布，以下是为您匹配的产品"))
            return redirect("marketplace:demand", pk=demand.pk)
    return render(request, "marketplace/demand_form.html", {"form": form, "entity": entity})


@login_required
def my_demands(request: HttpRequest) -> HttpResponse:
    """The enterprise's own demands."""
    user = request_user(request)
    if selectors.user_entity(user=user) is None:
        return error_page(request, PermissionDeniedError("forbidden", _("仅企业用户可用")))
    page = Paginator(selectors.entity_demands(user=user), DEFAULT_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "marketplace/my_demands.html", {"page": page})


@login_required
def demand_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A demand with its ranked matches (top 20) and why each fits."""
    user = request_user(request)
    try:
        demand = selectors.demand_visible_get(user=user, pk=pk)
    except SERVICE_ERRORS as exc:
        return error_page(request, exc)
    own = selectors.demand_is_own(user=user, demand=demand)
    show = selectors.demand_matches_visible(user=user, demand=demand)
    result = selectors.demand_matches(demand=demand, limit=MATCH_LIMIT) if show else None
    matches = result.matches if result else []
    products = selectors.products_by_id(ids=[m.product_id for m in matches])
    rows = [(m, products[m.product_id]) for m in matches if m.product_id in products]
    _mark_holds(user, [demand])
    timeline = selectors.demand_timeline_visible(user=user, demand=demand)
    return render(
        request,
        "marketplace/demand_detail.html",
        {
            "demand": demand,
            "rows": rows,
            "result": result,
            "own": own,
            "modes": _labels(demand.collateral_modes, CollateralMode.choices) or _("不限"),
            "can_withdraw": own and demand.status == DemandStatus.OPEN,
            "events": list(selectors.demand_events(demand=demand)) if timeline else None,
            "applications": selectors.applications_visible(user=user).filter(demand=demand)
            if own
            else [],
        },
    )


@login_required
@require_POST
def demand_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    """Withdraw one's own open demand."""
    user = request_user(request)
    try:
        demand = selectors.demand_visible_get(user=user, pk=pk)
        services.demand_withdraw(demand=demand, actor=user)
    except SERVICE_ERRORS as exc:
        messages.error(request, error_payload(exc)[1]["message"])
        return redirect("marketplace:my_demands")
    messages.success(request, _("融资需求已撤回"))
    return redirect("marketplace:demand", pk=pk)


@login_required
def demand_hall(request: HttpRequest) -> HttpResponse:
    """Institutions: open demands in their service regions, ranked for them."""
    user = request_user(request)
    if not permissions.can(user, "marketplace.demand_hall_view"):
        return error_page(request, PermissionDeniedError("forbidden", _("仅金融机构可用")))
    rows, total = selectors.demand_hall(user=user, limit=HALL_LIMIT)
    _mark_holds(user, [d for _e, d in rows])
    regions = selectors.institution_service_regions(institution_id=user.organisation_id or 0)
    return render(
        request,
        "marketplace/demand_hall.html",
        {
            "rows": rows,
            "total": total,
            "regions": "、".join(divisions.full_name(r) or r for r in regions)
            if regions
            else _("全部地区"),
        },
    )


# ---------------------------------------------------------------- 抢单 (institutions take demands)


def _mark_holds(user: Any, demands: list[Demand]) -> None:
    """Set on each demand whether it is held, by the user's institution, and takable by it."""
    now = timezone.now()
    may_grab = selectors.grab_refusal(user=user) is None
    for d in demands:
        held = selectors.demand_is_held(d, now=now)
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
        refusal = selectors.grab_refusal(user=user)  # say why before the demand is looked up
        if refusal is not None:
            raise refusal
        demand = selectors.demand_visible_get(user=user, pk=pk)
        demand = services.demand_take(demand=demand, actor=user)
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
def demand_release(request: HttpRequest, pk: int) -> HttpResponse:
    """The holding institution gives a demand back to the pool."""
    user = request_user(request)
    try:
        demand = selectors.demand_visible_get(user=user, pk=pk)
        services.demand_release(demand=demand, actor=user, note=request.POST.get("note", ""))
    except SERVICE_ERRORS as exc:
        messages.error(request, error_payload(exc)[1]["message"])
    else:
        messages.success(request, _("已放弃承接，需求已退回需求池"))
    return _back(request, "marketplace:demands_held")


@login_required
def demands_held(request: HttpRequest) -> HttpResponse:
    """Institutions: the demands their institution holds now."""
    user = request_user(request)
    if not permissions.can(user, "marketplace.demand_hall_view"):
        return error_page(request, PermissionDeniedError("forbidden", _("仅金融机构可用")))
    page = Paginator(selectors.held_demands(user=user), DEFAULT_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "marketplace/demands_held.html",
        {"page": page, "hold_hours": services.demand_hold_hours()},
    )


@login_required
def demands_escalated(request: HttpRequest) -> HttpResponse:
    """The operator: open demands nobody took within the limit (a sub-station: its region)."""
    user = request_user(request)
    if not permissions.can(user, "marketplace.demands_escalated_view"):
        return error_page(request, PermissionDeniedError("forbidden", _("仅平台运营方可用")))
    page = Paginator(selectors.escalated_demands(user=user), DEFAULT_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    _mark_holds(user, list(page.object_list))
    return render(
        request,
        "marketplace/demands_escalated.html",
        {"page": page, "days": services.demand_escalate_days()},
    )


# ---------------------------------------------------------------- loan applications

ACTION_FORMS: dict[str, type[forms.Form]] = {
    "accept": NoteForm,
    "review": NoteForm,
    "approve": ApproveForm,
    "reject": RejectForm,
    "sign": SignForm,
    "disburse": DisburseForm,
    "repay": RepayForm,
    "default": DefaultForm,
    "withdraw": NoteForm,
}
# The stages of the progress bar (进度可视化); a status maps to the stage it has reached.
STAGES = [
    (ApplicationStatus.SUBMITTED, gettext_lazy("提交")),
    (ApplicationStatus.ACCEPTED, gettext_lazy("受理")),
    (ApplicationStatus.UNDER_REVIEW, gettext_lazy("审批")),
    (ApplicationStatus.APPROVED, gettext_lazy("批准")),
    (ApplicationStatus.CONTRACT_SIGNED, gettext_lazy("签约")),
    (ApplicationStatus.DISBURSED, gettext_lazy("放款")),
    (ApplicationStatus.REPAYING, gettext_lazy("还款")),
    (ApplicationStatus.SETTLED, gettext_lazy("结清")),
]
STAGE_OF: dict[str, int] = {
    **{s: i for i, (s, _label) in enumerate(STAGES)},
    ApplicationStatus.OVERDUE: 6,
    ApplicationStatus.DEFAULTED: 6,
}


def _initial(action: str, app: LoanApplication) -> dict[str, Any]:
    today = timezone.localdate()
    if action == "approve":
        return {
            "amount": app.amount,
            "term_months": app.term_months,
            "rate": app.product_version.rate_min,
        }
    if action == "sign":
        return {"signed_on": today}
    if action == "disburse":
        return {"amount": app.approved_amount, "disbursed_on": today}
    if action == "repay":
        return {"paid_on": today}
    return {}


def _run_action(action: str, app: LoanApplication, user: Any, data: dict[str, Any]) -> None:
    note = data.get("note") or ""
    loan = selectors.loan_of(application=app)
    if action == "accept":
        services.application_accept(application=app, actor=user, note=note)
    elif action == "review":
        services.application_review_start(application=app, actor=user, note=note)
    elif action == "approve":
        services.application_approve(
            application=app,
            actor=user,
            amount=data["amount"],
            rate=data["rate"],
            term_months=data["term_months"],
            note=note,
        )
    elif action == "reject":
        services.application_reject(application=app, actor=user, reason=data["reason"], note=note)
    elif action == "sign":
        services.application_sign(
            application=app,
            actor=user,
            contract_no=data["contract_no"],
            signed_on=data["signed_on"],
        )
    elif action == "disburse":
        services.application_disburse(
            application=app,
            actor=user,
            amount=data["amount"],
            disbursed_on=data["disbursed_on"],
            loan_no=data.get("loan_no") or "",
        )
    elif action == "withdraw":
        services.application_withdraw(application=app, actor=user, note=note)
    elif loan is None:
        raise ConflictError("no_loan", _("该申请尚未放款"))
    elif action == "repay":
        services.loan_repayment_record(
            loan=loan, actor=user, amount=data["amount"], paid_on=data["paid_on"]
        )
    elif action == "default":
        services.loan_default_declare(loan=loan, actor=user, note=note)


@login_required
def application_new(request: HttpRequest, code: str) -> HttpResponse:
    """An enterprise applies to a product, authorising its institution in the same step."""
    user = request_user(request)
    entity = selectors.user_entity(user=user)
    if entity is None:
        return error_page(request, PermissionDeniedError("forbidden", _("仅企业用户可申请贷款")))
    try:
        product = selectors.product_published_get(code=code)
        demand = _own_demand(request, user)
        renewal_of = _own_loan(request, user)
    except SERVICE_ERRORS as exc:
        return error_page(request, exc)
    version = product.current_version
    assert version is not None
    initial: dict[str, Any] = {"term_months": version.term_min_months}
    if demand is not None:
        initial.update(amount=demand.amount, term_months=demand.term_months, purpose=demand.purpose)
    if renewal_of is not None:
        initial.update(
            amount=renewal_of.outstanding or renewal_of.principal,
            term_months=renewal_of.term_months,
            purpose=_("续贷"),
        )
    form = ApplicationForm(
        request.POST or None, version=version, renewal=renewal_of is not None, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            app = services.application_submit(
                actor=user,
                entity=entity,
                product=product,
                data=data,
                consent_scope=data["consent_scope"],
                consent_categories=data["consent_categories"],
                consent_days=data["consent_days"],
                demand=demand,
                renewal_of=renewal_of,
            )
        except SERVICE_ERRORS as exc:
            add_service_error(form, exc)
        else:
            messages.success(
                request,
                _("申请已提交，%(i)s 将在 %(d)s 天内受理")
                % {"i": product.institution.name, "d": version.days_to_accept},
            )
            return redirect("marketplace:application_detail", pk=app.pk)
    verdict = _verdicts(request, [product]).get(product.pk)
    return render(
        request,
        "marketplace/application_form.html",
        {
            "form": form,
            "product": product,
            "entity": entity,
            "demand": demand,
            "renewal_of": renewal_of,
            "verdict": verdict,
        },
    )


def _own_demand(request: HttpRequest, user: Any) -> Any:
    raw = request.GET.get("demand") or request.POST.get("demand")
    if not raw:
        return None
    pk = id_or_404(raw, message=_("融资需求不存在"))
    demand = selectors.demand_visible_get(user=user, pk=pk)
    if not selectors.demand_is_own(user=user, demand=demand):
        raise NotFoundError("not_found", _("融资需求不存在"))
    return demand


def _own_loan(request: HttpRequest, user: Any) -> Any:
    raw = request.GET.get("renewal") or request.POST.get("renewal")
    if not raw:
        return None
    pk = id_or_404(raw, message=_("贷款不存在"))
    return selectors.loan_visible_get(user=user, pk=pk)


@login_required
def application_list(request: HttpRequest) -> HttpResponse:
    """Applications the user may see: the enterprise's own, the institution's queue, or all."""
    user = request_user(request)
    status = request.GET.get("status") or None
    if status not in ApplicationStatus.values:
        status = None
    late = request.GET.get("late") == "1"
    qs = selectors.applications_visible(user=user, status=status, late_only=late)
    page = Paginator(qs, DEFAULT_PAGE_SIZE).get_page(request.GET.get("page"))
    counts = selectors.application_status_counts(user=user)
    return render(
        request,
        "marketplace/application_list.html",
        {
            "page": page,
            "status": status,
            "late": late,
            "statuses": [(s, label, counts.get(s, 0)) for s, label in ApplicationStatus.choices],
            "now": timezone.now(),
        },
    )


@login_required
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One application: progress, terms, timeline, loan and the actions the user may take."""
    user = request_user(request)
    try:
        app = selectors.application_visible_get(user=user, pk=pk)
    except SERVICE_ERRORS as exc:
        return error_page(request, exc)
    return _detail_page(request, app, user, forms_by_action={})


def _detail_page(
    request: HttpRequest, app: LoanApplication, user: Any, *, forms_by_action: dict[str, Any]
) -> HttpResponse:
    actions = []
    for t in actions_from(app.status):
        if t.action == "overdue" or not services.application_can(
            app=app, actor=user, action=t.action
        ):
            continue
        form = forms_by_action.get(t.action) or ACTION_FORMS[t.action](
            initial=_initial(t.action, app), prefix=t.action
        )
        actions.append((t, form))
    shown = {t.action for t, _f in actions}
    refused = [
        str(e)
        for action, form in forms_by_action.items()
        if action not in shown
        for e in form.non_field_errors()
    ]
    loan = selectors.loan_of(application=app)
    own = app.entity.organisation_id == user.organisation_id
    referral = (
        selectors.referral_candidates(application=app)
        if own and app.status == ApplicationStatus.REJECTED
        else []
    )
    stage = STAGE_OF.get(app.status, -1)
    return render(
        request,
        "marketplace/application_detail.html",
        {
            "app": app,
            "events": selectors.application_events(application=app),
            "actions": actions,
            "loan": loan,
            "instalments": loan.instalments.all() if loan else [],
            "repayments": loan.repayments.all() if loan else [],
            "stages": [(label, i < stage, i == stage) for i, (_s, label) in enumerate(STAGES)],
            "stopped": app.status in (ApplicationStatus.REJECTED, ApplicationStatus.WITHDRAWN),
            "late": app.sla_due_at is not None and app.sla_due_at < timezone.now(),
            "own": own,
            "institution_side": user.group == OrgGroup.INSTITUTION,
            "referral": referral,
            "referrals": app.referrals.select_related("institution"),
            "refused": refused,
        },
        status=400 if forms_by_action else 200,
    )


@login_required
@require_POST
def application_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Take one transition of the application (its form is prefixed with the action's name)."""
    user = request_user(request)
    try:
        app = selectors.application_visible_get(user=user, pk=pk)
    except SERVICE_ERRORS as exc:
        return error_page(request, exc)
    if action not in ACTION_FORMS:
        return error_page(request, NotFoundError("not_found", _("没有这个操作")))
    form = ACTION_FORMS[action](request.POST, prefix=action)
    if form.is_valid():
        try:
            _run_action(action, app, user, form.cleaned_data)
        except SERVICE_ERRORS as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("已%(a)s") % {"a": TRANSITIONS[action].label})
            return redirect("marketplace:application_detail", pk=pk)
    app.refresh_from_db()
    return _detail_page(request, app, user, forms_by_action={action: form})


@login_required
@require_POST
def application_refer(request: HttpRequest, pk: int) -> HttpResponse:
    """Pass a rejected application on to the chosen products of other institutions."""
    user = request_user(request)
    try:
        app = selectors.application_visible_get(user=user, pk=pk)
        ids = ids_parse(request.POST.getlist("products"), field="products", label=_("产品编号"))
        products = list(selectors.products_by_id(ids=ids).values())
        new = services.application_refer(application=app, actor=user, products=products)
    except SERVICE_ERRORS as exc:
        messages.error(request, error_payload(exc)[1]["message"])
        return redirect("marketplace:application_detail", pk=pk)
    messages.success(request, _("已转介给 %(n)s 家机构") % {"n": len(new)})
    return redirect("marketplace:application_detail", pk=pk)


# ================================================================ columns (issue 5)
# 首贷中心, 续贷中心, 小额贷款公司, 地方特色产品, 上市挂牌后备库. Selectors apply visibility and
# raise PermissionDeniedError with the reason; these views only pick the page for the user's side.


def _page(request: HttpRequest, qs: Any) -> Any:
    return Paginator(qs, DEFAULT_PAGE_SIZE).get_page(request.GET.get("page"))


def _querystring(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@login_required
def first_loan_centre(request: HttpRequest) -> HttpResponse:
    """首贷中心: products for a first loan (enterprise), or entities without loans (lenders and
    the operator)."""
    user = request_user(request)
    offer = selectors.first_loan_offer(user=user)
    if offer is not None:
        return render(request, "marketplace/first_loan.html", {"offer": offer})
    error, page = "", None
    try:
        filters = selectors.first_loan_filter_parse(request.GET)
        page = _page(request, selectors.first_loan_entities(user=user, filters=filters))
    except PermissionDeniedError as exc:
        return error_page(request, exc)
    except SERVICE_ERRORS as exc:
        error = error_payload(exc)[1]["message"]
    region = request.GET.get("region", "")
    return render(
        request,
        "marketplace/first_loan_entities.html",
        {
            "page": page,
            "error": error,
            "params": request.GET,
            "querystring": _querystring(request),
            "show_grade": selectors.sees_grades(user),
            "grades": selectors.GRADE_NAMES,
            "region_name": divisions.full_name(region) if region and not error else "",
        },
    )


@login_required
def renewal_centre(request: HttpRequest) -> HttpResponse:
    """续贷中心: loans maturing within 90 days, with renewal products (enterprise) or as a list
    to offer renewal to (institution, operator)."""
    user = request_user(request)
    today = timezone.localdate()
    entity = selectors.user_entity(user=user)
    if entity is None and not (selectors.is_lender_side(user) or selectors.sees_grades(user)):
        return error_page(
            request,
            PermissionDeniedError("forbidden", _("续贷中心仅对企业、放贷机构和平台运营方开放")),
        )
    page = _page(request, selectors.renewal_due_loans(user=user, today=today))
    loans = list(page.object_list)
    for loan in loans:
        loan.days_left = (loan.maturity_on - today).days
    options = selectors.renewal_options(entity=entity, loans=loans) if entity is not None else {}
    return render(
        request,
        "marketplace/renewal.html",
        {
            "page": page,
            "rows": [(loan, options.get(loan.pk, [])) for loan in loans],
            "is_enterprise": entity is not None,
            "horizon": RENEWAL_HORIZON_DAYS,
        },
    )


@login_required
def microloan_column(request: HttpRequest) -> HttpResponse:
    """小额贷款公司: their published products and the companies."""
    page = _page(request, selectors.microloan_products())
    rows = list(page.object_list)
    verdicts = _verdicts(request, rows)
    return render(
        request,
        "marketplace/microloan.html",
        {
            "page": page,
            "rows": [(p, verdicts.get(p.pk)) for p in rows],
            "companies": list(selectors.microloan_companies()),
            "is_enterprise": selectors.user_entity(user=request_user(request)) is not None,
        },
    )


@login_required
def local_specials(request: HttpRequest) -> HttpResponse:
    """地方特色产品: published products tagged with a local trade, grouped by tag."""
    groups = selectors.local_specials()
    products = list({p.pk: p for _tag, ps in groups for p in ps}.values())
    verdicts = _verdicts(request, products)
    return render(
        request,
        "marketplace/specials.html",
        {
            "groups": [(tag, [(p, verdicts.get(p.pk)) for p in ps]) for tag, ps in groups],
            "is_enterprise": selectors.user_entity(user=request_user(request)) is not None,
        },
    )


# ---------------------------------------------------------------- 上市挂牌后备库


def _reserve_forbidden(request: HttpRequest) -> HttpResponse:
    return error_page(
        request,
        PermissionDeniedError(
            "forbidden", _("上市挂牌后备库仅对平台运营方、投资机构和入库企业开放")
        ),
    )


@login_required
def capital_market(request: HttpRequest) -> HttpResponse:
    """The reserve database: all entries (operator), active ones to browse (investors), or the
    enterprise's own entry with the interests in it."""
    user = request_user(request)
    side = selectors.reserve_side(user)
    if not side:
        return _reserve_forbidden(request)
    if side == "enterprise":
        entry = selectors.reserve_own(user=user)
        return render(
            request,
            "marketplace/reserve_own.html",
            {
                "entry": entry,
                "interests": selectors.reserve_interests(user=user, candidate=entry)
                if entry
                else [],
                "events": selectors.reserve_events(user=user, candidate=entry) if entry else [],
                "intro_form": ReserveIntroForm(initial={"intro": entry.intro}) if entry else None,
            },
        )
    status = request.GET.get("status", "")
    if status not in ReserveStatus.values:
        status = ""
    page = _page(request, selectors.reserve_visible(user=user, status=status))
    return render(
        request,
        "marketplace/reserve_list.html",
        {
            "page": page,
            "side": side,
            "status": status,
            "statuses": ReserveStatus.choices,
            "querystring": _querystring(request),
            "my_interests": selectors.investor_interests(user=user)[:20]
            if side == "investor"
            else [],
        },
    )


@login_required
def reserve_screen(request: HttpRequest) -> HttpResponse:
    """The operator screens entities by criteria and adds the chosen ones to the reserve."""
    user = request_user(request)
    if not selectors.sees_grades(user):
        return error_page(
            request, PermissionDeniedError("forbidden", _("只有平台运营方可以筛选上市挂牌后备企业"))
        )
    data = request.POST if request.method == "POST" else request.GET
    form = ReserveCriteriaForm(data or None, initial={"min_grade": "A"})
    error, total = "", 0
    rows: list[selectors.ScreenRow] = []
    try:
        criteria = selectors.reserve_criteria_parse(data if data else {"min_grade": "A"})
    except SERVICE_ERRORS as exc:
        error = error_payload(exc)[1]["message"]
        criteria = None
    if request.method == "POST" and criteria is not None:
        added = 0
        try:
            ids = ids_parse(request.POST.getlist("entities"), field="entities", label=_("企业编号"))
            for entity in market_entity_visible(user=user).filter(pk__in=ids):
                services.reserve_add(
                    actor=user,
                    entity=entity,
                    criteria=criteria.as_dict(),
                    note=request.POST.get("note", ""),
                )
                added += 1
        except SERVICE_ERRORS as exc:
            messages.error(request, error_payload(exc)[1]["message"])
        if added:
            messages.success(request, _("已将 %(n)s 家企业纳入后备库") % {"n": added})
        return redirect(f"{request.path}?{request.POST.get('querystring', '')}")
    if criteria is not None:
        rows, total = selectors.reserve_screen(user=user, criteria=criteria)
    return render(
        request,
        "marketplace/reserve_screen.html",
        {
            "form": form,
            "error": error,
            "rows": rows,
            "total": total,
            "querystring": request.GET.urlencode(),
            "can_add": permissions.can(user, "marketplace.reserve_manage"),
        },
    )


@login_required
def reserve_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One reserve entry: registry information and the enterprise's introduction; investors may
    express interest; the operator also sees the criteria snapshot and the timeline."""
    user = request_user(request)
    side = selectors.reserve_side(user)
    if not side:
        return _reserve_forbidden(request)
    try:
        entry = selectors.reserve_get(user=user, pk=pk)
    except SERVICE_ERRORS as exc:
        return error_page(request, exc)
    return render(
        request,
        "marketplace/reserve_detail.html",
        {
            "entry": entry,
            "entity": entry.entity,
            "side": side,
            "industry": industries.get(entry.entity.industry_code),
            "region": divisions.full_name(entry.entity.division_code),
            "interests": selectors.reserve_interests(user=user, candidate=entry),
            "events": selectors.reserve_events(user=user, candidate=entry),
            "interest_form": InterestForm() if side == "investor" else None,
            "close_form": ReserveCloseForm()
            if side == "operator" and entry.status == ReserveStatus.ACTIVE
            else None,
        },
    )


@login_required
@require_POST
def reserve_close(request: HttpRequest, pk: int) -> HttpResponse:
    """The operator records that a reserve enterprise was listed, or removes it."""
    user = request_user(request)
    try:
        entry = selectors.reserve_get(user=user, pk=pk)
        form = ReserveCloseForm(request.POST)
        data = form.cleaned_data if form.is_valid() else {}
        services.reserve_close(
            actor=user,
            candidate=entry,
            status=str(data.get("status") or request.POST.get("status") or ""),
            note=str(data.get("note") or ""),
        )
    except SERVICE_ERRORS as exc:
        if isinstance(exc, NotFoundError | PermissionDeniedError):
            return error_page(request, exc)
        messages.error(request, error_payload(exc)[1]["message"])
    else:
        messages.success(request, _("后备库状态已变更"))
    return redirect("marketplace:reserve_detail", pk=pk)


@login_required
@require_POST
def reserve_interest(request: HttpRequest, pk: int) -> HttpResponse:
    """An investor expresses interest in a reserve enterprise."""
    user = request_user(request)
    try:
        entry = selectors.reserve_get(user=user, pk=pk)
        form = InterestForm(request.POST)
        note = form.cleaned_data["note"] if form.is_valid() else ""
        services.interest_express(actor=user, candidate=entry, note=note)
    except SERVICE_ERRORS as exc:
        if isinstance(exc, NotFoundError | PermissionDeniedError):
            return error_page(request, exc)
        messages.error(request, error_payload(exc)[1]["message"])
    else:
        messages.success(request, _("已表达投资意向，等待企业回复"))
    return redirect("marketplace:reserve_detail", pk=pk)


@login_required
@require_POST
def reserve_intro(request: HttpRequest) -> HttpResponse:
    """The enterprise updates what investors see about it."""
    user = request_user(request)
    entry = selectors.reserve_own(user=user)
    if entry is None:
        return error_page(request, NotFoundError("not_found", _("贵企业尚未纳入上市挂牌后备库")))
    form = ReserveIntroForm(request.POST)
    try:
        services.reserve_intro_update(actor=user, candidate=entry, intro=form.data.get("intro", ""))
    except SERVICE_ERRORS as exc:
        if isinstance(exc, PermissionDeniedError):
            return error_page(request, exc)
        messages.error(request, error_payload(exc)[1]["message"])
    else:
        messages.success(request, _("展示信息已更新"))
    return redirect("marketplace:capital_market")


@login_required
@require_POST
def interest_respond(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """The enterprise accepts or declines an investor's interest."""
    user = request_user(request)
    entry = selectors.reserve_own(user=user)
    interest = (
        selectors.reserve_interests(user=user, candidate=entry).filter(pk=pk).first()
        if entry is not None
        else None
    )
    if interest is None or action not in ("accept", "decline"):
        return error_page(request, NotFoundError("not_found", _("投资意向不存在")))
    try:
        services.interest_respond(
            actor=user,
            interest=interest,
            accept=action == "accept",
            note=request.POST.get("note", ""),
        )
    except SERVICE_ERRORS as exc:
        if isinstance(exc, PermissionDeniedError):
            return error_page(request, exc)
        messages.error(request, error_payload(exc)[1]["message"])
    else:
        messages.success(
            request, _("已接受投资意向") if action == "accept" else _("已婉拒投资意向")
        )
    return redirect("marketplace:capital_market")


@login_required
def financing_cases(request: HttpRequest) -> HttpResponse:
    """Direct-financing cases (everyone); the operator records new ones on the same page."""
    user = request_user(request)
    can_record = permissions.can(user, "marketplace.reserve_manage")
    investors = selectors.investor_organisations()
    form = FinancingCaseForm(request.POST or None, investors=investors)
    if request.method == "POST":
        if not can_record:
            return error_page(
                request,
                PermissionDeniedError("forbidden", _("只有平台运营管理员可以登记直接融资案例")),
            )
        if form.is_valid():
            data = dict(form.cleaned_data)
            uscc = data.pop("entity_uscc", "")
            try:
                data["entity"] = (
                    market_entity_visible(user=user).filter(uscc=uscc.strip().upper()).first()
                    if uscc
                    else None
                )
                if uscc and data["entity"] is None:
                    raise ValidationError(
                        {
                            "entity_uscc": _("未找到统一社会信用代码为 %(c)s 的市场主体")
                            % {"c": uscc}
                        }
                    )
                services.financing_case_record(actor=user, data=data)
            except SERVICE_ERRORS as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, _("直接融资案例已登记"))
                return redirect("marketplace:financing_cases")
    return render(
        request,
        "marketplace/financing_cases.html",
        {
            "page": _page(request, selectors.financing_cases()),
            "form": form if can_record else None,
        },
        status=400 if request.method == "POST" else 200,
    )
