"""Pages of the product supermarket: list, detail, compare; the institution's products; review."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from xinrong.accounts import permissions
from xinrong.accounts.auth import request_user
from xinrong.common import listing
from xinrong.common.errors import (
    SERVICE_ERRORS,
    ConflictError,
    PermissionDeniedError,
    error_payload,
)
from xinrong.common.forms import add_service_error
from xinrong.common.ids import ids_parse
from xinrong.common.pagination import paginate
from xinrong.common.templatetags.money import amount_text, money_range
from xinrong.enterprises.choices import EntityType
from xinrong.marketplace.choices import (
    PRODUCT_TAGS,
    CollateralMode,
    ProductStatus,
    ProductType,
    RepaymentMethod,
    VersionStatus,
)
from xinrong.marketplace.costs import cost_range
from xinrong.marketplace.forms import ProductForm
from xinrong.marketplace.models import Product
from xinrong.marketplace.rules import own_institution_user
from xinrong.marketplace.selectors import common as common_selectors
from xinrong.marketplace.selectors import products as product_selectors
from xinrong.marketplace.selectors.reputation import badged_institutions
from xinrong.marketplace.services import products as product_services
from xinrong.marketplace.views.common import _labels, _verdicts
from xinrong.marketplace.workflows import PRODUCT
from xinrong.reference import divisions

INSTITUTION_KIND_CHOICES = [
    ("bank", gettext_lazy("银行")),
    ("microloan", gettext_lazy("小额贷款公司")),
    ("guarantor", gettext_lazy("融资担保机构")),
    ("insurer", gettext_lazy("保险机构")),
]
SORT_CHOICES = [
    ("newest", gettext_lazy("最新上架")),
    ("rate", gettext_lazy("贷款利率从低到高（担保、保险按费率排在后面）")),
    ("amount", gettext_lazy("额度从高到低")),
    ("service", gettext_lazy("办理最快")),
]


def _product_search(request: HttpRequest) -> tuple[Any, Any, str]:
    """Return the filters, the published products they select (None on a bad value), the error."""
    try:
        filters = product_selectors.product_filter_parse(request.GET)
    except ValidationError as exc:
        return None, None, error_payload(exc)[1]["message"]
    return filters, product_selectors.product_search(filters=filters), ""


def _product_searched(f: Any) -> list[str]:
    """What the supermarket's filters select, in words (for the empty state)."""
    if f is None:
        return []
    out = []
    if f.q:
        out.append(_("关键词“%(q)s”") % {"q": f.q})
    if f.product_type:
        out.append(_("产品类型：%(v)s") % {"v": ProductType(f.product_type).label})
    if f.tag:
        out.append(_("标签：%(v)s") % {"v": f.tag})
    if f.institution_kind:
        out.append(
            _("机构类型：%(v)s") % {"v": dict(INSTITUTION_KIND_CHOICES).get(f.institution_kind)}
        )
    if f.amount is not None:
        out.append(_("融资金额 %(v)s") % {"v": amount_text(f.amount)})
    if f.term is not None:
        out.append(_("期限 %(v)s 个月") % {"v": f.term})
    if f.max_rate is not None:
        out.append(_("最高年利率 %(v)s%%") % {"v": f.max_rate})
    if f.region:
        out.append(_("所在地区：%(v)s") % {"v": divisions.full_name(f.region) or f.region})
    return out


@login_required
def product_list(request: HttpRequest) -> HttpResponse:
    """Browse, search, filter and sort published products; export what is found."""
    filters, qs, error = _product_search(request)
    page = paginate(request, qs if qs is not None else Product.objects.none())
    rows = list(page.object_list)
    verdicts = _verdicts(request, rows)
    badged = badged_institutions({p.institution_id for p in rows})  # 优质服务机构 (评价)
    for p in rows:
        p.verdict = verdicts.get(p.pk)
        p.badge = p.institution_id in badged
    region = request.GET.get("region", "")
    searched = [k for k in request.GET if k not in ("page", "sort", "size") and request.GET[k]]
    empty = {
        "is_filtered": bool(searched),
        "active": _product_searched(filters),
        "noun": _("产品"),
    }
    return render(
        request,
        "marketplace/product_list.html",
        {
            "page": page,
            "rows": rows,
            "error": error,
            "empty": empty,
            "params": request.GET,
            "types": ProductType.choices,
            "tags": PRODUCT_TAGS,
            "kinds": INSTITUTION_KIND_CHOICES,
            "sorts": SORT_CHOICES,
            "region_name": divisions.full_name(region) if region else "",
            "is_enterprise": common_selectors.user_entity(user=request_user(request)) is not None,
        },
    )


