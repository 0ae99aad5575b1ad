"""Credit pages: the archive, the relationship graph, authorisations and the query log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinrong.accounts.auth import request_user
from xinrong.accounts.choices import OrgGroup
from xinrong.accounts.models import User
from xinrong.accounts.permissions import is_auditor, is_operator_admin
from xinrong.common.errors import (
    SERVICE_ERRORS,
    ApplicationError,
    ConflictError,
    PermissionDeniedError,
    error_payload,
)
from xinrong.common.forms import add_service_error
from xinrong.common.http import attachment_response, error_page
from xinrong.credit import presenters, reports, rules, selectors, services
from xinrong.credit.choices import (
    DISPUTE_ANSWER_DAYS,
    GRAPH_CONTENT,
    GRAPH_CONTENT_LABEL,
    GRAPH_HOPS,
    QUERY_LOG_ITEMS,
    Channel,
    DisputeStatus,
    EdgeKind,
    NodeKind,
    RepairStatus,
)
from xinrong.credit.forms import (
    REPORT_UPLOAD_MAX_BYTES,
    AuthorisationForm,
    DisputeCorrectForm,
    DisputeForm,
    EvidenceForm,
    NoteForm,
    ReasonForm,
    RepairForm,
    ReportGenerateForm,
    ReportVerifyForm,
    value_field_name,
)
from xinrong.credit.models import (
    Alert,
    Authorisation,
    Dispute,
    DisputeEvidence,
    RepairApplication,
    RepairEvidence,
)
from xinrong.credit.publication import (
    PUBLICATION_PERIODS,
    REPAIRABLE_CATEGORY,
    maximum_period_end,
    repair_earliest_on,
)
from xinrong.credit.warnings import RULES_BY_ID as WARNING_RULES
from xinrong.credit.warnings import SEVERITY_LABELS as WARNING_SEVERITY
from xinrong.credit.workbooks import archive_workbook
from xinrong.datahub.categories import CATEGORIES
from xinrong.datahub.crossval import RULES_BY_ID, SEVERITY_LABELS
from xinrong.datahub.models import Fact
from xinrong.datahub.selectors import conflict_list
from xinrong.enterprises import selectors as entity_selectors
from xinrong.enterprises.models import MarketEntity


def _own_entity(user: User) -> MarketEntity:
    entity = getattr(user.organisation, "market_entity", None) if user.organisation else None
    if entity is None:
        raise PermissionDenied(_("您的账户没有关联的市场主体"))
    return entity


def _archive_read(request: HttpRequest, uscc: str, channel: str) -> selectors.Archive:
    """Read (and, when non-public, log) the archive of ``uscc`` for the requesting user."""
    user = request_user(request)
    entity = entity_selectors.market_entity_get(user=user, uscc=uscc)
    return selectors.archive_read(user=user, entity=entity, channel=channel)


def _archive_row(data: selectors.Archive, fact: Fact, today: dt.date) -> dict[str, Any]:
    """One archive row: its values, dispute and repair marks, and the owner's actions."""
    repaired = fact.pk in data.repaired
    pending = fact.pk in data.repair_pending
    repair_from = None
    if (
        data.own
        and fact.category == REPAIRABLE_CATEGORY
        and fact.grade in PUBLICATION_PERIODS
        and fact.occurred_on is not None
        and not repaired
        and not pending
    ):
        repair_from = repair_earliest_on(severity=fact.grade, decided_on=fact.occurred_on)
    return {
        "fact": fact,
        "values": fact.values(),
        "disputed": fact.pk in data.disputed,
        "dispute_id": data.open_disputes.get(fact.pk),
        "repaired": repaired,
        "repair_pending": pending,
        "can_dispute": data.own and fact.pk not in data.disputed,
        "repair_from": repair_from,
        "can_repair": repair_from is not None and repair_from <= today,
    }


