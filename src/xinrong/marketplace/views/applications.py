"""Pages of loan applications: apply, list, detail with the progress bar, actions, referral."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from xinrong.accounts.auth import request_user
from xinrong.accounts.choices import OrgGroup
from xinrong.accounts.models import Organisation
from xinrong.accounts.permissions import is_institution
from xinrong.common import listing
from xinrong.common.errors import (
    SERVICE_ERRORS,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
)
from xinrong.common.forms import add_service_error
from xinrong.common.ids import id_or_404
from xinrong.enterprises.listing import RegionFilter
from xinrong.marketplace.choices import (
    PENDING_STATUSES,
    PRODUCT_KINDS,
    ApplicationStatus,
    ProductType,
)
from xinrong.marketplace.forms import (
    ApplicationForm,
    ApproveForm,
    DefaultForm,
    DisburseForm,
    NoteForm,
    ReferForm,
    RejectForm,
    RepayForm,
    SignForm,
)
from xinrong.marketplace.models import LoanApplication
from xinrong.marketplace.rules import own_enterprise_user
from xinrong.marketplace.selectors import applications as application_selectors
from xinrong.marketplace.selectors import centres as centre_selectors
from xinrong.marketplace.selectors import common as common_selectors
from xinrong.marketplace.selectors import demands as demand_selectors
from xinrong.marketplace.selectors import loans as loan_selectors
from xinrong.marketplace.selectors import products as product_selectors
from xinrong.marketplace.selectors import subsidies as subsidy_selectors
from xinrong.marketplace.selectors import workbench as workbench_selectors
from xinrong.marketplace.services import applications as application_services
from xinrong.marketplace.services import loans as loan_services
from xinrong.marketplace.views.common import _verdicts
from xinrong.marketplace.views.guarantees import guarantee_context
from xinrong.marketplace.workflows import APPLICATION

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
    loan = loan_selectors.loan_of(application=app)
    if action == "accept":
        application_services.application_accept(application=app, actor=user, note=note)
    elif action == "review":
        application_services.application_review_start(application=app, actor=user, note=note)
    elif action == "approve":
        application_services.application_approve(
            application=app,
            actor=user,
            amount=data["amount"],
            rate=data["rate"],
            term_months=data["term_months"],
            note=note,
        )
    elif action == "reject":
        application_services.application_reject(
            application=app, actor=user, reason=data["reason"], note=note
        )
    elif action == "sign":
        application_services.application_sign(
            application=app,
            actor=user,
            contract_no=data["contract_no"],
            signed_on=data["signed_on"],
        )
    elif action == "disburse":
        loan_services.application_disburse(
            application=app,
            actor=user,
            amount=data["amount"],
            disbursed_on=data["disbursed_on"],
            loan_no=data.get("loan_no") or "",
        )
    elif action == "withdraw":
        application_services.application_withdraw(application=app, actor=user, note=note)
    elif loan is None:
        raise ConflictError("no_loan", _("该申请尚未放款"))
    elif action == "repay":
        loan_services.loan_repayment_record(
            loan=loan, actor=user, amount=data["amount"], paid_on=data["paid_on"]
        )
    elif action == "default":
        loan_services.loan_default_declare(loan=loan, actor=user, note=note)


@login_required
def application_new(request: HttpRequest, code: str) -> HttpResponse:
    """An enterprise applies to a product, authorising its institution in the same step."""
    user = request_user(request)
    entity = common_selectors.user_entity(user=user)
    if entity is None:
        raise PermissionDeniedError("forbidden", _("仅企业用户可申请贷款"))
    product = product_selectors.product_published_get(code=code)
    demand = _own_demand(request, user)
    renewal_of = _own_loan(request, user)
    version = product.current_version
    assert version is not None
    initial: dict[str, Any] = {"term_months": version.term_min_months}
    if demand is not None:
        initial.update(amount=demand.amount, term_months=demand.term_months, purpose=demand.purpose)
    if renewal_of is not None:
        amount, term = centre_selectors.renewal_prefill(renewal_of, version)
        initial.update(amount=amount, term_months=term, purpose=_("续贷"))
    form = ApplicationForm(
        request.POST or None, version=version, renewal=renewal_of is not None, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            app = application_services.application_submit(
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
    demand = demand_selectors.demand_visible_get(user=user, pk=pk)
    if not demand_selectors.demand_is_own(user=user, demand=demand):
        raise NotFoundError("not_found", _("融资需求不存在"))
    return demand


def _own_loan(request: HttpRequest, user: Any) -> Any:
    raw = request.GET.get("renewal") or request.POST.get("renewal")
    if not raw:
        return None
    pk = id_or_404(raw, message=_("贷款不存在"))
    return loan_selectors.loan_visible_get(user=user, pk=pk)


def _application_filters(user: Any) -> list[listing.Filter]:
    """The filters of the applications list; the institution filter is for those seeing many."""
    enterprise = user.group == OrgGroup.ENTERPRISE
    out: list[listing.Filter] = [
        listing.SearchFilter(
            "q",
            _("关键词"),
            [
                "number__icontains",
                "entity__name__icontains",
                "entity__uscc__iexact",
                "product__name__icontains",
                "loan__number__iexact",
                "contract_no__iexact",
            ],
            placeholder=_("申请编号、企业名称、信用代码或产品"),
        ),
        listing.ChoiceFilter("status", _("状态"), ApplicationStatus.choices),
        listing.ChoiceFilter(
            "type", _("产品类型"), ProductType.choices, "product_version__product_type"
        ),
        listing.DateRangeFilter("submitted", _("提交日期"), "submitted_at"),
        listing.AmountRangeFilter("amount", _("申请金额（元）"), "amount"),
        listing.BooleanFilter("balance", _("仅看有贷款余额的"), Q(loan__outstanding__gt=0)),
        # the enterprise workbench's "进行中的申请与贷款" links here: the same statuses
        listing.BooleanFilter(
            "open", _("仅看进行中的"), Q(status__in=workbench_selectors.ENTERPRISE_OPEN)
        ),
        listing.BooleanFilter(
            "late",
            _("超时未办"),
            lambda: Q(status__in=PENDING_STATUSES, sla_due_at__lt=timezone.now()),
        ),
    ]
    if not is_institution.test(user):
        out.insert(
            2,
            listing.ChoiceFilter(
                "institution",
                _("机构"),
                lambda: (
                    Organisation.objects.filter(kind__in=PRODUCT_KINDS)
                    .order_by("name")
                    .values_list("pk", "name")
                ),
                "institution_id",
            ),
        )
    if not enterprise:
        out.insert(2, RegionFilter("region", _("企业所在地区"), "entity__division_code"))
    return out


def _applications_filtered(request: HttpRequest) -> tuple[Any, listing.FilterSet]:
    user = request_user(request)
    qs = application_selectors.applications_visible(user=user).select_related("loan")
    fs = listing.list_filter(request, qs, _application_filters(user))
    return fs.apply(qs), fs


APPLICATION_SUMS = {
    "amount": gettext_lazy("申请金额合计"),
    "loan__principal": gettext_lazy("放款金额合计"),
    "loan__outstanding": gettext_lazy("贷款余额合计"),
}


@login_required
def application_list(request: HttpRequest) -> HttpResponse:
    """Applications the user may see: the enterprise's own, the institution's queue, or all;
    filtered, totalled over the filtered set, paged, exportable."""
    user = request_user(request)
    qs = application_selectors.applications_visible(user=user).select_related("loan")
    lst = listing.list_build(
        request,
        qs,
        _application_filters(user),
        noun=_("贷款申请"),
        sums=APPLICATION_SUMS,
        export_url=reverse("marketplace:applications_export"),
    )
    counts = application_selectors.application_status_counts(user=user)
    return render(
        request,
        "marketplace/application_list.html",
        {
            "listing": lst,
            "page": lst.page,
            "status": lst.filterset.values.get("status"),
            "late": bool(lst.filterset.values.get("late")),
            "statuses": [(s, label, counts.get(s, 0)) for s, label in ApplicationStatus.choices],
            "now": timezone.now(),
        },
    )


APPLICATION_COLUMNS = [
    listing.Column(gettext_lazy("申请编号"), listing.attr("number"), 20),
    listing.Column(gettext_lazy("提交时间"), listing.attr("submitted_at"), 18),
    listing.Column(gettext_lazy("申请主体"), listing.attr("entity.name"), 28),
    listing.Column(gettext_lazy("统一社会信用代码"), listing.attr("entity.uscc"), 20),
    listing.Column(gettext_lazy("产品"), listing.attr("product.name"), 22),
    listing.Column(gettext_lazy("产品类型"), listing.display("product_version.product_type")),
    listing.Column(gettext_lazy("机构"), listing.attr("institution.name"), 22),
    listing.Column(gettext_lazy("申请金额（元）"), listing.attr("amount")),
    listing.Column(gettext_lazy("申请期限（月）"), listing.attr("term_months")),
    listing.Column(gettext_lazy("状态"), listing.display("status")),
    listing.Column(gettext_lazy("批准金额（元）"), listing.attr("approved_amount")),
    listing.Column(gettext_lazy("批准年利率（%）"), listing.attr("approved_rate")),
    listing.Column(gettext_lazy("签约日期"), listing.attr("contract_signed_on")),
    listing.Column(gettext_lazy("贷款编号"), lambda a: _loan(a) and _loan(a).number, 20),
    listing.Column(gettext_lazy("放款金额（元）"), lambda a: _loan(a) and _loan(a).principal),
    listing.Column(gettext_lazy("放款日期"), lambda a: _loan(a) and _loan(a).disbursed_on),
    listing.Column(gettext_lazy("贷款余额（元）"), lambda a: _loan(a) and _loan(a).outstanding),
    listing.Column(gettext_lazy("逾期天数"), lambda a: _loan(a) and _loan(a).overdue_days),
    listing.Column(gettext_lazy("当前环节时限"), listing.attr("sla_due_at"), 18),
]


def _loan(app: LoanApplication) -> Any:
    try:
        return app.loan
    except ObjectDoesNotExist:
        return None


@login_required
def application_export(request: HttpRequest) -> HttpResponseBase:
    """The applications list as Excel: the same visibility and filters as the list."""
    qs, _fs = _applications_filtered(request)
    return listing.xlsx_export(
        listing.query_rows(qs),
        APPLICATION_COLUMNS,
        title=_("贷款申请"),
        filename=_("贷款申请"),
        fallback="applications",
    )


@login_required
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One application: progress, terms, timeline, loan and the actions the user may take."""
    user = request_user(request)
    app = application_selectors.application_visible_get(user=user, pk=pk)
    return _detail_page(request, app, user, forms_by_action={})