PRODUCT_COLUMNS = [
    listing.Column(gettext_lazy("产品代码"), listing.attr("code"), 16),
    listing.Column(gettext_lazy("产品名称"), listing.attr("name"), 24),
    listing.Column(gettext_lazy("机构"), listing.attr("institution.name"), 22),
    listing.Column(gettext_lazy("产品类型"), listing.display("current_version.product_type")),
    listing.Column(gettext_lazy("最低额度（元）"), listing.attr("current_version.amount_min")),
    listing.Column(gettext_lazy("最高额度（元）"), listing.attr("current_version.amount_max")),
    listing.Column(gettext_lazy("最短期限（月）"), listing.attr("current_version.term_min_months")),
    listing.Column(gettext_lazy("最长期限（月）"), listing.attr("current_version.term_max_months")),
    listing.Column(gettext_lazy("最低年利率（%）"), listing.attr("current_version.rate_min")),
    listing.Column(gettext_lazy("最高年利率（%）"), listing.attr("current_version.rate_max")),
    listing.Column(gettext_lazy("受理时限（天）"), listing.attr("current_version.days_to_accept")),
    listing.Column(gettext_lazy("审批时限（天）"), listing.attr("current_version.days_to_decide")),
    listing.Column(gettext_lazy("标签"), lambda p: "、".join(p.current_version.tags or []), 20),
]


@login_required
def product_list_export(request: HttpRequest) -> HttpResponseBase:
    """The supermarket's products as Excel: the same filters and order as the page."""
    _filters, qs, error = _product_search(request)
    if qs is None:
        messages.error(request, error)
        return redirect("marketplace:list")
    return listing.xlsx_export(
        listing.query_rows(qs.select_related("institution", "current_version")),
        PRODUCT_COLUMNS,
        title=_("金融产品"),
        filename=_("金融产品"),
        fallback="products",
    )


def _fee_label(product: Product) -> str:
    return _("保费率") if product.institution.kind == "insurer" else _("担保费率")


def _rate_text(product: Product) -> str:
    v = product.current_version
    assert v is not None
    if v.product_type == ProductType.GUARANTEE:
        return _("%(l)s（年化）%(lo)s%% – %(hi)s%%") % {
            "l": _fee_label(product),
            "lo": v.rate_min,
            "hi": v.rate_max,
        }
    return _("年利率 %(lo)s%% – %(hi)s%%") % {"lo": v.rate_min, "hi": v.rate_max}


def _range(low: Decimal, high: Decimal) -> str:
    return f"{low}%" if low == high else f"{low}% – {high}%"


def _cost_text(product: Product) -> str:
    """综合融资成本 (``costs``): the loan alone and with the cheapest fitting guarantee or
    insurance it accepts; for a guarantee product, what it adds to a loan's interest."""
    v = product.current_version
    assert v is not None
    if v.product_type == ProductType.GUARANTEE:
        return _("所搭配贷款的年利率 ＋ %(l)s %(r)s（其他费用按 0 计）") % {
            "l": _fee_label(product),
            "r": _range(v.rate_min, v.rate_max),
        }
    alone = cost_range(rate_min=v.rate_min, rate_max=v.rate_max)
    combos = product_selectors.enhancements_for(version=v)
    modes = set(v.collateral_modes or [])
    needs = bool(modes) and modes <= {"guarantee_company", "insurance"}
    # a loan that lends only with a guarantee or insurance has no cost without its fee
    parts = [] if needs and combos else [_("仅贷款 %(r)s") % {"r": _range(alone.low, alone.high)}]
    for g, _kind in combos:
        gv = g.current_version
        assert gv is not None
        c = cost_range(
            rate_min=v.rate_min, rate_max=v.rate_max, fee_min=gv.rate_min, fee_max=gv.rate_max
        )
        parts.append(
            _("搭配“%(n)s”（%(l)s %(f)s）%(r)s")
            % {
                "n": g.name,
                "l": _fee_label(g),
                "f": _range(gv.rate_min, gv.rate_max),
                "r": _range(c.low, c.high),
            }
        )
    return "；".join(parts) + _("（其他费用按 0 计）")


