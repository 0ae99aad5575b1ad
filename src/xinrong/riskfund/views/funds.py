"""Pages of the risk fund: the hub, funds, their ledger; injections, adjustments, reversals."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from xinrong.accounts.auth import request_user
from xinrong.accounts.permissions import can, require
from xinrong.common import listing
from xinrong.common.errors import SERVICE_ERRORS, PermissionDeniedError, error_payload
from xinrong.common.forms import add_service_error
from xinrong.enterprises.choices import EntityType
from xinrong.reference.choices import SizeClass
from xinrong.riskfund import eligibility
from xinrong.riskfund.choices import Account, EntryKind, LoanKind
from xinrong.riskfund.forms.funds import AdjustmentForm, FundForm, InjectionForm, ReverseForm
from xinrong.riskfund.models import Fund, LedgerEntry, RuleSet
from xinrong.riskfund.selectors import funds as selectors
from xinrong.riskfund.services import funds as services

LATEST = 10

# The hub's links to the other parts of the app: (permission, URL name, label, icon). A link is
# shown when its permission is declared and granted and its page exists.
HUB_LINKS: list[tuple[str, str, Any, str]] = [
    ("riskfund.claim_view", "riskfund:claims", gettext_lazy("补偿申请"), "bi-file-earmark-text"),
    ("riskfund.claim_queue", "riskfund:claim_queue", gettext_lazy("待我审批"), "bi-inbox"),
    ("riskfund.claim_file", "riskfund:claim_new", gettext_lazy("申请补偿"), "bi-plus-circle"),
    ("riskfund.claim_stats", "riskfund:claim_stats", gettext_lazy("补偿统计"), "bi-bar-chart"),
    ("riskfund.breaker_view", "riskfund:breakers", gettext_lazy("熔断监测"), "bi-speedometer"),
    (
        "riskfund.breaker_own",
        "riskfund:my_breaker",
        gettext_lazy("本机构熔断状态"),
        "bi-speedometer2",
    ),
    ("riskfund.payouts_view", "riskfund:payouts", gettext_lazy("担保代偿"), "bi-shield-check"),
    (
        "riskfund.simulation_view",
        "riskfund:simulator",
        gettext_lazy("资金充足性测算"),
        "bi-calculator",
    ),
]


def _url(name: str, *args: Any) -> str:
    return reverse(name, args=args)


def _may(user: Any, perm: str, obj: Any = None) -> bool:
    return can(user, perm, obj)


def hub_links(user: Any) -> list[dict[str, str]]:
    """The links of the hub the user may follow."""
    out = []
    seen: set[str] = set()
    for perm, name, label, icon in HUB_LINKS:
        url = _url(name)
        if url and url not in seen and _may(user, perm):
            seen.add(url)
            out.append({"url": url, "label": str(label), "icon": icon, "name": name})
    return out


def _fund_links(user: Any, fund: Fund) -> dict[str, str]:
    return {
        "ledger": _url("riskfund:fund_ledger", fund.code),
        "rules": _url("riskfund:rules", fund.code) if _may(user, "riskfund.rules_view") else "",
    }


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The hub 风险补偿: the funds the user sees with their figures, and links per permission."""
    user = request_user(request)
    links = hub_links(user)
    sees_funds = can(user, "riskfund.fund_view")
    if not sees_funds and not links:
        raise PermissionDeniedError("forbidden", _("您无权查看风险补偿基金"))
    funds = list(selectors.funds_visible(user=user)) if sees_funds else []
    summaries = selectors.fund_summaries(funds)
    rows = [{"summary": summaries[f.pk], "links": _fund_links(user, f), "fund": f} for f in funds]
    return render(
        request,
        "riskfund/funds/home.html",
        {
            "rows": rows,
            "totals": selectors.hub_totals(summaries.values()),
            "year": timezone.localdate().year,
            "links": links,
            "sees_funds": sees_funds,
            "may_create": can(user, "riskfund.fund_manage"),
        },
    )


@login_required
def fund_new(request: HttpRequest) -> HttpResponse:
    """An operator administrator sets up a fund; every problem is shown at once."""
    user = request_user(request)
    require(user, "riskfund.fund_manage")
    form = FundForm(request.POST or None, initial={"opened_on": timezone.localdate()})
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            try:
                fund = services.fund_create(actor=user, **data)
            except SERVICE_ERRORS as exc:
                add_service_error(form, exc)
                status = error_payload(exc)[0]
            else:
                messages.success(request, _("基金已设立，请财政部门登记注资"))
                return redirect("riskfund:fund_detail", code=fund.code)
    return render(request, "riskfund/funds/new.html", {"form": form}, status=status)


