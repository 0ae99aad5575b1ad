"""Pages of the policy module: funds — apply, follow, review, approve, pay; 免申即享 lists."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from xinrong.accounts.auth import request_user
from xinrong.accounts.permissions import can, require
from xinrong.common.errors import (
    SERVICE_ERRORS,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    error_payload,
)
from xinrong.credit.evidence import EVIDENCE_ACCEPT
from xinrong.policies.choices import AutoListStatus, FundApplicationStatus, MeasureStatus
from xinrong.policies.models import FundMaterial, Grant, Measure
from xinrong.policies.selectors import funds as selectors
from xinrong.policies.services import auto_grant, budget
from xinrong.policies.services import funds as services
from xinrong.policies.workflows.funds import AUTO_LIST, FUND


class DecideForm(forms.Form):
    amount = forms.DecimalField(
        label=gettext_lazy("核定金额（元）"),
        max_digits=16,
        decimal_places=2,
        min_value=0,
        required=False,
        help_text=gettext_lazy("不填则沿用上一环节核定的金额"),
    )
    note = forms.CharField(
        label=gettext_lazy("审批意见"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class NoteForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("说明"),
        max_length=300,
        required=False,
    )


class VoucherForm(forms.Form):
    voucher_no = forms.CharField(label=gettext_lazy("拨付凭证号"), max_length=64)


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


def _apply_form(measure: Measure, data: Any = None, files: Any = None) -> forms.Form:
    form = forms.Form(data, files)
    limit = services.amount_limit(measure)
    form.fields["requested"] = forms.DecimalField(
        label=_("申请金额（元）"),
        max_digits=16,
        decimal_places=2,
        min_value=0,
        required=False,
        help_text=_("不超过 %(c)s 元") % {"c": f"{limit:,.2f}"} if limit is not None else "",
    )
    form.fields["purpose"] = forms.CharField(
        label=_("资金用途"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    for index, name in enumerate(services.material_names(measure)):
        form.fields[f"material_{index}"] = forms.FileField(
            label=name,
            required=False,
            help_text=_("PDF、JPG、PNG 或 XLSX，不超过 10 MB"),
            widget=forms.ClearableFileInput(attrs={"accept": EVIDENCE_ACCEPT}),
        )
    return form


@login_required
def fund_apply(request: HttpRequest, measure_id: int) -> HttpResponse:
    """An enterprise applies for a special fund under a measure, with its materials."""
    user = request_user(request)
    require(user, "policies.fund_apply")
    measure = get_object_or_404(
        Measure.objects.select_related("document__department"),
        pk=measure_id,
        status=MeasureStatus.PUBLISHED,
    )
    form = _apply_form(measure, request.POST or None, request.FILES or None)
    problems = services.measure_open_problems(measure, timezone.localdate())
    if request.method == "POST" and form.is_valid():
        names = services.material_names(measure)
        files: dict[str, Any] = {
            name: request.FILES[f"material_{i}"]
            for i, name in enumerate(names)
            if f"material_{i}" in request.FILES
        }
        try:
            application = services.fund_apply(
                actor=user,
                measure=measure,
                requested=request.POST.get("requested", ""),
                purpose=form.cleaned_data["purpose"],
                materials=files,
            )
        except SERVICE_ERRORS as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("申请已提交，请在申请详情中跟踪审批进度"))
            return redirect("policies:fund_detail", pk=application.pk)
    return render(
        request,
        "policies/funds/apply.html",
        {"form": form, "measure": measure, "problems": problems},
        status=422 if request.method == "POST" else 200,
    )


@login_required
def fund_mine(request: HttpRequest) -> HttpResponse:
    """The enterprise's applications, its grants (incl. 已为您兑现) and what it may apply for."""
    user = request_user(request)
    require(user, "policies.fund_mine")
    return render(
        request,
        "policies/funds/mine.html",
        {
            "applications": list(selectors.fund_applications(user=user)[:200]),
            "grants": list(selectors.entity_grants(user=user)[:200]),
            "open_measures": list(selectors.open_measures_for_entity(user=user)[:50]),
        },
    )


