"""Pages of the risk fund: claims (补偿申请), their approval and payment, recoveries (追偿),
statistics."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Case, DecimalField, F, Value, When
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from xinrong.accounts.auth import request_user
from xinrong.accounts.models import Organisation
from xinrong.accounts.permissions import can, is_operator_admin, require
from xinrong.common import listing
from xinrong.common.errors import SERVICE_ERRORS, ConflictError, error_payload
from xinrong.common.exports import Sheet, xlsx_response
from xinrong.common.ids import id_or_404
from xinrong.enterprises.listing import RegionFilter
from xinrong.riskfund.breaker import breaker_for, npl_ratios
from xinrong.riskfund.choices import ClaimStatus, RecoveryStatus
from xinrong.riskfund.forms.claims import ClaimForm, DecideForm, NoteForm, RecoveryForm
from xinrong.riskfund.models import ClaimEvidence, Fund
from xinrong.riskfund.rules.claims import is_institution_member
from xinrong.riskfund.selectors import claims as selectors
from xinrong.riskfund.services import claims as services
from xinrong.riskfund.workflows.claims import CLAIM, OPEN, RECOVERY

WAN = Decimal("10000")


def _add_errors(form: forms.Form, exc: Exception) -> None:
    """Show a service error on its fields (every field of a ValidationError at once)."""
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            for e in errors:
                for m in e.messages:
                    form.add_error(name if name in form.fields else None, m)
        return
    _status, body = error_payload(exc)
    field = str(body["extra"].get("field") or "")
    form.add_error(field if field in form.fields else None, body["message"])


def _wan(amount: Decimal) -> str:
    """¥ in 万 for the arithmetic sentence: 1000000 → "100 万", 123456.7 → "12.35 万"."""
    value = (amount / WAN).quantize(Decimal("0.01")).normalize()
    return f"{value:f} 万"


def arithmetic_words(figures: Any) -> str:
    """分担基数 = 损失 100 万 − 担保代偿 60 万 = 40 万；补偿 = 40 万 × 30% = 12 万."""
    loss = figures.loss_principal + figures.loss_interest
    share = (figures.share * 100).normalize()
    if figures.guarantor_paid:
        base = _("分担基数 = 损失 %(l)s − 担保代偿 %(g)s = %(b)s") % {
            "l": _wan(loss),
            "g": _wan(figures.guarantor_paid),
            "b": _wan(figures.base),
        }
    else:
        base = _("分担基数 = 损失 %(b)s（无担保代偿）") % {"b": _wan(figures.base)}
    pay = _("补偿 = %(b)s × %(s)s%% = %(a)s") % {
        "b": _wan(figures.base),
        "s": f"{share:f}",
        "a": _wan(figures.amount),
    }
    return f"{base}；{pay}"


# ------------------------------------------------------------------------------ lists


def _claim_filters(user: Any) -> list[listing.Filter]:
    out: list[listing.Filter] = [
        listing.SearchFilter(
            "q",
            _("关键词"),
            ["number__icontains", "entity__name__icontains", "loan__number__iexact"],
            placeholder=_("申请编号、企业名称或贷款编号"),
        ),
        listing.ChoiceFilter("status", _("状态"), ClaimStatus.choices),
        listing.ChoiceFilter(
            "fund",
            _("基金"),
            lambda: Fund.objects.order_by("division_code").values_list("pk", "name"),
            "fund_id",
        ),
        listing.DateRangeFilter("submitted", _("提交日期"), "submitted_at"),
        listing.AmountRangeFilter("amount", _("补偿金额（元）"), "amount"),
    ]
    if not is_institution_member(user):
        out.insert(
            3,
            listing.ChoiceFilter(
                "institution",
                _("金融机构"),
                lambda: (
                    Organisation.objects.filter(risk_claims__isnull=False)
                    .distinct()
                    .order_by("name")
                    .values_list("pk", "name")
                ),
                "institution_id",
            ),
        )
        out.insert(3, RegionFilter("region", _("企业所在地区"), "entity__division_code"))
    return out


CLAIM_SUMS = {
    "paid_amount": gettext_lazy("已补偿金额合计"),
    "open_amount": gettext_lazy("审批中的申请金额合计"),
}


def _with_amounts_by_state(qs: Any) -> Any:
    """The claims with their amount split by state, so the totals never add a withdrawn or
    refused claim to the money paid."""
    money = DecimalField(max_digits=16, decimal_places=2)
    return qs.annotate(
        paid_amount=Case(
            When(status=ClaimStatus.PAID, then=F("amount")), default=Value(0), output_field=money
        ),
        open_amount=Case(
            When(status__in=OPEN, then=F("amount")), default=Value(0), output_field=money
        ),
    )


@login_required
def claim_list(request: HttpRequest) -> HttpResponse:
    """The claims the user may see, filtered, totalled, paged, exportable."""
    user = request_user(request)
    require(user, "riskfund.claim_stats")
    lst = listing.list_build(
        request,
        _with_amounts_by_state(selectors.claims_visible(user=user)),
        _claim_filters(user),
        noun=_("补偿申请"),
        sums=CLAIM_SUMS,
        export_url=reverse("riskfund:claims_export"),
    )
    return render(
        request,
        "riskfund/claims/list.html",
        {
            "listing": lst,
            "page": lst.page,
            "can_file": can(user, "riskfund.claim_file"),
            "can_queue": can(user, "riskfund.claim_queue"),
        },
    )


CLAIM_COLUMNS = [
    listing.Column(gettext_lazy("申请编号"), listing.attr("number"), 20),
    listing.Column(gettext_lazy("提交时间"), listing.attr("submitted_at"), 18),
    listing.Column(gettext_lazy("基金"), listing.attr("fund.name"), 28),
    listing.Column(gettext_lazy("金融机构"), listing.attr("institution.name"), 24),
    listing.Column(gettext_lazy("借款企业"), listing.attr("entity.name"), 28),
    listing.Column(gettext_lazy("贷款编号"), listing.attr("loan.number"), 18),
    listing.Column(gettext_lazy("本金损失（元）"), listing.attr("loss_principal")),
    listing.Column(gettext_lazy("利息损失（元）"), listing.attr("loss_interest")),
    listing.Column(gettext_lazy("担保代偿（元）"), listing.attr("guarantor_paid")),
    listing.Column(gettext_lazy("分担基数（元）"), listing.attr("base")),
    listing.Column(gettext_lazy("政府分担比例"), listing.attr("share")),
    listing.Column(gettext_lazy("补偿金额（元）"), listing.attr("amount")),
    listing.Column(gettext_lazy("状态"), listing.display("status")),
    listing.Column(gettext_lazy("支付时间"), listing.attr("paid_at"), 18),
]


@login_required
def claim_export(request: HttpRequest) -> HttpResponseBase:
    user = request_user(request)
    require(user, "riskfund.claim_stats")
    qs = selectors.claims_visible(user=user)
    fs = listing.list_filter(request, qs, _claim_filters(user))
    return listing.xlsx_export(
        listing.query_rows(fs.apply(qs)),
        CLAIM_COLUMNS,
        title=_("风险补偿申请"),
        filename=_("风险补偿申请"),
        fallback="claims",
    )


@login_required
def claim_queue(request: HttpRequest) -> HttpResponse:
    """The steps waiting for me, and recoveries to confirm."""
    user = request_user(request)
    require(user, "riskfund.claim_queue")
    waiting = selectors.claims_waiting_for(user=user)
    from xinrong.riskfund.models import Recovery

    recoveries = [
        r
        for r in Recovery.objects.restrict(user)
        .filter(status=RecoveryStatus.REPORTED)
        .select_related("claim__entity", "claim__institution", "claim__fund")
        .order_by("created_at")[:200]
        if RECOVERY.may(user, r, "confirm")
    ]
    # claims of a lender whose breaker is tripped cannot be paid: say so in the queue
    ratios = {fund: npl_ratios(fund) for fund in {w.claim.fund for w in waiting}}
    tripped = {
        w.claim.pk
        for w in waiting
        if (b := ratios[w.claim.fund].get(w.claim.institution_id)) is not None and b.tripped
    }
    return render(
        request,
        "riskfund/claims/queue.html",
        {
            "waiting": waiting,
            "tripped": tripped,
            "waiting_total": sum((w.claim.amount for w in waiting), Decimal("0")),
            "recoveries": recoveries,
            "show_recoveries": bool(is_operator_admin(user)),
        },
    )


# ------------------------------------------------------------------------------ filing


@login_required
def claim_new(request: HttpRequest) -> HttpResponse:
    """The institution's defaulted loans with their verdicts; pick one, see the figures, file."""
    user = request_user(request)
    require(user, "riskfund.claim_file")
    from xinrong.marketplace.models import Loan

    raw = request.GET.get("loan") or request.POST.get("loan")
    if not raw:
        return render(
            request,
            "riskfund/claims/new_pick.html",
            {"choices": selectors.claimable_loans(user=user)},
        )
    loan_id = id_or_404(raw, message=_("贷款不存在"))
    loan = get_object_or_404(
        Loan.objects.select_related("entity", "application__product_version"),
        pk=loan_id,
        institution_id=user.organisation_id,
    )
    from xinrong.riskfund.eligibility import loan_coverage
    from xinrong.riskfund.selectors.loans import guarantor_paid_for

    coverage = loan_coverage(loan)
    problems = services.loan_claimable_problems(loan)
    initial = {
        "loss_principal": request.GET.get("loss_principal") or f"{loan.outstanding:.2f}",
        "loss_interest": request.GET.get("loss_interest", ""),
        "note": request.GET.get("note", ""),
    }
    form = ClaimForm(request.POST or None, request.FILES or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                claim = services.claim_file(
                    actor=user,
                    loan=loan,
                    loss_principal=form.cleaned_data["loss_principal"],
                    loss_interest=form.cleaned_data["loss_interest"],
                    note=form.cleaned_data["note"],
                    evidence=form.cleaned_data["evidence"],
                )
            except SERVICE_ERRORS as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("补偿申请已提交，等待平台运营方受理审核"))
                return redirect("riskfund:claim_detail", pk=claim.pk)
    source = form.data if form.is_bound else initial
    figures = services.claim_preview(
        loan=loan,
        loss_principal=source.get("loss_principal", ""),
        loss_interest=source.get("loss_interest", ""),
    )
    return render(
        request,
        "riskfund/claims/new.html",
        {
            "loan": loan,
            "coverage": coverage,
            "problems": problems,
            "form": form,
            "figures": figures,
            "words": arithmetic_words(figures) if figures else "",
            "guarantor_paid": guarantor_paid_for(loan),
        },
        status=status,
    )