@login_required
def archive(request: HttpRequest, uscc: str) -> HttpResponse:
    """Show the credit archive the user may see (the read is logged when non-public)."""
    try:
        data = _archive_read(request, uscc, Channel.PAGE)
    except SERVICE_ERRORS as exc:
        return error_page(request, exc)
    entity = data.entity
    today = timezone.localdate()
    sections = [
        {
            "code": c,
            "name": CATEGORIES[c].name,
            "facts": facts,
            "rows": [_archive_row(data, fact, today) for fact in facts],
            "fields": [f for f in CATEGORIES[c].fields],
        }
        for c, facts in data.facts.items()
    ]
    conflicts = []
    if data.own:  # details quote non-public source data: the enterprise sees its own
        conflicts = [
            {
                "rule": _(RULES_BY_ID[c.rule].description) if c.rule in RULES_BY_ID else c.rule,
                "severity": SEVERITY_LABELS.get(c.severity, c.severity),
                "detail": c.detail,
                "found": c.created_at,
            }
            for c in conflict_list(entity=entity)
        ]
    return render(
        request,
        "credit/archive.html",
        {
            "entity": entity,
            "archive": data,
            "sections": sections,
            "hidden": [CATEGORIES[c].name for c in data.hidden],
            "conflicts": conflicts,
        },
    )


@login_required
def authorisations(request: HttpRequest) -> HttpResponse:
    """The enterprise grants, lists and revokes authorisations."""
    user = request_user(request)
    entity = _own_entity(user)
    form = AuthorisationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.authorisation_grant(
                entity=entity,
                actor=user,
                institution=d["institution"],
                scope=d["scope"],
                categories=d["categories"],
                purpose=d["purpose"],
                purpose_note=d["purpose_note"],
                expires_on=d["expires_on"],
            )
        except SERVICE_ERRORS as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("已授权“%(o)s”") % {"o": d["institution"].name})
            return redirect("credit:authorisations")
    try:
        rows = list(selectors.authorisation_list(user=user, entity=entity))
    except ApplicationError as exc:
        raise PermissionDenied(exc.message) from exc
    return render(
        request, "credit/authorisations.html", {"form": form, "rows": rows, "entity": entity}
    )


@login_required
@require_POST
def authorisation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Withdraw an authorisation."""
    user = request_user(request)
    entity = _own_entity(user)
    auth = get_object_or_404(Authorisation, pk=pk, entity=entity)
    try:
        services.authorisation_revoke(authorisation=auth, actor=user)
    except ApplicationError as exc:
        raise PermissionDenied(exc.message) from exc
    messages.success(request, _("授权已撤销"))
    return redirect("credit:authorisations")


@login_required
def query_log(request: HttpRequest) -> HttpResponse:
    """Who read the enterprise's non-public information."""
    user = request_user(request)
    entity = _own_entity(user)
    try:
        logs = selectors.query_log_list(user=user, entity=entity)[:500]
    except ApplicationError as exc:
        raise PermissionDenied(exc.message) from exc
    return render(
        request,
        "credit/query_log.html",
        {
            "logs": logs,
            "entity": entity,
            "categories": {
                **{c: _(s.name) for c, s in CATEGORIES.items()},
                GRAPH_CONTENT: GRAPH_CONTENT_LABEL,
                **{k: str(v) for k, v in QUERY_LOG_ITEMS.items()},
            },
        },
    )


@login_required
def archive_export(request: HttpRequest, uscc: str) -> HttpResponseBase:
    """Download the readable archive as Excel; a non-public export is logged like any read."""
    try:
        data = _archive_read(request, uscc, Channel.EXPORT)
    except SERVICE_ERRORS as exc:
        return error_page(request, exc)
    return archive_workbook(data)


# ---------------------------------------------------------------- portrait


@login_required
def portrait_own(request: HttpRequest) -> HttpResponse:
    """The enterprise's own portrait."""
    entity = _own_entity(request_user(request))
    return redirect("credit:portrait", uscc=entity.uscc)


