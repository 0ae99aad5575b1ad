"""Pages of guarantee and credit-insurance requests (担保/保险申请) attached to loan applications.

The guarantor's or insurer's queue and the request page where it approves (with its fee), declines
(with a reason) or issues the letter; the enterprise files a request from its application page and
may withdraw it; the lender sees the requests on its applications.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from xinrong.accounts import permissions
from xinrong.accounts.auth import request_user
from xinrong.common.errors import SERVICE_ERRORS, NotFoundError, PermissionDeniedError
from xinrong.common.forms import add_service_error
from xinrong.common.pagination import paginate
from xinrong.marketplace.choices import ACTIVE_STATUSES, GuaranteeRequestStatus
from xinrong.marketplace.models import GuaranteeRequest
from xinrong.marketplace.rules import guarantee_provider
from xinrong.marketplace.selectors import applications as application_selectors
from xinrong.marketplace.selectors import guarantees as guarantee_selectors
from xinrong.marketplace.services import guarantees as guarantee_services
from xinrong.marketplace.workflows import GUARANTEE_REQUEST

VIEW_PERMISSION = "marketplace.guarantee_requests_view"


class GuaranteeFileForm(forms.Form):
    """The enterprise's request: which guarantee or insurance product, how much, why."""

    product = forms.TypedChoiceField(label=gettext_lazy("担保/保险产品"), coerce=int)
    amount = forms.CharField(
        label=gettext_lazy("担保/保险金额（元）"),
        required=False,
        help_text=gettext_lazy("不填则按申请金额"),
    )
    note = forms.CharField(
        label=gettext_lazy("申请说明"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        product = self.fields["product"]
        assert isinstance(product, forms.TypedChoiceField)
        product.choices = [("", "——")] + [
            (p.pk, f"{p.name} · {p.institution.name}")
            for p in guarantee_selectors.guarantee_products()
        ]
        self.fields["product"].error_messages["required"] = _("请选择担保/保险产品")
        self.fields["product"].error_messages["invalid_choice"] = _(
            "请选择一款已上架的担保或保险产品"
        )


class GuaranteeApproveForm(forms.Form):
    """The provider's approval: the fee rate and amount (yuan)."""

    fee_rate = forms.CharField(label=gettext_lazy("费率（%/年）"), required=False)
    fee_amount = forms.CharField(
        label=gettext_lazy("担保/保险费（元）"),
        required=False,
        help_text=gettext_lazy("不填则按 金额 × 费率 × 期限 计算"),
    )
    note = forms.CharField(label=gettext_lazy("审核意见"), required=False, max_length=2000)


class GuaranteeDeclineForm(forms.Form):
    """Why the provider declines (the enterprise and the lender see it)."""

    note = forms.CharField(
        label=gettext_lazy("拒绝理由"),
        max_length=2000,
        error_messages={"required": gettext_lazy("请填写拒绝理由")},
    )


class GuaranteeIssueForm(forms.Form):
    """The letter's or policy's number."""

    letter_no = forms.CharField(
        label=gettext_lazy("保函/保单编号"),
        max_length=64,
        error_messages={"required": gettext_lazy("请填写保函/保单编号")},
    )
    note = forms.CharField(label=gettext_lazy("说明"), required=False, max_length=2000)


class GuaranteeWithdrawForm(forms.Form):
    """The enterprise's note on withdrawing."""

    note = forms.CharField(label=gettext_lazy("撤回说明"), required=False, max_length=2000)


ACTION_FORMS: dict[str, type[forms.Form]] = {
    "approve": GuaranteeApproveForm,
    "decline": GuaranteeDeclineForm,
    "issue": GuaranteeIssueForm,
    "withdraw": GuaranteeWithdrawForm,
}


def guarantee_context(user: Any, app: Any) -> dict[str, Any]:
    """The application page's guarantee part: the visible requests, and the enterprise's form."""
    may_file = app.status in ACTIVE_STATUSES and permissions.can(
        user, "marketplace.guarantee_request_file", app
    )
    return {
        "guarantees": list(guarantee_selectors.guarantee_requests_of(user=user, application=app)),
        "guarantee_form": GuaranteeFileForm(prefix="guarantee") if may_file else None,
    }


@login_required
def guarantee_list(request: HttpRequest) -> HttpResponse:
    """The requests the user may see: received (provider), its own (enterprise), on its
    applications (lender), all (operator); filtered by status."""
    user = request_user(request)
    permissions.require(user, VIEW_PERMISSION)
    status = request.GET.get("status", "")
    if status not in GuaranteeRequestStatus.values:
        status = ""
    page = paginate(
        request, guarantee_selectors.guarantee_requests_visible(user=user, status=status)
    )
    counts = guarantee_selectors.guarantee_status_counts(user=user)
    return render(
        request,
        "marketplace/guarantee_list.html",
        {
            "page": page,
            "status": status,
            "statuses": [
                (s, label, counts.get(s, 0)) for s, label in GuaranteeRequestStatus.choices
            ],
            "total": sum(counts.values()),
            "provider": bool(guarantee_provider(user)),
        },
    )


def _detail(
    request: HttpRequest, req: GuaranteeRequest, user: Any, *, failed: dict[str, forms.Form]
) -> HttpResponse:
    version = getattr(req.product, "current_version", None)
    # the approval starts from the product's published fee rate (the lowest of its range)
    initial = {"approve": {"fee_rate": version.rate_min}} if version is not None else {}
    actions = [
        (
            a,
            failed.get(a.name) or ACTION_FORMS[a.name](prefix=a.name, initial=initial.get(a.name)),
        )
        for a in GUARANTEE_REQUEST.available(user, req)
        if a.name in ACTION_FORMS
    ]
    return render(
        request,
        "marketplace/guarantee_detail.html",
        {
            "req": req,
            "app": req.application,
            "events": guarantee_selectors.guarantee_events(request=req),
            "actions": actions,
        },
        status=400 if failed else 200,
    )


@login_required
def guarantee_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One request: the loan it backs, the fee, the timeline and the actions the user may take."""
    user = request_user(request)
    permissions.require(user, VIEW_PERMISSION)
    req = guarantee_selectors.guarantee_request_get(user=user, pk=pk)
    return _detail(request, req, user, failed={})


def _run(action: str, req: GuaranteeRequest, user: Any, data: dict[str, Any]) -> None:
    note = data.get("note") or ""
    if action == "approve":
        guarantee_services.guarantee_approve(
            request=req,
            actor=user,
            fee_rate=data.get("fee_rate"),
            fee_amount=data.get("fee_amount"),
            note=note,
        )
    elif action == "decline":
        guarantee_services.guarantee_decline(request=req, actor=user, note=note)
    elif action == "issue":
        guarantee_services.guarantee_issue(
            request=req, actor=user, letter_no=data.get("letter_no") or "", note=note
        )
    else:
        guarantee_services.guarantee_withdraw(request=req, actor=user, note=note)


@login_required
@require_POST
def guarantee_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Take one action on a request (its form is prefixed with the action's name)."""
    user = request_user(request)
    req = guarantee_selectors.guarantee_request_get(user=user, pk=pk)
    if action not in ACTION_FORMS:
        raise NotFoundError("not_found", _("没有这个操作"))
    GUARANTEE_REQUEST.check(user, req, action)  # 403 / 409 before any input is read
    form = ACTION_FORMS[action](request.POST, prefix=action)
    if form.is_valid():
        try:
            _run(action, req, user, form.cleaned_data)
        except SERVICE_ERRORS as exc:
            if isinstance(exc, PermissionDeniedError):
                raise
            add_service_error(form, exc)
        else:
            messages.success(request, _("已%(a)s") % {"a": GUARANTEE_REQUEST.action(action).label})
            return redirect("marketplace:guarantee_detail", pk=pk)
    req.refresh_from_db()
    return _detail(request, req, user, failed={action: form})


@login_required
@require_POST
def guarantee_file(request: HttpRequest, pk: int) -> HttpResponse:
    """The enterprise attaches a guarantee or insurance request to its application."""
    user = request_user(request)
    app = application_selectors.application_visible_get(user=user, pk=pk)
    permissions.require(
        user,
        "marketplace.guarantee_request_file",
        app,
        message=_("只有申请企业的企业主或经办人可以为贷款申请申请担保或保险"),
    )
    form = GuaranteeFileForm(request.POST, prefix="guarantee")
    if form.is_valid():
        product = (
            guarantee_selectors.guarantee_products().filter(pk=form.cleaned_data["product"]).first()
        )
        try:
            req = guarantee_services.guarantee_request_file(
                actor=user,
                application=app,
                product=product,
                amount=form.cleaned_data.get("amount"),
                note=form.cleaned_data.get("note") or "",
            )
        except SERVICE_ERRORS as exc:
            if isinstance(exc, PermissionDeniedError):
                raise
            add_service_error(form, exc)
        else:
            messages.success(request, _("已向%(p)s提出担保/保险申请") % {"p": req.provider.name})
            return redirect("marketplace:application_detail", pk=pk)
    for error in form.errors.values():
        for message in error:
            messages.error(request, str(message))
    return redirect("marketplace:application_detail", pk=pk)