# ------------------------------------------------------------------------------ detail


def _detail_context(claim: Any, user: Any) -> dict[str, Any]:
    from xinrong.workflows import engine

    recoveries = list(selectors.claim_recoveries(claim=claim))
    instance = engine.instance_for(claim)
    returned = services.claim_returned_amount(claim)
    paid = services.claim_paid_amount(claim)
    return {
        "claim": claim,
        "words": arithmetic_words(claim),
        "share_pct": f"{(claim.share * 100).normalize():f}",
        "steps": services.claim_open_steps(claim=claim),
        "my_step": services.claim_step_for(claim=claim, user=user),
        "step_refusal": services.claim_step_refusal(claim=claim, user=user),
        "done_steps": instance.actors if instance is not None else [],
        "process_version": instance.version.number if instance is not None else None,
        "events": list(selectors.claim_events(claim=claim)),
        "kind_labels": selectors.EVENT_LABELS,
        "evidence": list(claim.evidence.all()),
        "entries": list(selectors.claim_entries(claim=claim)),
        "recoveries": [(r, RECOVERY.may(user, r, "confirm")) for r in recoveries],
        "recovered": sum(
            (r.amount for r in recoveries if r.status == RecoveryStatus.CONFIRMED), Decimal("0")
        ),
        "returned": returned,
        "paid": paid,
        "net": paid - returned,
        "decide_form": DecideForm(auto_id="decide_%s"),
        "withdraw_form": NoteForm(auto_id="withdraw_%s"),
        "return_form": NoteForm(auto_id="return_%s"),
        "can_withdraw": CLAIM.may(user, claim, "withdraw"),
        "can_recover": claim.status == ClaimStatus.PAID
        and can(user, "riskfund.recovery_report", claim),
        # a lender whose breaker is tripped cannot be paid: the approvers see it before agreeing
        "breaker": breaker_for(claim.fund, claim.institution_id) if claim.status in OPEN else None,
    }