@login_required
def portrait(request: HttpRequest, uscc: str) -> HttpResponse:
    """Show a credit portrait (画像); an institution's view is logged as a query."""
    user = request_user(request)
    try:
        entity = entity_selectors.market_entity_get(user=user, uscc=uscc)
        data = selectors.portrait_read(user=user, entity=entity, channel=Channel.PAGE)
    except SERVICE_ERRORS as exc:
        return error_page(request, exc)
    chart = {
        "radar": [{"name": label, "value": value} for _code, label, value in data.dimensions],
        "trend": [{"date": d, "score": s} for d, s in data.history],
        "label": _("维度得分"),
    }
    return render(request, "credit/portrait.html", {"p": data, "entity": entity, "chart": chart})


# ---------------------------------------------------------------- model registry


@login_required
def model_list(request: HttpRequest) -> HttpResponse:
    """The operator's list of scoring-model versions."""
    try:
        models = list(selectors.model_list(user=request_user(request)))
    except SERVICE_ERRORS as exc:
        return error_page(request, exc)
    return render(request, "credit/models.html", {"models": models})


@login_required
def model_detail(request: HttpRequest, version: int) -> HttpResponse:
    """One version: metrics, bins and points, events, and stability of recent scoring runs."""
    try:
        data = selectors.model_detail(user=request_user(request), version=version)
    except SERVICE_ERRORS as exc:
        return error_page(request, exc)
    return render(request, "credit/model.html", {"d": data, "chart": data.chart})


@login_required
@require_POST
def model_activate(request: HttpRequest, version: int) -> HttpResponse:
    """Activate a version (the audit record names the operator)."""
    user = request_user(request)
    try:
        model = selectors.model_detail(user=user, version=version).model
        services.model_activate(model=model, actor=user, note=request.POST.get("note", "")[:500])
    except SERVICE_ERRORS as exc:
        return error_page(request, exc)
    messages.success(request, _("模型 v%(v)d 已启用；全量评分已排入后台任务") % {"v": version})
    services.rescore_all_schedule()
    return redirect("credit:model", version=version)


# ---------------------------------------------------------------- early warning


@login_required
def alerts(request: HttpRequest) -> HttpResponse:
    """The institution's early-warning inbox."""
    status = request.GET.get("status", "open")
    if status not in {"open", "acknowledged", "closed", "all"}:
        status = "open"
    try:
        rows = list(
            selectors.alert_inbox(
                user=request_user(request), status=None if status == "all" else status
            )[:500]
        )
    except SERVICE_ERRORS as exc:
        return error_page(request, exc)
    for a in rows:
        rule = WARNING_RULES.get(a.rule)
        a.label = _(rule.description) if rule else a.rule  # type: ignore[attr-defined]
        a.severity_label = WARNING_SEVERITY.get(a.severity, a.severity)  # type: ignore[attr-defined]
    enabled = [r.label() for r in selectors.warning_rules_enabled()]
    return render(
        request, "credit/alerts.html", {"rows": rows, "status": status, "enabled": enabled}
    )


@login_required
def warning_rules(request: HttpRequest) -> HttpResponse:
    """The operator's early-warning rules: on or off, severity, threshold; and the changes."""
    user = request_user(request)
    try:
        data = selectors.warning_rules(user=user)
    except SERVICE_ERRORS as exc:
        return error_page(request, exc)
    errors: dict[str, str] = {}
    if request.method == "POST":
        rule_id = request.POST.get("rule", "")
        try:
            services.warning_rule_update(
                rule_id=rule_id,
                actor=user,
                enabled=request.POST.get("enabled") == "on",
                severity=request.POST.get("severity", ""),
                threshold=request.POST.get("threshold"),
                note=request.POST.get("note", ""),
            )
        except SERVICE_ERRORS as exc:
            errors = {"rule": rule_id, "message": str(getattr(exc, "message", exc))}
            errors["field"] = str(getattr(exc, "extra", {}).get("field", ""))
            errors["threshold"] = request.POST.get("threshold", "")[:20]  # shown back as typed
            if isinstance(exc, PermissionDeniedError):
                return error_page(request, exc)
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
            services.alert_close(alert=alert, actor=user, note=note)
            messages.success(request, _("预警已关闭"))
        else:
            services.alert_acknowledge(alert=alert, actor=user, note=note)
            messages.success(request, _("预警已确认"))
    except SERVICE_ERRORS as exc:
        messages.error(request, str(getattr(exc, "message", exc)))
    return redirect("credit:alerts")