def _terms_table(product: Product) -> list[tuple[str, str]]:
    v = product.current_version
    assert v is not None
    any_ = _("不限")
    return [
        (_("产品类型"), str(v.get_product_type_display())),
        (_("额度"), money_range(v.amount_min, v.amount_max)),
        (_("期限"), f"{v.term_min_months} – {v.term_max_months} 个月"),
        (_("年利率或费率"), _rate_text(product)),
        (_("综合融资成本（年化）"), _cost_text(product)),
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
    product = product_selectors.product_published_get(code=code)
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
        products = product_selectors.products_compare(ids=_compare_ids(request))
    except ValidationError as exc:
        error = error_payload(exc)[1]["message"]
    verdicts = _verdicts(request, products)
    columns = [(p, _terms_table(p), verdicts.get(p.pk)) for p in products]
    labels = [label for label, _v in columns[0][1]] if columns else []
    rows = [(label, [c[1][i][1] for c in columns]) for i, label in enumerate(labels)]
    return render(
        request,
        "marketplace/compare.html",
        {
            "columns": columns,
            "rows": rows,
            "error": error,
            "limit": product_selectors.COMPARE_LIMIT,
        },
    )


# ---------------------------------------------------------------- institution and operator


MY_PRODUCT_FILTERS = (
    listing.SearchFilter(
        "q",
        gettext_lazy("关键词"),
        ["name__icontains", "code__icontains"],
        placeholder=gettext_lazy("产品名称或代码"),
    ),
    listing.ChoiceFilter("status", gettext_lazy("状态"), ProductStatus.choices),
    listing.ChoiceFilter(
        "type", gettext_lazy("产品类型"), ProductType.choices, "current_version__product_type"
    ),
    listing.DateRangeFilter("updated", gettext_lazy("更新日期"), "updated_at"),
)

MY_PRODUCT_COLUMNS = [
    listing.Column(gettext_lazy("产品代码"), listing.attr("code"), 16),
    listing.Column(gettext_lazy("产品名称"), listing.attr("name"), 24),
    listing.Column(gettext_lazy("状态"), listing.display("status")),
    listing.Column(gettext_lazy("生效版本"), listing.attr("current_version.number")),
    listing.Column(gettext_lazy("待发布版本"), listing.attr("draft_version.number")),
    listing.Column(gettext_lazy("待发布版本状态"), listing.display("draft_version.status")),
    *PRODUCT_COLUMNS[3:10],
    listing.Column(gettext_lazy("更新时间"), listing.attr("updated_at"), 18),
]


def _my_products(request: HttpRequest) -> Any:
    user = request_user(request)
    if not permissions.can(user, "marketplace.product_manage"):
        raise PermissionDeniedError("forbidden", _("仅金融机构可用"))
    return product_selectors.institution_products(user=user)


@login_required
def my_products(request: HttpRequest) -> HttpResponse:
    """The institution's products in every status, filtered and exportable."""
    lst = listing.list_build(
        request,
        _my_products(request),
        MY_PRODUCT_FILTERS,
        noun=_("产品"),
        export_url=reverse("marketplace:mine_export"),
    )
    return render(request, "marketplace/my_products.html", {"listing": lst, "page": lst.page})


@login_required
def my_products_export(request: HttpRequest) -> HttpResponseBase:
    """The institution's products as Excel (the same filters as the list)."""
    qs = _my_products(request)
    qs = listing.list_filter(request, qs, MY_PRODUCT_FILTERS).apply(qs)
    return listing.xlsx_export(
        listing.query_rows(qs),
        MY_PRODUCT_COLUMNS,
        title=_("我的产品"),
        filename=_("我的产品"),
        fallback="my-products",
    )


@login_required
def product_new(request: HttpRequest) -> HttpResponse:
    """Create a draft product."""
    user = request_user(request)
    permissions.require(user, "marketplace.product_manage")
    form = ProductForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            product = product_services.product_create(
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
    product = product_selectors.product_visible_get(user=user, pk=pk)
    base = product.draft_version or product.current_version
    initial = ProductForm.initial_from(base) if base else {}
    form = ProductForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            version = product_services.product_update(
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
    product = product_selectors.product_visible_get(user=user, pk=pk)
    own = bool(own_institution_user.test(user, product))
    draft = product.draft_version
    may = {a.name for a in PRODUCT.available(user, product)}
    return render(
        request,
        "marketplace/product_manage.html",
        {
            "product": product,
            "versions": list(product_selectors.product_versions(product=product)),
            "events": list(product_selectors.product_events(product=product)),
            "own": own,
            # the buttons: what the workflow lets this user do, and a version to do it to
            "can_review": bool(may & {"approve", "approve_version"})
            and draft is not None
            and draft.status == VersionStatus.IN_REVIEW,
            "can_submit": bool(may & {"submit", "submit_version"})
            and draft is not None
            and draft.status == VersionStatus.DRAFT,
            "can_withdraw": "withdraw" in may,
        },
    )


ACTIONS = {
    "submit": lambda p, u, note: product_services.product_submit(product=p, actor=u, note=note),
    "approve": lambda p, u, note: product_services.product_approve(product=p, actor=u, note=note),
    "return": lambda p, u, note: product_services.product_return(product=p, actor=u, reason=note),
    "withdraw": lambda p, u, note: product_services.product_withdraw(product=p, actor=u, note=note),
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
        raise ConflictError("bad_action", _("未知操作"))
    try:
        product = product_selectors.product_visible_get(user=user, pk=pk)
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
        raise PermissionDeniedError("forbidden", _("仅平台运营管理员可用"))
    rows = list(product_selectors.review_queue(user=user)[:500])
    return render(request, "marketplace/review_queue.html", {"rows": rows})
