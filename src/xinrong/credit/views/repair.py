"""Pages of credit repair (信用修复)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinrong.accounts.auth import request_user
from xinrong.accounts.models import User
from xinrong.common import listing
from xinrong.common.errors import SERVICE_ERRORS, ConflictError, PermissionDeniedError
from xinrong.credit.choices import RepairStatus
from xinrong.credit.fact_display import fact_publication_end
from xinrong.credit.forms import NoteForm, ReasonForm, RepairForm
from xinrong.credit.models import RepairApplication, RepairEvidence
from xinrong.credit.publication import PUBLICATION_PERIODS
from xinrong.credit.selectors import archive as archive_selectors
from xinrong.credit.selectors import repair as repair_selectors
from xinrong.credit.services import repair as repair_services
from xinrong.credit.views.common import case_role, evidence_response, form_error_add
from xinrong.datahub.categories import CATEGORIES


@login_required
def repair_list(request: HttpRequest) -> HttpResponse:
    """The enterprise's repair applications, or those a department or the operator decides."""
    user = request_user(request)
    role = case_role(user)
    filters: list[listing.Filter] = [
        listing.ChoiceFilter("status", _("状态"), RepairStatus.choices),
        listing.DateRangeFilter("submitted", _("申请日期"), "submitted_at"),
    ]
    if role != "enterprise":
        filters.insert(
            0,
            listing.SearchFilter(
                "q",
                _("关键词"),
                ["entity__name__icontains", "entity__uscc__iexact", "fact__reference_no__iexact"],
                placeholder=_("企业名称、信用代码或文号"),
            ),
        )
    lst = listing.list_build(
        request, repair_selectors.repair_list(user=user), filters, noun=_("修复申请"), per_page=30
    )
    return render(
        request,
        "credit/repair_list.html",
        {
            "listing": lst,
            "page": lst.page,
            "role": role,
            "status": lst.filterset.values.get("status", ""),
            "statuses": RepairStatus.choices,
            "periods": PUBLICATION_PERIODS.values(),
            "severity_labels": {k: p.label for k, p in PUBLICATION_PERIODS.items()},
        },
    )


@login_required
def repair_new(request: HttpRequest, fact_id: int) -> HttpResponse:
    """The enterprise applies to repair a penalty record, with rectification evidence."""
    user = request_user(request)
    fact = archive_selectors.own_fact_get(user=user, pk=fact_id)
    earliest = repair_services.repair_eligibility(fact=fact)
    form = RepairForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            application = repair_services.repair_apply(
                actor=user,
                fact=fact,
                statement=form.cleaned_data["statement"],
                evidence=form.cleaned_data["evidence"],
            )
        except SERVICE_ERRORS as exc:
            form_error_add(form, exc)
        else:
            messages.success(request, _("信用修复申请已提交，等待审核"))
            return redirect("credit:repair_detail", pk=application.pk)
    period = PUBLICATION_PERIODS[fact.grade]
    assert fact.occurred_on is not None
    return render(
        request,
        "credit/repair_form.html",
        {
            "form": form,
            "fact": fact,
            "values": fact.values(),
            "period": period,
            "earliest": earliest,
            "too_early": timezone.localdate() < earliest,
            "publication_end": fact_publication_end(fact),  # what the archive shows too
        },
    )


def _repair_context(application: RepairApplication, user: User) -> dict[str, Any]:
    if application.status == RepairStatus.SUBMITTED:
        # an application filed before approvals ran on processes gets its case now
        repair_services.repair_process(application=application)
    step = repair_services.repair_step_for(application=application, user=user)
    return {
        "steps": repair_services.repair_open_steps(application=application),
        "my_step": step,
        "application": application,
        "values": application.fact.values(),
        "period": PUBLICATION_PERIODS.get(application.severity),
        "severity_label": CATEGORIES["penalty"].by_key["severity"].display(application.severity),
        "events": list(repair_selectors.repair_events(application=application)),
        "evidence": list(repair_selectors.repair_evidence(application=application)),
        "can_decide": step is not None,
        "approve_form": NoteForm(auto_id="approve_%s"),
        "reject_form": ReasonForm(auto_id="reject_%s"),
    }


@login_required
def repair_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A repair application with its evidence, timeline and the decision forms."""
    user = request_user(request)
    application = repair_selectors.repair_get(user=user, pk=pk)
    return render(request, "credit/repair_detail.html", _repair_context(application, user))


@login_required
@require_POST
def repair_decide(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Approve or reject a repair application."""
    user = request_user(request)
    application = repair_selectors.repair_get(user=user, pk=pk)
    context = _repair_context(application, user)
    form: forms.Form
    if action == "approve":
        form = NoteForm(request.POST, auto_id="approve_%s")
        context["approve_form"] = form
    elif action == "reject":
        form = ReasonForm(request.POST, auto_id="reject_%s")
        context["reject_form"] = form
    else:
        raise Http404
    if form.is_valid():
        try:
            if action == "approve":
                done = repair_services.repair_approve(
                    application=application, actor=user, reason=form.cleaned_data["note"]
                )
                if done.status == RepairStatus.APPROVED:
                    messages.success(request, _("已准予修复：该处罚信息不再向机构公示"))
                else:
                    following = repair_services.repair_open_steps(application=done)
                    messages.success(
                        request,
                        _("已同意，转下一环节：%(steps)s")
                        % {"steps": "、".join(t.name for t in following)},
                    )
            else:
                repair_services.repair_reject(
                    application=application, actor=user, reason=form.cleaned_data["reason"]
                )
                messages.success(request, _("已决定不予修复，企业已收到通知"))
        except PermissionDeniedError:
            raise  # the error page (403), not a form error
        except ConflictError as exc:
            messages.error(request, exc.message)
        except SERVICE_ERRORS as exc:
            form_error_add(form, exc)
            return render(request, "credit/repair_detail.html", context, status=422)
        return redirect("credit:repair_detail", pk=application.pk)
    return render(request, "credit/repair_detail.html", context, status=422)


@login_required
def repair_evidence_download(request: HttpRequest, pk: int, file_id: int) -> HttpResponseBase:
    """Download an evidence file of a repair application the user may see."""
    user = request_user(request)
    application = repair_selectors.repair_get(user=user, pk=pk)
    row = get_object_or_404(RepairEvidence, pk=file_id, application=application)
    return evidence_response(row)