# ---------------------------------------------------------------- credit cultivation


@login_required
def cultivation(request: HttpRequest) -> HttpResponse:
    """Candidates for cultivation and the department's cases."""
    user = request_user(request)
    industry = request.GET.get("industry", "").strip().upper()[:1]
    try:
        if request.method == "POST":
            entity = get_object_or_404(MarketEntity, pk=request.POST.get("entity"))
            case = services.cultivation_start(
                entity=entity, actor=user, plan=request.POST.get("plan", "")
            )
            messages.success(request, _("已纳入信用培植：%(n)s") % {"n": entity.name})
            return redirect("credit:cultivation_case", pk=case.pk)
        candidates = selectors.cultivation_candidates(user=user, industry=industry)
        cases = list(selectors.cultivation_list(user=user)[:300])
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
        case = selectors.cultivation_get(user=user, pk=pk)
        if request.method == "POST":
            if request.POST.get("action") == "end":
                services.cultivation_end(case=case, actor=user, reason=request.POST.get("text", ""))
                messages.success(request, _("培植已终止"))
            else:
                services.cultivation_note_add(
                    case=case, actor=user, text=request.POST.get("text", "")
                )
                messages.success(request, _("已记录跟进"))
            return redirect("credit:cultivation_case", pk=case.pk)
    except SERVICE_ERRORS as exc:
        return error_page(request, exc)
    profile = selectors.profile_latest(entity=case.entity)
    return render(
        request,
        "credit/cultivation_case.html",
        {"case": case, "notes": list(case.notes.select_related("author")), "profile": profile},
    )


DEFAULT_HOPS = 2


def _hops(raw: str | None) -> int:
    """Parse the ``hops`` query parameter; the selector checks its range."""
    try:
        return int(raw) if raw not in (None, "") else DEFAULT_HOPS
    except ValueError:
        raise ApplicationError(
            "invalid_hops",
            _("字段“hops”（展开层数）只能是 1、2 或 3，收到的是“%(value)s”")
            % {"value": (raw or "")[:20]},
            {"field": "hops"},
            status=422,
        ) from None


@login_required
def graph(request: HttpRequest, uscc: str) -> HttpResponse:
    """Show the relationship graph page; its data comes from ``graph_data`` (read and logged)."""
    user = request_user(request)
    try:
        entity = entity_selectors.market_entity_get(user=user, uscc=uscc)
        _categories, auth, own = selectors.graph_access(user=user, entity=entity)
    except SERVICE_ERRORS as exc:
        return error_page(request, exc)
    raw = request.GET.get("hops", "")
    hops = int(raw) if raw.isdigit() and int(raw) in GRAPH_HOPS else DEFAULT_HOPS
    return render(
        request,
        "credit/graph.html",
        {
            "entity": entity,
            "authorisation": auth,
            "own": own,
            "hops": hops,
            "hop_choices": GRAPH_HOPS,
            "labels": {
                "nodes": {k.value: str(k.label) for k in NodeKind},
                "edges": {k.value: str(k.label) for k in EdgeKind},
                "text": {
                    "summary": _("节点 {nodes} 个，关系 {edges} 条"),
                    "truncated": _("超过 {max} 个节点，已截断，请减少层数"),
                    "loading": _("正在加载…"),
                    "failed": _("图谱加载失败，请稍后重试"),
                    "center": _("本主体"),
                    "hop": _("第 {n} 层"),
                    "outside": _("超出当前层数"),
                    "amount": _("圈内担保金额合计 {amount}"),
                },
            },
        },
    )


# ---------------------------------------------------------------- credit reports