def _detail_context(application: Any, user: Any) -> dict[str, Any]:
    step = services.fund_step_for(application=application, user=user)
    grant = Grant.objects.filter(application=application).first()
    return {
        "application": application,
        "measure": application.measure,
        "steps": services.fund_open_steps(application=application),
        "my_step": step,
        "grant": grant,
        "events": list(selectors.fund_events(application=application)),
        "materials": list(selectors.fund_materials(application=application)),
        "decide_form": DecideForm(
            initial={"amount": application.approved or application.requested},
            auto_id="decide_%s",
        ),
        "voucher_form": VoucherForm(auto_id="voucher_%s"),
        "withdraw_form": NoteForm(auto_id="withdraw_%s"),
        "can_disburse": FUND.may(user, application, "disburse"),
        "can_withdraw": FUND.may(user, application, "withdraw"),
        "budget": budget.budget_use(measure=application.measure),
    }


@login_required
def fund_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An application with its materials, timeline, open steps and the decision forms."""
    user = request_user(request)
    application = selectors.fund_get(user=user, pk=pk)
    return render(request, "policies/funds/detail.html", _detail_context(application, user))


@login_required
@require_POST
def fund_decide(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Agree (with the approved amount) or refuse at the step the user holds."""
    user = request_user(request)
    application = selectors.fund_get(user=user, pk=pk)
    if action not in ("approve", "reject"):
        raise Http404
    if services.fund_step_for(application=application, user=user) is None:
        raise PermissionDeniedError("forbidden", _("您不是该申请当前环节的审批人"))
    form = DecideForm(request.POST, auto_id="decide_%s")
    if form.is_valid():
        try:
            done = services.fund_decide(
                application=application,
                actor=user,
                approved=action == "approve",
                amount=form.cleaned_data["amount"],
                note=form.cleaned_data["note"],
            )
        except ConflictError as exc:
            messages.error(request, exc.message)
            return redirect("policies:fund_detail", pk=application.pk)
        except SERVICE_ERRORS as exc:
            _add_errors(form, exc)
        else:
            done.refresh_from_db()
            if done.status == FundApplicationStatus.APPROVED:
                messages.success(request, _("审批通过，资金已核定，待财政拨付"))
            elif done.status == FundApplicationStatus.REJECTED:
                messages.success(request, _("已决定不予支持，企业已收到通知"))
            else:
                following = services.fund_open_steps(application=done)
                messages.success(
                    request,
                    _("已同意，转下一环节：%(s)s") % {"s": "、".join(t.name for t in following)},
                )
            return redirect("policies:fund_detail", pk=application.pk)
    context = _detail_context(application, user)
    context["decide_form"] = form
    return render(request, "policies/funds/detail.html", context, status=422)


@login_required
@require_POST
def fund_disburse(request: HttpRequest, pk: int) -> HttpResponse:
    """Finance records the payment of an approved application."""
    user = request_user(request)
    application = selectors.fund_get(user=user, pk=pk)
    require(user, "policies.fund_disburse", application)
    form = VoucherForm(request.POST, auto_id="voucher_%s")
    if form.is_valid():
        try:
            services.fund_disburse(
                application=application, actor=user, voucher_no=form.cleaned_data["voucher_no"]
            )
        except SERVICE_ERRORS as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("已登记拨付，企业已收到通知"))
            return redirect("policies:fund_detail", pk=application.pk)
    context = _detail_context(application, user)
    context["voucher_form"] = form
    return render(request, "policies/funds/detail.html", context, status=422)


@login_required
@require_POST
def fund_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    application = selectors.fund_get(user=user, pk=pk)
    FUND.check(user, application, "withdraw")
    form = NoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        services.fund_withdraw(application=application, actor=user, note=note)
    except SERVICE_ERRORS as exc:
        messages.error(request, error_payload(exc)[1]["message"])
    else:
        messages.success(request, _("申请已撤回"))
    return redirect("policies:fund_detail", pk=application.pk)