def _detail_page(
    request: HttpRequest,
    app: LoanApplication,
    user: Any,
    *,
    forms_by_action: dict[str, Any],
    refer_form: ReferForm | None = None,
) -> HttpResponse:
    actions = []
    for a in APPLICATION.available(user, app):
        if a.name not in ACTION_FORMS:  # taken elsewhere (overdue: the sweep; refer: below)
            continue
        form = forms_by_action.get(a.name) or ACTION_FORMS[a.name](
            initial=_initial(a.name, app), prefix=a.name
        )
        actions.append((a, form))
    shown = {a.name for a, _f in actions}
    refused = [
        str(e)
        for action, form in forms_by_action.items()
        if action not in shown
        for e in form.non_field_errors()
    ]
    loan = loan_selectors.loan_of(application=app)
    own = bool(own_enterprise_user.test(user, app))
    referral = (
        application_selectors.referral_candidates(application=app)
        if own and app.status == ApplicationStatus.REJECTED
        else []
    )
    stage = STAGE_OF.get(app.status, -1)
    return render(
        request,
        "marketplace/application_detail.html",
        {
            "app": app,
            "events": application_selectors.application_events(application=app),
            "actions": actions,
            "loan": loan,
            "position": loan_selectors.loan_position(loan, timezone.localdate()) if loan else None,
            "repayments": loan.repayments.all() if loan else [],
            "loan_cost": subsidy_selectors.loan_cost_of(loan=loan) if loan else None,
            "subsidies": subsidy_selectors.loan_subsidies(loan=loan) if loan else [],
            "stages": [(label, i < stage, i == stage) for i, (_s, label) in enumerate(STAGES)],
            "stopped": app.status in (ApplicationStatus.REJECTED, ApplicationStatus.WITHDRAWN),
            "late": app.sla_due_at is not None and app.sla_due_at < timezone.now(),
            "own": own,
            "institution_side": bool(is_institution.test(user)),
            "referral": referral,
            "refer_form": refer_form
            or (ReferForm(products=referral, prefix="refer") if referral else None),
            "referrals": app.referrals.select_related("institution"),
            "refused": refused,
            **guarantee_context(user, app),
        },
        status=400 if forms_by_action or refer_form is not None else 200,
    )