@login_required
def report_new(request: HttpRequest, uscc: str) -> HttpResponse:
    """Confirm (GET) and generate (POST) a credit report, then send the PDF."""
    user = request_user(request)
    try:
        entity = entity_selectors.market_entity_get(user=user, uscc=uscc)
        own, auth = selectors.report_access(user=user, entity=entity)
    except SERVICE_ERRORS as exc:
        return error_page(request, exc)
    form = ReportGenerateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            report = services.report_generate(
                user=user,
                entity=entity,
                channel=Channel.PAGE,
                purpose=form.cleaned_data["purpose"],
                verify_base=request.build_absolute_uri("/"),
            )
        except SERVICE_ERRORS as exc:
            status, _body = error_payload(exc)
            if status != 422:
                return error_page(request, exc)
            add_service_error(form, exc)
        else:
            return redirect("credit:report_download", number=report.number)
    return render(
        request,
        "credit/report_new.html",
        {
            "entity": entity,
            "own": own,
            "authorisation": auth,
            "form": form,
            "reports": list(selectors.report_list(user=user, entity=entity)[:10]),
            "daily_limit": getattr(settings, "XINRONG_REPORT_DAILY_LIMIT", 20),
        },
        status=422 if form.errors else 200,
    )


@login_required
def graph_data(request: HttpRequest, uscc: str) -> JsonResponse:
    """Return the graph as JSON for the page; a non-public read is logged like the archive."""
    user = request_user(request)
    try:
        hops = _hops(request.GET.get("hops"))
        entity = entity_selectors.market_entity_get(user=user, uscc=uscc)
        data = selectors.relationship_graph(
            user=user, entity=entity, hops=hops, channel=Channel.PAGE
        )
    except SERVICE_ERRORS as exc:
        status, body = error_payload(exc)
        return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
    return JsonResponse(presenters.graph_out(data), json_dumps_params={"ensure_ascii": False})


def report_download(request: HttpRequest, number: str) -> HttpResponse:
    """Send a stored report to its generating organisation (after checking its SM3 digest)."""
    user = request_user(request)
    try:
        report = selectors.report_get(user=user, number=number)
        data = selectors.report_file_read(report=report)
    except SERVICE_ERRORS as exc:
        return error_page(request, exc)
    return attachment_response(
        data,
        filename=_("企业信用报告-%(name)s-%(n)s.pdf")
        % {"name": report.entity.name, "n": report.number},
        fallback=f"credit-report-{report.number}.pdf",
        content_type="application/pdf",
    )


@login_not_required
def report_verify_lookup(request: HttpRequest) -> HttpResponse:
    """The public verification entry: type a report number (no login)."""
    number = request.GET.get("number", "").strip()
    error = ""
    if number:
        try:
            return redirect("report_verify", number=reports.normalise_number(number))
        except SERVICE_ERRORS as exc:
            error = error_payload(exc)[1]["message"]
    return render(
        request,
        "credit/report_verify.html",
        {"number": number, "error": error, "result": None},
        status=404 if error else 200,
    )


@login_not_required
def report_verify(request: HttpRequest, number: str) -> HttpResponse:
    """Public verification of a report by number: an uploaded copy or a pasted SM3 digest."""
    try:
        result = selectors.report_verify(number=number)
    except SERVICE_ERRORS as exc:
        status, body = error_payload(exc)
        return render(
            request,
            "credit/report_verify.html",
            {"number": number, "error": body["message"], "result": None},
            status=status,
        )
    status = 200
    form_error = ""
    if request.method == "POST":
        # Refuse an oversized upload before Django reads it.
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > REPORT_UPLOAD_MAX_BYTES + 64 * 1024:
            form = ReportVerifyForm()
            form_error = _("文件不能超过 20 MB")
            status = 413
        else:
            form = ReportVerifyForm(request.POST, request.FILES)
            if form.is_valid():
                document = form.cleaned_data["document"]
                result = selectors.report_verify(
                    number=result.number,
                    digest=form.cleaned_data["digest"] or None,
                    document=document.read() if document is not None else None,
                )
            else:
                status = 422
    else:
        form = ReportVerifyForm()
    return render(
        request,
        "credit/report_verify.html",
        {
            "number": result.number,
            "result": result,
            "form": form,
            "form_error": form_error,
            "error": "",
        },
        status=status,
    )