@login_required
def fund_material(request: HttpRequest, pk: int, file_id: int) -> HttpResponseBase:
    """Download a material of an application the user may see."""
    user = request_user(request)
    application = selectors.fund_get(user=user, pk=pk)
    row = get_object_or_404(FundMaterial, pk=file_id, application=application)
    filename = (row.file.name or "material").split("/")[-1]
    return FileResponse(row.file.open("rb"), as_attachment=True, filename=filename)


@login_required
def fund_queue(request: HttpRequest) -> HttpResponse:
    """The department's inbox of applications and finance's approvals."""
    user = request_user(request)
    require(user, "policies.fund_queue")
    status = request.GET.get("status", "")
    rows = selectors.fund_applications(user=user)
    if status in FundApplicationStatus.values:
        rows = rows.filter(status=status)
    return render(
        request,
        "policies/funds/queue.html",
        {
            "waiting": selectors.fund_waiting_for(user=user),
            "applications": list(rows.order_by("-submitted_at")[:200]),
            "statuses": FundApplicationStatus.choices,
            "status": status,
            "can_pay": can(user, "policies.fund_disburse"),
        },
    )


@login_required
def fund_payments(request: HttpRequest) -> HttpResponse:
    """Finance: committed grants awaiting payment (applications, 免申即享, 贴息) and recent ones."""
    user = request_user(request)
    require(user, "policies.fund_disburse")
    return render(
        request,
        "policies/funds/payments.html",
        {
            "to_pay": list(selectors.grants_to_pay(user=user)[:300]),
            "paid": selectors.grants_paid(user=user),
            "form": VoucherForm(),
        },
    )


