"""Pages of early warning: alert inbox and rule settings."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinrong.accounts.auth import request_user
from xinrong.common import listing
from xinrong.common.errors import SERVICE_ERRORS, PermissionDeniedError
from xinrong.credit import presenters
from xinrong.credit.choices import AlertSeverity
from xinrong.credit.early_warning import RULES_BY_ID as WARNING_RULES
from xinrong.credit.early_warning import SEVERITY_LABELS as WARNING_SEVERITY
from xinrong.credit.models import Alert
from xinrong.credit.selectors import early_warning as early_warning_selectors
from xinrong.credit.services import early_warning as early_warning_services


@login_required
def alerts(request: HttpRequest) -> HttpResponse:
    """The institution's early-warning inbox."""
    status = request.GET.get("status", "open")
    if status not in {"open", "acknowledged", "closed", "all"}:
        status = "open"
    filters: list[listing.Filter] = [
        listing.SearchFilter(
            "q",
            _("企业"),
            ["entity__name__icontains", "entity__uscc__iexact"],
            placeholder=_("企业名称或信用代码"),
        ),
        listing.ChoiceFilter(
            "rule", _("预警规则"), [(r, _(x.description)) for r, x in WARNING_RULES.items()]
        ),
        listing.ChoiceFilter("severity", _("严重程度"), AlertSeverity.choices),
        listing.DateRangeFilter("created", _("预警日期"), "created_at"),
    ]
    lst = listing.list_build(
        request,
        early_warning_selectors.alert_inbox(
            user=request_user(request), status=None if status == "all" else status
        ),
        filters,
        noun=_("预警"),
        keep=("status",),
    )
    rows = list(lst.page.object_list)
    for a in rows:
        rule = WARNING_RULES.get(a.rule)
        a.label = _(rule.description) if rule else a.rule
        a.detail_shown = presenters.alert_detail(a.rule, a.detail)
    enabled = [r.label() for r in early_warning_selectors.warning_rules_enabled()]
    return render(
        request,
        "credit/alerts.html",
        {
            "rows": rows,
            "listing": lst,
            "page": lst.page,
            "status": status,
            "enabled": enabled,
            "severities": AlertSeverity,
        },
    )


@login_required
def warning_rules(request: HttpRequest) -> HttpResponse:
    """The operator's early-warning rules: on or off, severity, threshold; and the changes."""
    user = request_user(request)
    data = early_warning_selectors.warning_rules(user=user)
    errors: dict[str, str] = {}
    if request.method == "POST":
        rule_id = request.POST.get("rule", "")
        try:
            early_warning_services.warning_rule_update(
                rule_id=rule_id,
                actor=user,
                enabled=request.POST.get("enabled") == "on",
                severity=request.POST.get("severity", ""),
                threshold=request.POST.get("threshold"),
                note=request.POST.get("note", ""),
            )
        except PermissionDeniedError:
            raise  # the error page (403)
        except SERVICE_ERRORS as exc:
            errors = {"rule": rule_id, "message": str(getattr(exc, "message", exc))}
            errors["field"] = str(getattr(exc, "extra", {}).get("field", ""))
            errors["threshold"] = request.POST.get("threshold", "")[:20]  # shown back as typed
        else:
            messages.success(request, _("预警规则已保存，下一批数据入库后按新设置检查"))
            return redirect("credit:warning_rules")
    return render(
        request,
        "credit/warning_rules.html",
        {"d": data, "errors": errors, "severities": list(WARNING_SEVERITY.items())},
        status=422 if errors else 200,
    )


@login_required
@require_POST
def alert_handle(request: HttpRequest, pk: int) -> HttpResponse:
    """Acknowledge or close an alert."""
    user = request_user(request)
    alert = get_object_or_404(Alert, pk=pk)
    note = request.POST.get("note", "")
    try:
        if request.POST.get("action") == "close":
            early_warning_services.alert_close(alert=alert, actor=user, note=note)
            messages.success(request, _("预警已关闭"))
        else:
            early_warning_services.alert_acknowledge(alert=alert, actor=user, note=note)
            messages.success(request, _("预警已确认"))
    except SERVICE_ERRORS as exc:
        messages.error(request, str(getattr(exc, "message", exc)))
    return redirect("credit:alerts")
