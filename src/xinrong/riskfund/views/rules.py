"""Pages of the risk fund: rule versions, a new version, the circuit breaker (all institutions'
and one's own)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts.auth import request_user
from xinrong.accounts.permissions import can, require
from xinrong.common.errors import SERVICE_ERRORS
from xinrong.common.forms import add_service_error
from xinrong.riskfund.forms.rules import RuleSetForm
from xinrong.riskfund.selectors import rules as selectors
from xinrong.riskfund.services import rules as services


@login_required
def rules(request: HttpRequest, code: str) -> HttpResponse:
    """Every version of a fund's rules, newest first, with what each changed in words."""
    user = request_user(request)
    fund = selectors.fund_get(user=user, code=code)
    return render(
        request,
        "riskfund/rules/list.html",
        {
            "fund": fund,
            "versions": selectors.rule_versions(fund=fund),
            "can_manage": can(user, "riskfund.rules_manage", fund),
            "today": timezone.localdate(),
        },
    )


@login_required
def rules_new(request: HttpRequest, code: str) -> HttpResponse:
    """The office sets a new version, in force from a date; every error at once."""
    user = request_user(request)
    fund = selectors.fund_get(user=user, code=code, permission="riskfund.rules_manage")
    latest = selectors.latest_rules(fund)
    form = RuleSetForm(request.POST or None, fund=fund, latest=latest)
    if request.method == "POST" and form.is_valid():
        try:
            created = services.rule_set_create(actor=user, fund=fund, **form.service_args())
        except SERVICE_ERRORS as exc:
            add_service_error(form, exc)
        else:
            messages.success(
                request,
                _("已设定第 %(v)s 版规则，自 %(d)s 起放出的贷款按新规则判断")
                % {"v": created.version, "d": created.effective_from.isoformat()},
            )
            return redirect("riskfund:rules", code=fund.code)
    return render(
        request,
        "riskfund/rules/new.html",
        {"fund": fund, "form": form, "latest": latest},
        status=422 if request.method == "POST" else 200,
    )


@login_required
def breakers(request: HttpRequest) -> HttpResponse:
    """Per fund: every institution's non-performing ratio against the threshold, tripped first,
    and the history of trips and resets."""
    user = request_user(request)
    require(user, "riskfund.breaker_view")
    code = request.GET.get("fund", "")
    funds = selectors.funds_visible(user=user, permission="riskfund.breaker_view")
    return render(
        request,
        "riskfund/rules/breakers.html",
        {
            "boards": selectors.breaker_boards(user=user, code=code),
            "funds": funds,
            "fund_code": code,
        },
    )


@login_required
def my_breaker(request: HttpRequest) -> HttpResponse:
    """The institution's own standing under each fund, how far from the line, its history."""
    user = request_user(request)
    require(user, "riskfund.breaker_own")
    return render(
        request,
        "riskfund/rules/my_breaker.html",
        {
            "standings": selectors.my_standings(user=user),
            "history": selectors.my_history(user=user),
        },
    )


urlpatterns: list[Any] = [
    path("funds/<slug:code>/rules/", rules, name="rules"),
    path("funds/<slug:code>/rules/new/", rules_new, name="rules_new"),
    path("breakers/", breakers, name="breakers"),
    path("breaker/", my_breaker, name="my_breaker"),
]