def _detail_context(request: HttpRequest, fund: Fund, **forms_: forms.Form) -> dict[str, Any]:
    user = request_user(request)
    today = timezone.localdate()
    latest = list(selectors.ledger_entries(user=user, fund=fund)[:LATEST])
    may_post = can(user, "riskfund.fund_post", fund)
    history = selectors.balance_by_month(fund, today=today)
    return {
        "fund": fund,
        "summary": selectors.fund_summary(fund, today=today),
        "history": history,
        "chart": {
            "months": [h["month"] for h in history],
            "balance": [str(h["balance"]) for h in history],
            "inflow": [str(h["inflow"]) for h in history],
            "outflow": [str(h["outflow"]) for h in history],
            "labels": {
                "balance": _("月末余额"),
                "inflow": _("当月流入"),
                "outflow": _("当月流出"),
                "unit": _("元"),
                "wan": _("万"),
                "yi": _("亿"),
            },
        },
        "latest": _entry_rows(fund, latest, user, may_post),
        "rules": _rules_summary(eligibility.rules_in_force(fund, today)),
        "links": _fund_links(user, fund),
        "may_post": may_post,
        "inject_form": forms_.get("inject_form") or InjectionForm(auto_id="inject_%s"),
        "adjust_form": forms_.get("adjust_form") or AdjustmentForm(auto_id="adjust_%s"),
        "open_form": next(iter(forms_), ""),
        "region_name": _region_name(fund.division_code),
    }


def _labels(choices: Any, values: list[str]) -> str:
    names = dict(choices.choices)
    return "、".join(str(names.get(v, v)) for v in values)


def _rules_summary(rules: RuleSet | None) -> dict[str, Any] | None:
    """The rule set in force in words (for the fund page's card)."""
    if rules is None:
        return None
    share = eligibility.Coverage(covered=True, fund=None, rule_set=None, share=rules.gov_share)
    return {
        "rules": rules,
        "cap_wan": eligibility.wan(rules.loan_cap),
        "share": share.share_text,
        "entity_types": _labels(EntityType, rules.entity_types),
        "sizes": _labels(SizeClass, rules.sizes),
        "loan_kinds": _labels(LoanKind, rules.loan_kinds),
        "year_cap_wan": (
            eligibility.wan(rules.institution_year_cap)
            if rules.institution_year_cap is not None
            else ""
        ),
    }


def _region_name(prefix: str) -> str:
    from xinrong.reference import divisions

    return divisions.full_name(prefix.ljust(6, "0")) or prefix


def _lines_text(entry: LedgerEntry) -> list[dict[str, Any]]:
    names = dict(Account.choices)
    return [
        {
            "side": _("借") if line.debit else _("贷"),
            "account": names.get(line.account, line.account),
            "amount": line.debit or line.credit,
        }
        for line in entry.lines.all()
    ]


def _entry_rows(
    fund: Fund, entries: list[LedgerEntry], user: Any, may_post: bool
) -> list[dict[str, Any]]:
    after = selectors.balances_after(fund, entries)
    return [
        {
            "entry": e,
            "lines": _lines_text(e),
            "balance": after.get(e.pk),
            "reversible": may_post and selectors.entry_reversible(e),
        }
        for e in entries
    ]


@login_required
def fund_detail(request: HttpRequest, code: str) -> HttpResponse:
    """A fund: figures, balance by month, latest entries, rules in force, finance's forms."""
    user = request_user(request)
    fund = selectors.fund_get(user=user, code=code)
    return render(request, "riskfund/funds/detail.html", _detail_context(request, fund))


def _post_form(
    request: HttpRequest, code: str, form_class: type[forms.Form], key: str, run: Any, done: str
) -> HttpResponse:
    user = request_user(request)
    fund = selectors.fund_get(user=user, code=code)
    require(user, "riskfund.fund_post", fund)
    form = form_class(request.POST, auto_id=f"{key.split('_')[0]}_%s")
    status = 422
    if form.is_valid():
        try:
            entry = run(user, fund, form.cleaned_data)
        except SERVICE_ERRORS as exc:
            add_service_error(form, exc)
            status = error_payload(exc)[0]
        else:
            messages.success(request, done % {"n": entry.number})
            return redirect("riskfund:fund_detail", code=fund.code)
    return render(
        request,
        "riskfund/funds/detail.html",
        _detail_context(request, fund, **{key: form}),
        status=status,
    )


@login_required
@require_POST
def fund_inject(request: HttpRequest, code: str) -> HttpResponse:
    """Finance records an injection (财政注资)."""
    return _post_form(
        request,
        code,
        InjectionForm,
        "inject_form",
        lambda user, fund, d: services.fund_inject(actor=user, fund=fund, **d),
        _("注资已入账，凭证号 %(n)s"),
    )


@login_required
@require_POST
def fund_adjust(request: HttpRequest, code: str) -> HttpResponse:
    """Finance records an adjustment (调整)."""
    return _post_form(
        request,
        code,
        AdjustmentForm,
        "adjust_form",
        lambda user, fund, d: services.fund_adjust(actor=user, fund=fund, **d),
        _("调整已入账，凭证号 %(n)s"),
    )