# ============================================================================================
# Disputes (异议) and credit repair (信用修复)
# ============================================================================================


def _add_error(form: forms.Form, exc: Exception) -> None:
    """Show a service error on its field; ``values.<key>`` maps to the value input of key."""
    _status, body = error_payload(exc)
    field = str(body["extra"].get("field") or "")
    if "." in field:
        field = value_field_name(field.split(".", 1)[1])
    if field == "fact_id":
        field = ""
    form.add_error(field if field in form.fields else None, body["message"])


def _case_role(user: User) -> str:
    """Return how the user takes part in disputes: enterprise, handler, operator, auditor."""
    if user.group == OrgGroup.ENTERPRISE:
        return "enterprise"
    if is_operator_admin(user):
        return "operator"
    if is_auditor(user):
        return "auditor"
    return "handler"


@login_required
def dispute_list(request: HttpRequest) -> HttpResponse:
    """The enterprise's disputes, a department's inbox, or all disputes for the operator."""
    user = request_user(request)
    status = request.GET.get("status", "")
    overdue = request.GET.get("overdue") == "1"
    today = timezone.localdate()
    try:
        qs = selectors.dispute_list(user=user, status=status, overdue=overdue, today=today)
        counts = selectors.dispute_counts(user=user, today=today)
    except SERVICE_ERRORS as exc:
        return error_page(request, exc)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "credit/dispute_list.html",
        {
            "page": page,
            "role": _case_role(user),
            "status": status,
            "overdue": overdue,
            "statuses": DisputeStatus.choices,
            "counts": counts,
            "today": today,
            "categories": {c: s.name for c, s in CATEGORIES.items()},
        },
    )


@login_required
def dispute_new(request: HttpRequest, fact_id: int) -> HttpResponse:
    """The enterprise files a dispute about one fact of its archive, with evidence."""
    user = request_user(request)
    try:
        fact = selectors.own_fact_get(user=user, pk=fact_id)
    except SERVICE_ERRORS as exc:
        return error_page(request, exc)
    form = DisputeForm(request.POST or None, request.FILES or None, fact=fact)
    if request.method == "POST" and form.is_valid():
        try:
            dispute = services.dispute_file(
                actor=user,
                fact=fact,
                kind=form.cleaned_data["kind"],
                claim=form.cleaned_data["claim"],
                proposed_values=form.proposed_values(),
                evidence=form.cleaned_data["evidence"],
            )
        except SERVICE_ERRORS as exc:
            _add_error(form, exc)
        else:
            messages.success(
                request,
                _("异议已提交，%(d)s 前将收到答复") % {"d": dispute.due_on.isoformat()},
            )
            return redirect("credit:dispute_detail", pk=dispute.pk)
    return render(
        request,
        "credit/dispute_form.html",
        {
            "form": form,
            "fact": fact,
            "category": CATEGORIES[fact.category],
            "values": fact.values(),
            "answer_days": DISPUTE_ANSWER_DAYS,
        },
    )


def _dispute_context(request: HttpRequest, dispute: Dispute, user: User) -> dict[str, Any]:
    spec = CATEGORIES.get(dispute.category)
    handler = rules.can_handle(user, source=dispute.source, entity=dispute.entity)
    member = rules.is_entity_member(user, dispute.entity)
    fields = spec.fields if spec else ()
    current = dispute.fact.values()
    return {
        "dispute": dispute,
        "category": spec,
        "rows": [
            {
                "key": f.key,
                "header": f.header,
                "original": dispute.original_values.get(f.key, ""),
                "proposed": dispute.proposed_values.get(f.key, ""),
                "current": current.get(f.key, ""),
            }
            for f in fields
        ],
        "events": list(selectors.dispute_events(dispute=dispute)),
        "labels": {f.key: _(f.header) for f in fields},
        "evidence": list(selectors.dispute_evidence(dispute=dispute)),
        "can_handle": handler and dispute.is_open,
        "can_review": handler and dispute.status == DisputeStatus.SUBMITTED,
        "can_withdraw": member and dispute.is_open,
        "overdue": dispute.is_overdue(timezone.localdate()),
        "correct_form": DisputeCorrectForm(
            fact=dispute.fact, proposed=dispute.proposed_values, auto_id="correct_%s"
        ),
        "uphold_form": ReasonForm(auto_id="uphold_%s"),
        "note_form": NoteForm(auto_id="note_%s"),
        "evidence_form": EvidenceForm(auto_id="evidence_%s"),
    }


