"""Pages of the policy module: evidence that policy lands (政策落地成效) and its Excel export."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase, QueryDict
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as N_

from xinrong.accounts.auth import request_user
from xinrong.accounts.permissions import require
from xinrong.common.errors import ApplicationError
from xinrong.common.exports import Sheet, xlsx_response
from xinrong.policies.choices import MeasureKind
from xinrong.policies.selectors import evidence as ev
from xinrong.reference import divisions


def _filters(params: QueryDict, evidence_choices: list[tuple[int, str]]) -> dict[str, Any]:
    """Read the department and kind filters; name the field and the rule when one is wrong."""
    errors: list[str] = []
    department_id: int | None = None
    raw = (params.get("department") or "").strip()
    if raw:
        if not raw.isdigit() or int(raw) not in {d for d, _n in evidence_choices}:
            errors.append(_("发布部门：请从列表中选择您可查看的部门"))
        else:
            department_id = int(raw)
    kind = (params.get("kind") or "").strip()
    if kind and kind not in MeasureKind.values:
        errors.append(_("措施类型：请从列表中选择"))
        kind = ""
    if errors:
        raise ApplicationError(
            "invalid_filter", "；".join(errors), {"field": "department"}, status=400
        )
    return {"department_id": department_id, "kind": kind or None}


def _evidence(request: HttpRequest) -> tuple[ev.Evidence, dict[str, Any], str]:
    user = request_user(request)
    require(user, "policies.evidence_view")
    choices = ev.policy_evidence(user=user).department_choices
    error = ""
    try:
        filters = _filters(request.GET, choices)
    except ApplicationError as exc:
        error = exc.message
        filters = {"department_id": None, "kind": None}
    evidence = ev.policy_evidence(user=user, **filters)
    evidence.department_choices = choices
    return evidence, filters, error


def _wan(value: Decimal | None) -> str | None:
    return None if value is None else str((value / 10000).quantize(Decimal("0.01")))


def _chart(evidence: ev.Evidence) -> dict[str, Any]:
    """The figures the page's charts read (amounts in 万元, as text)."""
    t = evidence.total
    return {
        "funnel": [
            {"name": _("符合条件"), "value": t.matched},
            {"name": _("已推送"), "value": t.pushed},
            {"name": _("已申请"), "value": t.applied},
            {"name": _("已批准"), "value": t.approved},
            {"name": _("已兑现"), "value": t.granted},
        ],
        "departments": [
            {
                "name": d.department,
                "budget": _wan(d.figures.budget),
                "granted": _wan(d.figures.granted_amount),
                "disbursed": _wan(d.figures.disbursed_amount),
            }
            for d in evidence.departments
        ],
        "labels": {
            "budget": _("预算（万元）"),
            "granted": _("已核定（万元）"),
            "disbursed": _("已拨付（万元）"),
        },
    }


@login_required
def evidence_page(request: HttpRequest) -> HttpResponse:
    """Evidence that policy lands: per department and per measure, with charts."""
    user = request_user(request)
    evidence, filters, error = _evidence(request)
    prefix = evidence.region_prefix
    region_name = ""
    if prefix and user.organisation and user.organisation.region_code:
        region_name = divisions.full_name(user.organisation.region_code)
    return render(
        request,
        "policies/evidence/page.html",
        {
            "evidence": evidence,
            "filters": filters,
            "error": error,
            "params": request.GET,
            "kinds": MeasureKind.choices,
            "region_name": region_name,
            "chart": _chart(evidence),
            "can_export": True,
            "query": request.GET.urlencode(),
        },
    )


HEADER = (
    N_("发布部门"),
    N_("措施编号"),
    N_("措施名称"),
    N_("措施类型"),
    N_("兑现方式"),
    N_("符合条件（户）"),
    N_("已推送（户）"),
    N_("已申请（件）"),
    N_("已批准（件）"),
    N_("未通过（件）"),
    N_("已兑现（笔）"),
    N_("预算（元）"),
    N_("已核定（元）"),
    N_("已拨付（元）"),
    N_("预算使用率（%）"),
    N_("审批用时中位数（天）"),
    N_("随后获得的平台贷款（笔）"),
    N_("随后获得的贷款金额（元）"),
)


def _figure_cells(f: ev.Figures) -> list[Any]:
    return [
        f.matched,
        f.pushed,
        f.applied,
        f.approved,
        f.rejected,
        f.granted,
        f.budget,
        f.granted_amount,
        f.disbursed_amount,
        f.budget_used_pct,
        f.median_days,
        f.loans,
        f.loan_amount,
    ]


@login_required
def evidence_export(request: HttpRequest) -> HttpResponseBase:
    """The evidence as an Excel workbook: one sheet per measure row, one per department."""
    user = request_user(request)
    require(user, "policies.evidence_export")
    evidence, _filters_used, _error = _evidence(request)
    automatic, apply = _("免申即享"), _("申请办理")
    measure_rows = (
        [
            m.department,
            m.code,
            m.title,
            m.kind_label,
            automatic if m.automatic else apply,
            *_figure_cells(m.figures),
        ]
        for m in evidence.measures
    )
    dept_header = [_("发布部门"), _("措施数"), *[str(h) for h in HEADER[5:]]]
    dept_rows = [
        [d.department, d.figures.measures, *_figure_cells(d.figures)] for d in evidence.departments
    ]
    dept_rows.append([_("合计"), evidence.total.measures, *_figure_cells(evidence.total)])
    stamp = timezone.localdate().strftime("%Y%m%d")
    return xlsx_response(
        [
            Sheet(_("按措施"), [str(h) for h in HEADER], measure_rows, freeze_header=True),
            Sheet(_("按部门"), dept_header, dept_rows, freeze_header=True),
        ],
        filename=_("政策落地成效") + f"-{stamp}.xlsx",
        fallback=f"policy-evidence-{stamp}.xlsx",
    )


urlpatterns: list[Any] = [
    path("evidence/", evidence_page, name="evidence"),
    path("evidence/export.xlsx", evidence_export, name="evidence_export"),
]