@login_required
def entry_reverse(request: HttpRequest, pk: int) -> HttpResponse:
    """Finance reverses a wrong injection or adjustment with the reason (GET: confirm page)."""
    user = request_user(request)
    entry = selectors.entry_get(user=user, pk=pk)
    fund = entry.fund
    require(user, "riskfund.fund_post", fund)
    form = ReverseForm(request.POST or None, auto_id="reverse_%s")
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                mirror = services.entry_reverse(
                    actor=user, entry=entry, memo=form.cleaned_data["memo"]
                )
            except SERVICE_ERRORS as exc:
                add_service_error(form, exc)
                status = error_payload(exc)[0]
            else:
                messages.success(
                    request,
                    _("凭证 %(o)s 已冲销，冲销凭证号 %(n)s")
                    % {"o": entry.number, "n": mirror.number},
                )
                return redirect("riskfund:fund_ledger", code=fund.code)
    return render(
        request,
        "riskfund/funds/reverse.html",
        {
            "fund": fund,
            "entry": entry,
            "lines": _lines_text(entry),
            "reversible": selectors.entry_reversible(entry),
            "form": form,
        },
        status=status,
    )


def _ledger_filters() -> list[listing.Filter]:
    return [
        listing.SearchFilter(
            "q",
            _("关键词"),
            ["number__icontains", "memo__icontains", "voucher_no__icontains"],
            placeholder=_("凭证号、外部凭证号或摘要"),
        ),
        listing.ChoiceFilter("kind", _("类型"), EntryKind.choices),
        listing.DateRangeFilter("date", _("记账日期"), "value_date", datetime=False),
    ]


@login_required
def fund_ledger(request: HttpRequest, code: str) -> HttpResponse:
    """Every entry of the fund, filtered and paged, each with its lines and the balance after."""
    user = request_user(request)
    fund = selectors.fund_get(user=user, code=code)
    qs = selectors.ledger_entries(user=user, fund=fund)
    lst = listing.list_build(
        request,
        qs,
        _ledger_filters(),
        noun=_("台账凭证"),
        sums={"cash_in": _("流入"), "cash_out": _("流出")},
        export_url=reverse("riskfund:fund_ledger_export", args=[fund.code]),
        per_page=50,
    )
    may_post = can(user, "riskfund.fund_post", fund)
    entries = list(lst.page)
    return render(
        request,
        "riskfund/funds/ledger.html",
        {
            "fund": fund,
            "listing": lst,
            "page": lst.page,
            "rows": _entry_rows(fund, entries, user, may_post),
            "summary": selectors.fund_summary(fund),
            "may_post": may_post,
        },
    )


def _lines_cell(entry: LedgerEntry) -> str:
    return "；".join(f"{x['side']} {x['account']} {x['amount']:.2f}" for x in _lines_text(entry))


LEDGER_COLUMNS = [
    listing.Column(gettext_lazy("凭证号"), listing.attr("number"), 22),
    listing.Column(gettext_lazy("记账日期"), listing.attr("value_date"), 12),
    listing.Column(gettext_lazy("类型"), listing.display("kind"), 10),
    listing.Column(gettext_lazy("摘要"), listing.attr("memo"), 36),
    listing.Column(gettext_lazy("外部凭证号"), listing.attr("voucher_no"), 18),
    listing.Column(gettext_lazy("流入（元）"), listing.attr("cash_in"), 16),
    listing.Column(gettext_lazy("流出（元）"), listing.attr("cash_out"), 16),
    listing.Column(gettext_lazy("借贷分录"), _lines_cell, 48),
    listing.Column(gettext_lazy("冲销的凭证"), listing.attr("reverses.number"), 22),
    listing.Column(
        gettext_lazy("是否已冲销"), lambda e: str(_("是")) if e.is_reversed else str(_("否")), 10
    ),
    listing.Column(gettext_lazy("记账人"), listing.attr("posted_by.display_name"), 14),
    listing.Column(gettext_lazy("记账时间"), listing.attr("posted_at"), 18),
]


@login_required
def fund_ledger_export(request: HttpRequest, code: str) -> HttpResponseBase:
    """The ledger as Excel: the same entries and filters as the page."""
    user = request_user(request)
    fund = selectors.fund_get(user=user, code=code)
    qs = selectors.ledger_entries(user=user, fund=fund)
    qs = listing.list_filter(request, qs, _ledger_filters()).apply(qs)
    return listing.xlsx_export(
        listing.query_rows(qs),
        LEDGER_COLUMNS,
        title=_("资金台账"),
        filename=_("%(f)s资金台账") % {"f": fund.name},
        fallback=f"ledger-{fund.code}",
    )


urlpatterns = [
    path("", home, name="home"),
    path("funds/new/", fund_new, name="fund_new"),
    path("funds/<slug:code>/", fund_detail, name="fund_detail"),
    path("funds/<slug:code>/inject/", fund_inject, name="fund_inject"),
    path("funds/<slug:code>/adjust/", fund_adjust, name="fund_adjust"),
    path("funds/<slug:code>/ledger/", fund_ledger, name="fund_ledger"),
    path("funds/<slug:code>/ledger/export/", fund_ledger_export, name="fund_ledger_export"),
    path("entries/<int:pk>/reverse/", entry_reverse, name="entry_reverse"),
]
