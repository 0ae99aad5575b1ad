"""Pages of credit cultivation."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from xinrong.accounts.auth import request_user
from xinrong.common.errors import SERVICE_ERRORS
from xinrong.common.http import error_page
from xinrong.credit.selectors import cultivation as cultivation_selectors
from xinrong.credit.selectors import scoring as scoring_selectors
from xinrong.credit.services import cultivation as cultivation_services
from xinrong.enterprises.models import MarketEntity


@login_required
def cultivation(request: HttpRequest) -> HttpResponse:
    """Candidates for cultivation and the department's cases."""
    user = request_user(request)
    industry = request.GET.get("industry", "").strip().upper()[:1]
    try:
        if request.method == "POST":
            entity = get_object_or_404(MarketEntity, pk=request.POST.get("entity"))
            case = cultivation_services.cultivation_start(
                entity=entity, actor=user, plan=request.POST.get("plan", "")
            )
            messages.success(request, _("已纳入信用培植：%(n)s") % {"n": entity.name})
            return redirect("credit:cultivation_case", pk=case.pk)
        candidates = cultivation_selectors.cultivation_candidates(user=user, industry=industry)
        cases = list(cultivation_selectors.cultivation_list(user=user)[:300])
    except SERVICE_ERRORS as exc:
        return error_page(request, exc)
    return render(
        request,
        "credit/cultivation.html",
        {"candidates": candidates, "cases": cases, "industry": industry},
    )


@login_required
def cultivation_case(request: HttpRequest, pk: int) -> HttpResponse:
    """One case: plan, follow-up notes, score since the start; add notes or end it."""
    user = request_user(request)
    try:
        case = cultivation_selectors.cultivation_get(user=user, pk=pk)
        if request.method == "POST":
            if request.POST.get("action") == "end":
                cultivation_services.cultivation_end(
                    case=case, actor=user, reason=request.POST.get("text", "")
                )
                messages.success(request, _("培植已终止"))
            else:
                cultivation_services.cultivation_note_add(
                    case=case, actor=user, text=request.POST.get("text", "")
                )
                messages.success(request, _("已记录跟进"))
            return redirect("credit:cultivation_case", pk=case.pk)
    except SERVICE_ERRORS as exc:
        return error_page(request, exc)
    profile = scoring_selectors.profile_latest(entity=case.entity)
    return render(
        request,
        "credit/cultivation_case.html",
        {
            "case": case,
            "events": list(cultivation_selectors.cultivation_events(case=case)),
            "profile": profile,
        },
    )