@login_required
def dispute_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A dispute: the fact, the claim, evidence, the timeline and the actions the user may take."""
    user = request_user(request)
    try:
        dispute = selectors.dispute_get(user=user, pk=pk)
    except SERVICE_ERRORS as exc:
        return error_page(request, exc)
    return render(request, "credit/dispute_detail.html", _dispute_context(request, dispute, user))


@login_required
@require_POST
def dispute_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Run one transition of a dispute from its page; errors are shown on the page."""
    user = request_user(request)
    try:
        dispute = selectors.dispute_get(user=user, pk=pk)
    except SERVICE_ERRORS as exc:
        return error_page(request, exc)
    context = _dispute_context(request, dispute, user)
    form: forms.Form
    if action == "correct":
        form = DisputeCorrectForm(
            request.POST, fact=dispute.fact, proposed={}, auto_id="correct_%s"
        )
        context["correct_form"] = form
    elif action == "uphold":
        form = ReasonForm(request.POST, auto_id="uphold_%s")
        context["uphold_form"] = form
    elif action == "evidence":
        form = EvidenceForm(request.POST, request.FILES, auto_id="evidence_%s")
        context["evidence_form"] = form
    elif action in ("withdraw", "review"):
        form = NoteForm(request.POST, auto_id="note_%s")
        context["note_form"] = form
    else:
        raise Http404
    if form.is_valid():
        d = form.cleaned_data
        try:
            if action == "correct":
                assert isinstance(form, DisputeCorrectForm)
                services.dispute_resolve_correct(
                    dispute=dispute, actor=user, values=form.changes(), note=d["note"]
                )
                messages.success(request, _("已更正该信息，异议办结，企业已收到通知"))
            elif action == "uphold":
                services.dispute_resolve_uphold(dispute=dispute, actor=user, reason=d["reason"])
                messages.success(request, _("已维持原记录，异议办结，企业已收到通知"))
            elif action == "evidence":
                services.dispute_evidence_add(dispute=dispute, actor=user, evidence=d["evidence"])
                messages.success(request, _("证据已上传"))
            elif action == "withdraw":
                services.dispute_withdraw(dispute=dispute, actor=user, note=d["note"])
                messages.success(request, _("异议已撤回"))
            else:
                services.dispute_review_start(dispute=dispute, actor=user, note=d["note"])
                messages.success(request, _("已开始核查"))
        except PermissionDeniedError as exc:
            return error_page(request, exc)
        except ConflictError as exc:  # e.g. answered meanwhile in another tab
            messages.error(request, exc.message)
        except SERVICE_ERRORS as exc:
            _add_error(form, exc)
            return render(request, "credit/dispute_detail.html", context, status=422)
        return redirect("credit:dispute_detail", pk=dispute.pk)
    return render(request, "credit/dispute_detail.html", context, status=422)


def _file_response(row: DisputeEvidence | RepairEvidence) -> FileResponse:
    try:
        handle = row.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    return FileResponse(
        handle, as_attachment=True, filename=row.original_name, content_type=row.content_type
    )


@login_required
def dispute_evidence_download(request: HttpRequest, pk: int, file_id: int) -> HttpResponseBase:
    """Download an evidence file of a dispute the user may see."""
    user = request_user(request)
    try:
        dispute = selectors.dispute_get(user=user, pk=pk)
    except SERVICE_ERRORS as exc:
        return error_page(request, exc)
    row = get_object_or_404(DisputeEvidence, pk=file_id, dispute=dispute)
    return _file_response(row)


