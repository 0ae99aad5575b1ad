"""Pages of 贴息 (interest subsidies on platform loans): batches, calculation, confirmation."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from xinrong.accounts.auth import request_user
from xinrong.accounts.permissions import can, require
from xinrong.common.errors import SERVICE_ERRORS, NotFoundError, error_payload
from xinrong.common.forms import DateInput
from xinrong.policies.models import SubsidyLine
from xinrong.policies.selectors import subsidy as sel
from xinrong.policies.services import subsidy as svc
from xinrong.policies.workflows.subsidy import SUBSIDY_BATCH


class CalculateForm(forms.Form):
    measure = forms.TypedChoiceField(label=gettext_lazy("贴息措施"), coerce=int)
    period_start = forms.DateField(label=gettext_lazy("计息期间自"), widget=DateInput())
    period_end = forms.DateField(label=gettext_lazy("计息期间至"), widget=DateInput())

    def __init__(self, *args: Any, measures: list[Any], **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.measures = {m.pk: m for m in measures}
        self.fields["measure"].choices = [  # type: ignore[attr-defined]
            (m.pk, m.title) for m in measures
        ]


def _error(request: HttpRequest, exc: Exception) -> None:
    messages.error(request, error_payload(exc)[1]["message"])


@login_required
def subsidy_list(request: HttpRequest) -> HttpResponse:
    """The batches the user may see, and (department) the form to calculate a new one."""
    user = request_user(request)
    batches = list(sel.batches_visible(user=user)[:200])
    measures = sel.subsidy_measures(user=user)
    form = CalculateForm(measures=measures) if measures else None
    if request.method == "POST":
        require(user, "policies.subsidy_calculate")
        form = CalculateForm(request.POST, measures=measures)
        if form.is_valid():
            try:
                batch = svc.subsidy_batch_calculate(
                    measure=form.measures[form.cleaned_data["measure"]],
                    period_start=form.cleaned_data["period_start"],
                    period_end=form.cleaned_data["period_end"],
                    actor=user,
                )
            except SERVICE_ERRORS as exc:
                form.add_error(None, error_payload(exc)[1]["message"])
            else:
                messages.success(request, _("已测算贴息，等待贷款机构确认"))
                return redirect("policies:subsidy_batch", pk=batch.pk)
    return render(
        request,
        "policies/subsidy/list.html",
        {"batches": batches, "form": form},
        status=400 if form is not None and form.errors else 200,
    )


@login_required
def subsidy_batch(request: HttpRequest, pk: int) -> HttpResponse:
    """One batch: its ledger of lines, sums, timeline and the actions the user may take."""
    user = request_user(request)
    batch = sel.batch_get(user=user, pk=pk)
    lines = sel.batch_lines(user=user, batch=batch)
    pending_own = [
        ln
        for ln in lines
        if ln.status == "pending" and can(user, "policies.subsidy_line_confirm", ln)
    ]
    return render(
        request,
        "policies/subsidy/batch.html",
        {
            "batch": batch,
            "lines": lines,
            "sums": sel.batch_sums(lines),
            "events": batch.events.select_related("actor").order_by("created_at", "id"),
            "pending_own": {ln.pk for ln in pending_own},
            "may_grant": SUBSIDY_BATCH.may(user, batch, "grant"),
            "may_disburse": batch.status == "granted"
            and can(user, "policies.subsidy_calculate", batch.measure),
        },
    )


@login_required
@require_POST
def subsidy_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    batch = sel.batch_get(user=user, pk=pk)
    try:
        n = svc.subsidy_lines_confirm(batch=batch, actor=user)
    except SERVICE_ERRORS as exc:
        _error(request, exc)
    else:
        messages.success(request, _("已确认 %(n)d 笔贴息明细") % {"n": n})
    return redirect("policies:subsidy_batch", pk=pk)


@login_required
@require_POST
def subsidy_dispute(request: HttpRequest, pk: int) -> HttpResponse:
    """The lender disputes one line (its id in the form's ``line``) with a note."""
    user = request_user(request)
    batch = sel.batch_get(user=user, pk=pk)
    line = request.POST.get("line", "")
    row = (
        SubsidyLine.objects.filter(pk=int(line), batch=batch).select_related("batch").first()
        if line.isdigit()
        else None
    )
    if row is None:
        raise NotFoundError("not_found", _("贴息明细不存在"))
    try:
        svc.subsidy_line_dispute(line=row, actor=user, note=request.POST.get("note", ""))
    except SERVICE_ERRORS as exc:
        _error(request, exc)
    else:
        messages.success(request, _("已提出异议，该笔贴息不予兑现"))
    return redirect("policies:subsidy_batch", pk=pk)


@login_required
@require_POST
def subsidy_grant(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    batch = sel.batch_get(user=user, pk=pk)
    try:
        grants = svc.subsidy_batch_grant(batch=batch, actor=user)
    except SERVICE_ERRORS as exc:
        _error(request, exc)
    else:
        messages.success(request, _("已兑现 %(n)d 笔贴息") % {"n": len(grants)})
    return redirect("policies:subsidy_batch", pk=pk)


@login_required
@require_POST
def subsidy_disburse(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    batch = sel.batch_get(user=user, pk=pk)
    try:
        n = svc.subsidy_batch_disburse(
            batch=batch, voucher_no=request.POST.get("voucher_no", ""), actor=user
        )
    except SERVICE_ERRORS as exc:
        _error(request, exc)
    else:
        messages.success(request, _("已登记拨付 %(n)d 笔") % {"n": n})
    return redirect("policies:subsidy_batch", pk=pk)


urlpatterns = [
    path("subsidy/", subsidy_list, name="subsidy_list"),
    path("subsidy/<int:pk>/", subsidy_batch, name="subsidy_batch"),
    path("subsidy/<int:pk>/confirm/", subsidy_confirm, name="subsidy_confirm"),
    path("subsidy/<int:pk>/dispute/", subsidy_dispute, name="subsidy_dispute"),
    path("subsidy/<int:pk>/grant/", subsidy_grant, name="subsidy_grant"),
    path("subsidy/<int:pk>/disburse/", subsidy_disburse, name="subsidy_disburse"),
]
