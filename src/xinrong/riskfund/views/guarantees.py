"""Pages of guarantors' and insurers' 代偿/理赔: the backed loans that went bad, recording a 代偿,
the 代偿 records (filtered, paged, exported to Excel), one 代偿 with the loss order in words and
its timeline, its reversal and the guarantor's own recoveries."""

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
from xinrong.common.errors import SERVICE_ERRORS, PermissionDeniedError
from xinrong.common.forms import add_service_error
from xinrong.common.pagination import paginate
from xinrong.marketplace.rules import guarantee_provider
from xinrong.riskfund.choices import PayoutStatus
from xinrong.riskfund.forms.guarantees import PayoutForm, PayoutReverseForm, RecoveryForm
from xinrong.riskfund.models import GuarantorPayout
from xinrong.riskfund.selectors import guarantees as selectors
from xinrong.riskfund.services import guarantees as services
from xinrong.riskfund.workflows.guarantees import PAYOUT

VIEW = selectors.VIEW
RECORDS_SHOWN = 10  # the latest 代偿 on the overview; every one on the records page


def _tabs() -> list[tuple[str, str]]:
    return [
        (selectors.TAB_TODO, _("待代偿")),
        (selectors.TAB_DONE, _("已代偿")),
        (selectors.TAB_ALL, _("全部")),
    ]


@login_required
def payouts(request: HttpRequest) -> HttpResponse:
    """The backed loans that went bad (to settle, settled, all) and the 代偿 recorded."""
    user = request_user(request)
    require(user, VIEW)
    tab = request.GET.get("tab", selectors.TAB_TODO)
    if tab not in {t for t, _label in _tabs()}:
        tab = selectors.TAB_TODO
    counts = {t: selectors.backed_bad_loans(user=user, tab=t).count() for t, _label in _tabs()}
    loans = paginate(request, selectors.backed_bad_loans(user=user, tab=tab), per_page=20)
    records = selectors.payouts_visible(user=user)
    return render(
        request,
        "riskfund/guarantees/payouts.html",
        {
            "tab": tab,
            "tabs": [(t, label, counts[t]) for t, label in _tabs()],
            "page": loans,
            "records": list(records[:RECORDS_SHOWN]),
            "records_total": records.count(),
            "records_url": reverse("riskfund:payout_records"),
            "provider": bool(guarantee_provider(user)),
            "may_record": can(user, "riskfund.payout_record"),
        },
    )