@login_required
@require_POST
def application_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Take one transition of the application (its form is prefixed with the action's name)."""
    user = request_user(request)
    app = application_selectors.application_visible_get(user=user, pk=pk)
    if action not in ACTION_FORMS:
        raise NotFoundError("not_found", _("没有这个操作"))
    form = ACTION_FORMS[action](request.POST, prefix=action)
    if form.is_valid():
        try:
            _run_action(action, app, user, form.cleaned_data)
        except SERVICE_ERRORS as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("已%(a)s") % {"a": APPLICATION.action(action).label})
            return redirect("marketplace:application_detail", pk=pk)
    app.refresh_from_db()
    return _detail_page(request, app, user, forms_by_action={action: form})


@login_required
@require_POST
def application_refer(request: HttpRequest, pk: int) -> HttpResponse:
    """Pass a rejected application on to the products, with the authorisation scope, the
    enterprise chose and confirmed; a form error shows the detail page again with it."""
    user = request_user(request)
    app = application_selectors.application_visible_get(user=user, pk=pk)
    if not own_enterprise_user.test(user, app) or app.status != ApplicationStatus.REJECTED:
        messages.error(request, _("只有未获批准的申请可以由本企业转介给其他机构"))
        return redirect("marketplace:application_detail", pk=pk)
    candidates = application_selectors.referral_candidates(application=app)
    form = ReferForm(request.POST, products=candidates, prefix="refer")
    if form.is_valid():
        data = form.cleaned_data
        try:
            products = list(product_selectors.products_by_id(ids=data["products"]).values())
            new = application_services.application_refer(
                application=app,
                actor=user,
                products=products,
                consent_scope=data["consent_scope"],
                consent_categories=data["consent_categories"],
                consent_days=data["consent_days"],
            )
        except SERVICE_ERRORS as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("已转介给 %(n)s 家机构") % {"n": len(new)})
            return redirect("marketplace:application_detail", pk=pk)
    return _detail_page(request, app, user, forms_by_action={}, refer_form=form)
