"""Pages of the policy module: the PBoC column (央行政策专栏)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pandas as pd
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from xinrong.accounts.auth import request_user
from xinrong.accounts.choices import INSTITUTION_KINDS
from xinrong.accounts.models import Organisation
from xinrong.accounts.permissions import can, require
from xinrong.common.errors import SERVICE_ERRORS, NotFoundError, error_payload
from xinrong.common.forms import DateInput
from xinrong.marketplace.models import Loan
from xinrong.policies.choices import PbocTool
from xinrong.policies.models import PbocQuota
from xinrong.policies.selectors import pboc as sel
from xinrong.policies.services import pboc as svc


class QuotaForm(forms.Form):
    institution = forms.ModelChoiceField(
        label=gettext_lazy("金融机构"),
        queryset=Organisation.objects.filter(kind__in=sorted(INSTITUTION_KINDS), is_active=True),
    )
    tool = forms.ChoiceField(label=gettext_lazy("政策工具"), choices=PbocTool.choices)
    year = forms.IntegerField(label=gettext_lazy("年度"), min_value=2000, max_value=2100)
    quota = forms.DecimalField(
        label=gettext_lazy("额度（元）"), max_digits=16, decimal_places=2, min_value=Decimal("0.01")
    )
    rate = forms.DecimalField(
        label=gettext_lazy("利率（%）"), max_digits=5, decimal_places=2, required=False
    )


class UseForm(forms.Form):
    quota = forms.ModelChoiceField(label=gettext_lazy("额度"), queryset=PbocQuota.objects.none())
    loan_number = forms.CharField(label=gettext_lazy("贷款编号"), max_length=64)
    amount = forms.DecimalField(
        label=gettext_lazy("使用金额（元）"),
        max_digits=16,
        decimal_places=2,
        min_value=Decimal("0.01"),
    )
    used_on = forms.DateField(label=gettext_lazy("使用日期"), widget=DateInput())

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        field = self.fields["quota"]
        field.queryset = PbocQuota.objects.select_related("institution")  # type: ignore[attr-defined]
        field.label_from_instance = lambda q: (  # type: ignore[attr-defined]
            f"{q.institution.name} · {q.get_tool_display()} · {q.year}"
        )


@login_required
@require_POST
def pboc_record(request: HttpRequest, what: str) -> HttpResponse:
    """Record a quota (``quota``) or a loan's use of one (``use``); errors show on the page."""
    user = request_user(request)
    require(user, "policies.pboc_record")
    forms_by_name: dict[str, forms.Form] = {}
    if what == "quota":
        qform = QuotaForm(request.POST, prefix="quota")
        forms_by_name["quota_form"] = qform
        if qform.is_valid():
            d = qform.cleaned_data
            try:
                svc.quota_set(
                    institution=d["institution"],
                    tool=d["tool"],
                    year=d["year"],
                    quota=d["quota"],
                    rate=d["rate"],
                    actor=user,
                )
            except SERVICE_ERRORS as exc:
                qform.add_error(None, error_payload(exc)[1]["message"])
            else:
                messages.success(request, _("已登记额度"))
                return redirect("policies:pboc")
    elif what == "use":
        uform = UseForm(request.POST, prefix="use")
        forms_by_name["use_form"] = uform
        if uform.is_valid():
            d = uform.cleaned_data
            loan = Loan.objects.filter(number=d["loan_number"].strip()).first()
            if loan is None:
                uform.add_error("loan_number", _("平台上没有这个贷款编号"))
            else:
                try:
                    svc.quota_use_record(
                        quota=d["quota"],
                        loan=loan,
                        amount=d["amount"],
                        used_on=d["used_on"],
                        actor=user,
                    )
                except SERVICE_ERRORS as exc:
                    uform.add_error(None, error_payload(exc)[1]["message"])
                else:
                    messages.success(request, _("已登记额度使用"))
                    return redirect("policies:pboc")
    else:
        raise NotFoundError("not_found", _("没有这个操作"))
    return _column(request, user, status=400, **forms_by_name)


@login_required
def pboc_column(request: HttpRequest) -> HttpResponse:
    """The column page (GET)."""
    user = request_user(request)
    require(user, "policies.pboc_view")
    return _column(request, user)


def _column(
    request: HttpRequest,
    user: Any,
    *,
    status: int = 200,
    quota_form: forms.Form | None = None,
    use_form: forms.Form | None = None,
) -> HttpResponse:
    """Quotas and their use, inclusive small/micro loan shares by month, PBoC documents."""
    today = timezone.localdate()
    since = dt.date(today.year - 1, today.month, 1)
    quotas = list(sel.quotas_visible(user=user))
    for q in quotas:
        q.left = q.quota - (q.used or 0)  # type: ignore[attr-defined]
    shares = sel.inclusive_shares(user=user, since=since)
    rows: list[dict[str, Any]] = [] if shares.empty else shares.to_dict("records")
    months: list[str] = [] if shares.empty else sorted(shares["month"].unique().tolist())
    series = []
    if not shares.empty:
        credit = shares.pivot(index="institution", columns="month", values="credit_share")
        first = shares.pivot(index="institution", columns="month", values="first_share")
        for name in credit.index:
            series.append(
                {
                    "name": name,
                    "credit": [None if pd.isna(v) else float(v) for v in credit.loc[name, months]],
                    "first": [None if pd.isna(v) else float(v) for v in first.loc[name, months]],
                }
            )
    chart = {
        "months": months,
        "series": series,
        "quotas": [
            {
                "name": f"{q.institution.name}·{q.get_tool_display()}",
                "quota": str(q.quota),
                "used": str(getattr(q, "used", None) or 0),
            }
            for q in quotas
        ],
    }
    may_record = can(user, "policies.pboc_record")
    return render(
        request,
        "policies/pboc/column.html",
        {
            "quotas": quotas,
            "rows": rows,
            "chart": chart,
            "since": since,
            "documents": sel.pboc_documents()[:50],
            "sees_quotas": can(user, "policies.pboc_quota_view"),
            "may_subsidy": can(user, "policies.subsidy_view"),
            "may_record": may_record,
            "quota_form": quota_form or (QuotaForm(prefix="quota") if may_record else None),
            "use_form": use_form or (UseForm(prefix="use") if may_record else None),
        },
        status=status,
    )


urlpatterns = [
    path("pboc/", pboc_column, name="pboc"),
    path("pboc/quota/", pboc_record, {"what": "quota"}, name="pboc_quota"),
    path("pboc/use/", pboc_record, {"what": "use"}, name="pboc_use"),
]