@login_required
@require_POST
def grant_pay(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    require(user, "policies.fund_disburse")
    grant = get_object_or_404(selectors.grants_to_pay(user=user), pk=pk)
    form = VoucherForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写拨付凭证号"))
        return redirect("policies:fund_payments")
    try:
        services.grant_pay(grant=grant, actor=user, voucher_no=form.cleaned_data["voucher_no"])
    except SERVICE_ERRORS as exc:
        messages.error(request, error_payload(exc)[1]["message"])
    else:
        messages.success(
            request,
            _("已登记拨付：%(e)s %(a)s 元") % {"e": grant.entity.name, "a": f"{grant.amount:,.2f}"},
        )
    return redirect("policies:fund_payments")


# --- 免申即享 ---------------------------------------------------------------------------------


@login_required
def auto_measures(request: HttpRequest) -> HttpResponse:
    """The 免申即享 measures the user manages, with their lists' state."""
    user = request_user(request)
    require(user, "policies.auto_view")
    measures = list(selectors.auto_measures(user=user)[:200])
    return render(request, "policies/funds/auto_measures.html", {"measures": measures})


@login_required
def auto_list(request: HttpRequest, measure_id: int) -> HttpResponse:
    """A measure's 免申即享 list: draw, review (exclude with reasons), confirm; earlier lists."""
    user = request_user(request)
    measure = selectors.auto_measure_get(user=user, measure_id=measure_id)
    lists = list(selectors.auto_lists(measure=measure))
    current = next((x for x in lists if x.status == AutoListStatus.DRAFT), None)
    shown = current or (lists[0] if lists else None)
    entries = list(selectors.auto_entries(auto_list=shown)) if shown else []
    included = [e for e in entries if not e.excluded]
    return render(
        request,
        "policies/funds/auto_list.html",
        {
            "measure": measure,
            "lists": lists,
            "current": current,
            "shown": shown,
            "entries": entries,
            "included_count": len(included),
            "included_total": sum((e.amount for e in included), 0),
            "events": list(selectors.auto_events(auto_list=shown)) if shown else [],
            "budget": budget.budget_use(measure=measure),
            "can_manage": can(user, "policies.auto_manage", measure),
            "granted_total": auto_grant.auto_granted_total(measure=measure),
            "note_form": NoteForm(),
        },
    )


@login_required
@require_POST
def auto_draw(request: HttpRequest, measure_id: int) -> HttpResponse:
    user = request_user(request)
    measure = selectors.auto_measure_get(user=user, measure_id=measure_id)
    require(user, "policies.auto_manage", measure)
    try:
        drawn = auto_grant.auto_list_draw(measure=measure, actor=user)
    except SERVICE_ERRORS as exc:
        messages.error(request, error_payload(exc)[1]["message"])
    else:
        messages.success(
            request, _("已生成名单：%(n)d 户企业待确认") % {"n": drawn.entries.count()}
        )
    return redirect("policies:auto_list", measure_id=measure.pk)


@login_required
@require_POST
def auto_entry(
    request: HttpRequest, measure_id: int, list_id: int, entry_id: int, action: str
) -> HttpResponse:
    user = request_user(request)
    measure = selectors.auto_measure_get(user=user, measure_id=measure_id)
    found = selectors.auto_list_get(measure=measure, pk=list_id)
    if action not in ("exclude", "include"):
        raise Http404
    AUTO_LIST.check(user, found, action)
    try:
        if action == "exclude":
            auto_grant.auto_entry_exclude(
                auto_list=found, entry=entry_id, actor=user, reason=request.POST.get("note", "")
            )
            messages.success(request, _("已排除该企业"))
        else:
            auto_grant.auto_entry_include(auto_list=found, entry=entry_id, actor=user)
            messages.success(request, _("已恢复该企业"))
    except NotFoundError:
        raise
    except SERVICE_ERRORS as exc:
        messages.error(request, error_payload(exc)[1]["message"])
    return redirect("policies:auto_list", measure_id=measure.pk)


@login_required
@require_POST
def auto_decide(request: HttpRequest, measure_id: int, list_id: int, action: str) -> HttpResponse:
    user = request_user(request)
    measure = selectors.auto_measure_get(user=user, measure_id=measure_id)
    found = selectors.auto_list_get(measure=measure, pk=list_id)
    if action not in ("confirm", "discard"):
        raise Http404
    AUTO_LIST.check(user, found, action)
    note = request.POST.get("note", "")
    try:
        if action == "confirm":
            auto_grant.auto_list_confirm(auto_list=found, actor=user, note=note)
            messages.success(request, _("名单已确认并兑现，企业已收到“已为您兑现”的通知"))
        else:
            auto_grant.auto_list_discard(auto_list=found, actor=user, note=note)
            messages.success(request, _("名单已作废"))
    except SERVICE_ERRORS as exc:
        messages.error(request, error_payload(exc)[1]["message"])
    return redirect("policies:auto_list", measure_id=measure.pk)


urlpatterns: list[Any] = [
    path("funds/mine/", fund_mine, name="fund_mine"),
    path("funds/review/", fund_queue, name="fund_queue"),
    path("funds/payments/", fund_payments, name="fund_payments"),
    path("funds/grants/<int:pk>/pay/", grant_pay, name="grant_pay"),
    path("funds/auto/", auto_measures, name="auto_measures"),
    path("funds/<int:pk>/", fund_detail, name="fund_detail"),
    path("funds/<int:pk>/decide/<str:action>/", fund_decide, name="fund_decide"),
    path("funds/<int:pk>/disburse/", fund_disburse, name="fund_disburse"),
    path("funds/<int:pk>/withdraw/", fund_withdraw, name="fund_withdraw"),
    path("funds/<int:pk>/materials/<int:file_id>/", fund_material, name="fund_material"),
    path("funds/apply/<int:measure_id>/", fund_apply, name="fund_apply"),
    path("funds/auto/<int:measure_id>/", auto_list, name="auto_list"),
    path("funds/auto/<int:measure_id>/draw/", auto_draw, name="auto_draw"),
    path(
        "funds/auto/<int:measure_id>/<int:list_id>/entries/<int:entry_id>/<str:action>/",
        auto_entry,
        name="auto_entry",
    ),
    path(
        "funds/auto/<int:measure_id>/<int:list_id>/<str:action>/",
        auto_decide,
        name="auto_decide",
    ),
]