@login_required
def repair_list(request: HttpRequest) -> HttpResponse:
    """The enterprise's repair applications, or those a department or the operator decides."""
    user = request_user(request)
    status = request.GET.get("status", "")
    try:
        qs = selectors.repair_list(user=user, status=status)
    except SERVICE_ERRORS as exc:
        return error_page(request, exc)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "credit/repair_list.html",
        {
            "page": page,
            "role": _case_role(user),
            "status": status,
            "statuses": RepairStatus.choices,
            "periods": PUBLICATION_PERIODS.values(),
            "severity_labels": {k: p.label for k, p in PUBLICATION_PERIODS.items()},
        },
    )


@login_required
def repair_new(request: HttpRequest, fact_id: int) -> HttpResponse:
    """The enterprise applies to repair a penalty record, with rectification evidence."""
    user = request_user(request)
    try:
        fact = selectors.own_fact_get(user=user, pk=fact_id)
        earliest = services.repair_eligibility(fact=fact)
    except SERVICE_ERRORS as exc:
        return error_page(request, exc)
    form = RepairForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            application = services.repair_apply(
                actor=user,
                fact=fact,
                statement=form.cleaned_data["statement"],
                evidence=form.cleaned_data["evidence"],
            )
        except SERVICE_ERRORS as exc:
            _add_error(form, exc)
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
            "maximum_end": maximum_period_end(severity=fact.grade, decided_on=fact.occurred_on),
        },
    )


def _repair_context(application: RepairApplication, user: User) -> dict[str, Any]:
    handler = rules.can_handle(user, source=application.source, entity=application.entity)
    return {
        "application": application,
        "values": application.fact.values(),
        "period": PUBLICATION_PERIODS.get(application.severity),
        "events": list(selectors.repair_events(application=application)),
        "evidence": list(selectors.repair_evidence(application=application)),
        "can_decide": handler and application.status == RepairStatus.SUBMITTED,
        "approve_form": NoteForm(auto_id="approve_%s"),
        "reject_form": ReasonForm(auto_id="reject_%s"),
    }


@login_required
def repair_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A repair application with its evidence, timeline and the decision forms."""
    user = request_user(request)
    try:
        application = selectors.repair_get(user=user, pk=pk)
    except SERVICE_ERRORS as exc:
        return error_page(request, exc)
    return render(request, "credit/repair_detail.html", _repair_context(application, user))


@login_required
@require_POST
def repair_decide(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Approve or reject a repair application."""
    user = request_user(request)
    try:
        application = selectors.repair_get(user=user, pk=pk)
    except SERVICE_ERRORS as exc:
        return error_page(request, exc)
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
                services.repair_approve(
                    application=application, actor=user, reason=form.cleaned_data["note"]
                )
                messages.success(request, _("已准予修复：该处罚信息不再向机构公示"))
            else:
                services.repair_reject(
                    application=application, actor=user, reason=form.cleaned_data["reason"]
                )
                messages.success(request, _("已决定不予修复，企业已收到通知"))
        except PermissionDeniedError as exc:
            return error_page(request, exc)
        except ConflictError as exc:
            messages.error(request, exc.message)
        except SERVICE_ERRORS as exc:
            _add_error(form, exc)
            return render(request, "credit/repair_detail.html", context, status=422)
        return redirect("credit:repair_detail", pk=application.pk)
    return render(request, "credit/repair_detail.html", context, status=422)


@login_required
def repair_evidence_download(request: HttpRequest, pk: int, file_id: int) -> HttpResponseBase:
    """Download an evidence file of a repair application the user may see."""
    user = request_user(request)
    try:
        application = selectors.repair_get(user=user, pk=pk)
    except SERVICE_ERRORS as exc:
        return error_page(request, exc)
    row = get_object_or_404(RepairEvidence, pk=file_id, application=application)
    return _file_response(row)