@login_required
def payout_new(request: HttpRequest, guarantee_pk: int) -> HttpResponse:
    """The guarantor records its 代偿 on one backed bad loan: amount, date, note."""
    user = request_user(request)
    require(user, VIEW)
    guarantee = selectors.backed_get(user=user, pk=guarantee_pk)
    require(
        user,
        "riskfund.payout_record",
        guarantee,
        message=_("只有出具保函/保单的担保、保险机构的业务人员可以登记代偿"),
    )
    loan = guarantee.application.loan
    room = selectors.room_for(guarantee)
    form = PayoutForm(
        request.POST or None,
        initial={"amount": room, "paid_on": timezone.localdate().isoformat()},
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            payout = services.payout_record(
                actor=user,
                guarantee=guarantee,
                amount=form.cleaned_data["amount"],
                paid_on=form.cleaned_data["paid_on"],
                note=form.cleaned_data["note"],
            )
        except SERVICE_ERRORS as exc:
            if isinstance(exc, PermissionDeniedError):
                raise
            add_service_error(form, exc)
            status = _failed_status(exc)
        else:
            messages.success(request, _("已登记代偿"))
            return redirect("riskfund:payout_detail", pk=payout.pk)
    return render(
        request,
        "riskfund/guarantees/payout_new.html",
        {
            "guarantee": guarantee,
            "loan": loan,
            "room": room,
            "form": form,
            "order": selectors.loss_order(loan),
        },
        status=status,
    )


def _detail(
    request: HttpRequest,
    payout: GuarantorPayout,
    user: Any,
    *,
    reverse_form: forms.Form | None = None,
    recovery_form: forms.Form | None = None,
    status: int = 200,
) -> HttpResponse:
    may_reverse = PAYOUT.may(user, payout, "reverse")
    may_recover = PAYOUT.may(user, payout, "recover")
    recovered = services.recovered_of(payout)
    return render(
        request,
        "riskfund/guarantees/payout_detail.html",
        {
            "payout": payout,
            "loan": payout.loan,
            "guarantee": payout.guarantee,
            "order": selectors.loss_order(payout.loan),
            "recoveries": selectors.payout_recoveries(payout),
            "events": selectors.payout_events(payout),
            "recovered": recovered,
            "unrecovered": payout.amount - recovered,
            "reverse_form": (reverse_form or PayoutReverseForm(prefix="reverse"))
            if may_reverse
            else None,
            "recovery_form": (
                recovery_form
                or RecoveryForm(
                    prefix="recovery", initial={"recovered_on": timezone.localdate().isoformat()}
                )
            )
            if may_recover
            else None,
        },
        status=status,
    )


@login_required
def payout_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One 代偿: the loan, the loss order in words, the guarantor's recoveries, and its actions."""
    user = request_user(request)
    require(user, VIEW)
    payout = selectors.payout_get(user=user, pk=pk)
    return _detail(request, payout, user)


def _failed_status(exc: Exception) -> int:
    status = int(getattr(exc, "status", 422))
    return 422 if status <= 400 else status


@login_required
@require_POST
def payout_reverse(request: HttpRequest, pk: int) -> HttpResponse:
    """Reverse a wrong 代偿 with the reason (the record stays, marked reversed)."""
    user = request_user(request)
    require(user, VIEW)
    payout = selectors.payout_get(user=user, pk=pk)
    PAYOUT.check(user, payout, "reverse")  # 403 for others, 409 once reversed
    form = PayoutReverseForm(request.POST, prefix="reverse")
    if form.is_valid():
        try:
            services.payout_reverse(actor=user, payout=payout, note=form.cleaned_data["note"])
        except SERVICE_ERRORS as exc:
            if isinstance(exc, PermissionDeniedError):
                raise
            add_service_error(form, exc)
            return _detail(request, payout, user, reverse_form=form, status=_failed_status(exc))
        messages.success(request, _("已冲销该笔代偿"))
        return redirect("riskfund:payout_detail", pk=pk)
    return _detail(request, payout, user, reverse_form=form, status=422)


@login_required
@require_POST
def grecovery_new(request: HttpRequest, pk: int) -> HttpResponse:
    """The guarantor records what it recovered from the borrower after its 代偿."""
    user = request_user(request)
    require(user, VIEW)
    payout = selectors.payout_get(user=user, pk=pk)
    PAYOUT.check(user, payout, "recover")
    form = RecoveryForm(request.POST, prefix="recovery")
    if form.is_valid():
        try:
            services.guarantor_recovery_record(
                actor=user,
                payout=payout,
                amount=form.cleaned_data["amount"],
                recovered_on=form.cleaned_data["recovered_on"],
                note=form.cleaned_data["note"],
            )
        except SERVICE_ERRORS as exc:
            if isinstance(exc, PermissionDeniedError):
                raise
            add_service_error(form, exc)
            return _detail(request, payout, user, recovery_form=form, status=_failed_status(exc))
        messages.success(request, _("已登记追偿"))
        return redirect("riskfund:payout_detail", pk=pk)
    return _detail(request, payout, user, recovery_form=form, status=422)


def _record_filters(user: Any) -> list[listing.Filter]:
    filters: list[listing.Filter] = [
        listing.SearchFilter(
            "q",
            _("关键词"),
            [
                "loan__number__iexact",
                "loan__entity__name__icontains",
                "loan__entity__uscc__iexact",
                "guarantee__letter_no__iexact",
                "provider__name__icontains",
                "loan__institution__name__icontains",
            ],
            placeholder=_("企业、机构、贷款或保函编号"),
        ),
        listing.ChoiceFilter("status", _("状态"), PayoutStatus.choices),
        listing.DateRangeFilter("paid", _("代偿日期"), "paid_on", datetime=False),
        listing.AmountRangeFilter("amount", _("代偿金额（元）"), "amount"),
    ]
    return filters


def _records(request: HttpRequest) -> tuple[Any, Any]:
    user = request_user(request)
    require(user, VIEW)
    return user, selectors.payouts_visible(user=user)


@login_required
def payout_records(request: HttpRequest) -> HttpResponse:
    """Every 代偿 the user may see: filtered, totalled, paged, exportable to Excel."""
    user, records = _records(request)
    lst = listing.list_build(
        request,
        records,
        _record_filters(user),
        noun=_("代偿记录"),
        sums={"amount": _("代偿金额")},
        export_url=reverse("riskfund:payout_records_export"),
    )
    return render(
        request,
        "riskfund/guarantees/payout_records.html",
        {
            "listing": lst,
            "page": lst.page,
            "records": lst.page.object_list,
            "provider": bool(guarantee_provider(user)),
        },
    )


EXPORT_COLUMNS = (
    listing.Column(gettext_lazy("代偿日期"), listing.attr("paid_on"), 12),
    listing.Column(gettext_lazy("担保/保险机构"), listing.attr("provider.name"), 24),
    listing.Column(gettext_lazy("借款企业"), listing.attr("loan.entity.name"), 28),
    listing.Column(gettext_lazy("统一社会信用代码"), listing.attr("loan.entity.uscc"), 20),
    listing.Column(gettext_lazy("贷款编号"), listing.attr("loan.number"), 18),
    listing.Column(gettext_lazy("放款机构"), listing.attr("loan.institution.name"), 24),
    listing.Column(gettext_lazy("保函/保单编号"), listing.attr("guarantee.letter_no"), 16),
    listing.Column(gettext_lazy("代偿金额（元）"), listing.attr("amount"), 16),
    listing.Column(
        gettext_lazy("已追回（元）"), lambda p: p.recovered if p.recovered is not None else 0, 14
    ),
    listing.Column(
        gettext_lazy("未追回（元）"),
        lambda p: p.amount - (p.recovered if p.recovered is not None else 0),
        14,
    ),
    listing.Column(gettext_lazy("状态"), listing.display("status"), 10),
    listing.Column(gettext_lazy("说明"), listing.attr("note"), 30),
    listing.Column(gettext_lazy("登记时间"), listing.attr("created_at"), 18),
)


@login_required
def payout_records_export(request: HttpRequest) -> HttpResponseBase:
    """The same rows as the records page (scope and filters) as Excel: Chinese headers, amounts
    as numbers, dates as dates."""
    user, records = _records(request)
    rows = listing.list_filter(request, records, _record_filters(user)).apply(records)
    return listing.xlsx_export(
        listing.query_rows(rows),
        EXPORT_COLUMNS,
        title=_("担保代偿"),
        filename=_("担保代偿记录"),
        fallback="guarantor-payouts",
    )


urlpatterns = [
    path("payouts/", payouts, name="payouts"),
    path("payouts/records/", payout_records, name="payout_records"),
    path("payouts/records/export/", payout_records_export, name="payout_records_export"),
    path("payouts/new/<int:guarantee_pk>/", payout_new, name="payout_new"),
    path("payouts/<int:pk>/", payout_detail, name="payout_detail"),
    path("payouts/<int:pk>/reverse/", payout_reverse, name="payout_reverse"),
    path("payouts/<int:pk>/recoveries/new/", grecovery_new, name="grecovery_new"),
]