@login_required
def claim_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    claim = selectors.claim_get(user=user, pk=pk)
    return render(request, "riskfund/claims/detail.html", _detail_context(claim, user))


@login_required
def claim_evidence(request: HttpRequest, pk: int, file_id: int) -> HttpResponseBase:
    user = request_user(request)
    claim = selectors.claim_get(user=user, pk=pk)
    row = get_object_or_404(ClaimEvidence, pk=file_id, claim=claim)
    filename = (row.file.name or "evidence").split("/")[-1]
    return FileResponse(row.file.open("rb"), as_attachment=True, filename=filename)


@login_required
@require_POST
def claim_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Agree or refuse at my step (approve / reject), or withdraw (the institution)."""
    user = request_user(request)
    claim = selectors.claim_get(user=user, pk=pk)
    if action == "withdraw":
        CLAIM.check(user, claim, "withdraw")
        form = NoteForm(request.POST)
        note = form.cleaned_data["note"] if form.is_valid() else ""
        try:
            services.claim_withdraw(claim=claim, actor=user, note=note)
        except SERVICE_ERRORS as exc:
            messages.error(request, error_payload(exc)[1]["message"])
        else:
            messages.success(request, _("补偿申请已撤回"))
        return redirect("riskfund:claim_detail", pk=claim.pk)
    if action not in ("approve", "reject"):
        raise Http404
    decide = DecideForm(request.POST, auto_id="decide_%s")
    if decide.is_valid():
        try:
            services.claim_decide(
                claim=claim,
                actor=user,
                approved=action == "approve",
                note=decide.cleaned_data["note"],
            )
        except ConflictError as exc:
            messages.error(request, exc.message)
            return redirect("riskfund:claim_detail", pk=claim.pk)
        except SERVICE_ERRORS as exc:
            status, _body = error_payload(exc)
            if status == 403:
                raise
            _add_errors(decide, exc)
        else:
            claim.refresh_from_db()
            if claim.status == ClaimStatus.PAID:
                messages.success(
                    request,
                    _("已批准，基金已支付补偿 %(a)s 元") % {"a": f"{claim.amount:,.2f}"},
                )
            elif claim.status == ClaimStatus.REJECTED:
                messages.success(request, _("已决定不予补偿，申请机构已收到通知"))
            else:
                following = services.claim_open_steps(claim=claim)
                messages.success(
                    request,
                    _("已同意，转下一环节：%(s)s") % {"s": "、".join(t.name for t in following)},
                )
            return redirect("riskfund:claim_detail", pk=claim.pk)
    context = _detail_context(claim, user)
    context["decide_form"] = decide
    return render(request, "riskfund/claims/detail.html", context, status=422)


# ------------------------------------------------------------------------------ recoveries


@login_required
def recovery_new(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    claim = selectors.claim_get(user=user, pk=pk)
    require(user, "riskfund.recovery_report", claim)
    form = RecoveryForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                services.recovery_report(
                    actor=user,
                    claim=claim,
                    amount=form.cleaned_data["amount"],
                    recovered_on=form.cleaned_data["recovered_on"],
                    note=form.cleaned_data["note"],
                )
            except SERVICE_ERRORS as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("追偿已报告，等待平台运营方确认"))
                return redirect("riskfund:claim_detail", pk=claim.pk)
    return render(
        request,
        "riskfund/claims/recovery_new.html",
        {"claim": claim, "form": form, "share_pct": f"{(claim.share * 100).normalize():f}"},
        status=status,
    )


@login_required
@require_POST
def recovery_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    user = request_user(request)
    recovery = selectors.recovery_get(user=user, pk=pk)
    if action not in ("confirm", "return"):
        raise Http404
    RECOVERY.check(user, recovery, action)
    note = (request.POST.get("note") or "").strip()[:300]
    try:
        if action == "confirm":
            services.recovery_confirm(actor=user, recovery=recovery, note=note)
            recovery.refresh_from_db()
            messages.success(
                request,
                _("追偿已确认，返还基金 %(a)s 元") % {"a": f"{recovery.gov_return or 0:,.2f}"},
            )
        else:
            services.recovery_return(actor=user, recovery=recovery, note=note)
            messages.success(request, _("追偿已退回，金融机构已收到通知"))
    except SERVICE_ERRORS as exc:
        messages.error(request, error_payload(exc)[1]["message"])
    return redirect("riskfund:claim_detail", pk=recovery.claim_id)


# ------------------------------------------------------------------------------ statistics


def _stats_fund(request: HttpRequest) -> int | None:
    raw = request.GET.get("fund") or ""
    return int(raw) if raw.isdigit() else None


@login_required
def claim_stats(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    require(user, "riskfund.claim_stats")
    fund_id = _stats_fund(request)
    stats = selectors.claim_statistics(user=user, fund_id=fund_id)
    # every fund the user sees (a fund without claims shows its empty figures), and the funds
    # of its own claims (an institution does not see the funds themselves)
    ids = set(Fund.objects.restrict(user).values_list("pk", flat=True))
    ids |= set(selectors.claims_visible(user=user).values_list("fund_id", flat=True))
    funds = Fund.objects.filter(pk__in=ids).order_by("division_code", "pk")
    return render(
        request,
        "riskfund/claims/stats.html",
        {"stats": stats, "funds": funds, "fund_id": fund_id},
    )


STAT_HEADER = [
    gettext_lazy("分组"),
    gettext_lazy("申请笔数"),
    gettext_lazy("已补偿笔数"),
    gettext_lazy("申请补偿金额（元）"),
    gettext_lazy("已补偿金额（元）"),
    gettext_lazy("已确认追回（元）"),
    gettext_lazy("返还基金（元）"),
    gettext_lazy("回收率（%）"),
]


def _stat_line(row: selectors.StatRow) -> list[Any]:
    rate = row.recovery_rate
    return [
        row.label,
        row.claims,
        row.paid_claims,
        row.asked,
        row.compensated,
        row.recovered,
        row.returned,
        float(rate) if rate is not None else None,
    ]


@login_required
def claim_stats_export(request: HttpRequest) -> HttpResponseBase:
    from django.utils import timezone

    user = request_user(request)
    require(user, "riskfund.claim_stats")
    stats = selectors.claim_statistics(user=user, fund_id=_stats_fund(request))
    header = [str(h) for h in STAT_HEADER]
    sheets = [
        Sheet(
            title=str(title),
            header=[str(first), *header[1:]],
            rows=[_stat_line(r) for r in [*rows, stats.total]],
            widths=[28, 10, 10, 18, 18, 18, 18, 12],
            freeze_header=True,
        )
        for title, first, rows in (
            (_("按机构"), _("金融机构"), stats.by_institution),
            (_("按地区"), _("市州"), stats.by_region),
            (_("按年度"), _("年度"), stats.by_year),
        )
    ]
    stamp = timezone.localdate().strftime("%Y%m%d")
    return xlsx_response(
        sheets, filename=f"{_('风险补偿统计')}-{stamp}.xlsx", fallback=f"claim-stats-{stamp}.xlsx"
    )


urlpatterns: list[Any] = [
    path("claims/", claim_list, name="claims"),
    path("claims/export/", claim_export, name="claims_export"),
    path("claims/review/", claim_queue, name="claim_queue"),
    path("claims/new/", claim_new, name="claim_new"),
    path("claims/<int:pk>/", claim_detail, name="claim_detail"),
    path("claims/<int:pk>/evidence/<int:file_id>/", claim_evidence, name="claim_evidence"),
    path("claims/<int:pk>/recoveries/new/", recovery_new, name="recovery_new"),
    path("claims/<int:pk>/<str:action>/", claim_action, name="claim_action"),
    path("recoveries/<int:pk>/<str:action>/", recovery_action, name="recovery_action"),
    path("statistics/", claim_stats, name="claim_stats"),
    path("statistics/export/", claim_stats_export, name="claim_stats_export"),
]
