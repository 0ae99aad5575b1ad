"""Data hub pages: deliver files, follow batches, download templates and error files."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xinrong.accounts import permissions
from xinrong.accounts.auth import request_user
from xinrong.accounts.models import Organisation, User
from xinrong.common import listing
from xinrong.common.errors import SERVICE_ERRORS, ApplicationError, error_payload
from xinrong.common.forms import add_service_error
from xinrong.common.pagination import paginate
from xinrong.datahub import rules, selectors, workbooks
from xinrong.datahub.categories import CATEGORIES, CATEGORY_CHOICES, CHOICE_LABELS
from xinrong.datahub.choices import BatchChannel, BatchStatus, ConflictSeverity, ConflictStatus
from xinrong.datahub.crossval import DETAIL_LABELS, RULES, RULES_BY_ID
from xinrong.datahub.forms import ConflictReopenForm, ConflictResolveForm, SourceForm, UploadForm
from xinrong.datahub.models import Conflict, Source
from xinrong.datahub.services.conflicts import conflict_reopen, conflict_resolve
from xinrong.datahub.services.ingest import batch_deliver
from xinrong.datahub.services.quality import unresolved_discard, unresolved_resolve
from xinrong.datahub.services.sources import source_register, source_update
from xinrong.datahub.workflows import CLOSE_ACTIONS, CONFLICT
from xinrong.reference import divisions


def _sources(user: User) -> QuerySet[Source]:
    try:
        return selectors.source_list(user=user)
    except ApplicationError as exc:
        raise PermissionDenied(exc.message) from exc


def _batch_filters(sources: QuerySet[Source]) -> list[listing.Filter]:
    return [
        listing.SearchFilter(
            "q", _("文件名"), ["filename__icontains"], placeholder=_("上传的文件名")
        ),
        listing.ChoiceFilter(
            "source", _("数据来源"), lambda: sources.values_list("code", "name"), "source__code"
        ),
        listing.ChoiceFilter("category", _("数据类别"), CATEGORY_CHOICES),
        listing.ChoiceFilter("status", _("状态"), BatchStatus.choices),
        listing.BooleanFilter("has_rejected", _("仅看有拒绝行的"), Q(rejected__gt=0)),
        listing.DateRangeFilter("created", _("上传日期"), "created_at"),
    ]


BATCH_QUANTITIES = {
    "received": gettext_lazy("收到行数"),
    "accepted": gettext_lazy("接收行数"),
    "rejected": gettext_lazy("拒绝行数"),
}

BATCH_COLUMNS = [
    listing.Column(gettext_lazy("批次编号"), listing.attr("pk"), 10),
    listing.Column(gettext_lazy("上传时间"), listing.attr("created_at"), 18),
    listing.Column(gettext_lazy("数据来源"), listing.attr("source.name"), 20),
    listing.Column(gettext_lazy("报送部门"), listing.attr("source.organisation.name"), 22),
    listing.Column(gettext_lazy("数据类别"), listing.display("category"), 18),
    listing.Column(gettext_lazy("渠道"), listing.display("channel")),
    listing.Column(gettext_lazy("文件名"), listing.attr("filename"), 28),
    listing.Column(gettext_lazy("状态"), listing.display("status")),
    listing.Column(gettext_lazy("收到行数"), listing.attr("received")),
    listing.Column(gettext_lazy("接收行数"), listing.attr("accepted")),
    listing.Column(gettext_lazy("拒绝行数"), listing.attr("rejected")),
    listing.Column(gettext_lazy("重复行数"), listing.attr("duplicates")),
    listing.Column(gettext_lazy("待关联行数"), listing.attr("unresolved")),
    listing.Column(gettext_lazy("冲突数"), listing.attr("conflicts")),
    listing.Column(gettext_lazy("完成时间"), listing.attr("finished_at"), 18),
    listing.Column(gettext_lazy("失败原因"), listing.attr("failure"), 24),
]


@login_required
def batch_export(request: HttpRequest) -> HttpResponseBase:
    """The batches list of the hub's home as Excel (the same sources and filters)."""
    user = request_user(request)
    sources = _sources(user)
    qs = selectors.batch_list(user=user).select_related("source__organisation")
    qs = listing.list_filter(request, qs, _batch_filters(sources)).apply(qs)
    return listing.xlsx_export(
        listing.query_rows(qs),
        BATCH_COLUMNS,
        title=_("归集批次"),
        filename=_("归集批次"),
        fallback="batches",
    )


@login_required
def hub_home(request: HttpRequest) -> HttpResponse:
    """List the user's sources with their templates, take uploads, show recent batches."""
    user = request_user(request)
    sources = _sources(user)
    deliverable = selectors.source_deliverable(user=user)
    form = UploadForm(request.POST or None, request.FILES or None, sources=deliverable)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            delivery = batch_deliver(
                source=form.cleaned_data["source"],
                category=form.cleaned_data["category"],
                fileobj=upload,
                filename=upload.name,
                channel=BatchChannel.UPLOAD,
                actor=user,
            )
            batch = delivery.batch
            if delivery.existed and batch.status == BatchStatus.COMPLETED:
                messages.info(request, _("同样内容的文件已经归集过，未做任何改动。"))
            elif delivery.existed:
                messages.info(request, _("同样内容的文件正在处理中，本页会显示进度。"))
            elif delivery.queued:
                messages.info(request, _("文件较大，已转入后台处理，本页会显示进度。"))
        except SERVICE_ERRORS as exc:
            add_service_error(form, exc)
        else:
            return redirect("datahub:batch_detail", pk=batch.pk)
    batches = listing.list_build(
        request,
        selectors.batch_list(user=user),
        _batch_filters(sources),
        noun=_("批次"),
        quantities=BATCH_QUANTITIES,
        export_url=reverse("datahub:batches_export"),
    )
    rows = [
        {
            "source": s,
            "categories": [(c, CATEGORIES[c].name) for c in s.categories if c in CATEGORIES],
        }
        for s in sources
    ]
    context = {
        "form": form,
        "sources": rows,
        "batches": batches.page.object_list,
        "listing": batches,
        "page": batches.page,
        "can_upload": deliverable.exists(),
        "is_reporter": permissions.can(user, "datahub.batch_deliver"),
        "can_resolve": permissions.can(user, "datahub.unresolved_view"),
    }
    return render(request, "datahub/home.html", context)


@login_required
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show a batch's summary; while it runs the progress part refreshes itself."""
    batch = selectors.batch_get(user=request_user(request), pk=pk)
    template = (
        "datahub/_batch_summary.html"
        if request.headers.get("HX-Request")
        else ("datahub/batch_detail.html")
    )
    running = batch.status in (BatchStatus.PENDING, BatchStatus.PROCESSING)
    context: dict[str, Any] = {
        "batch": batch,
        "running": running,
        "errors": selectors.batch_errors_summary(batch=batch),
    }
    if not running:
        context["rejected_page"] = paginate(
            request, selectors.batch_row_errors(batch=batch), per_page=20, param="rp"
        )
        unresolved = paginate(
            request, selectors.batch_unresolved_rows(batch=batch), per_page=20, param="up"
        )
        for row in unresolved:
            row.region_name = divisions.full_name(row.region) if row.region else ""  # type: ignore[attr-defined]
        context["unresolved_page"] = unresolved
        context["registry"] = selectors.batch_registry_outcome(batch=batch)
        if context["registry"] is not None:
            applied = paginate(
                request, selectors.batch_registry_rows(batch=batch), per_page=20, param="ep"
            )
            events = CHOICE_LABELS["event"]
            for fact in applied:
                fact.event_label = _(events[fact.status]) if fact.status in events else ""  # type: ignore[attr-defined]
                fact.created = fact.entity.created_at >= batch.created_at  # type: ignore[attr-defined]
            context["registry_page"] = applied
            context["can_open_entity"] = permissions.can(
                request_user(request), "enterprises.registry_search"
            )
        context["can_resolve"] = permissions.can(request_user(request), "datahub.unresolved_view")
    return render(request, template, context)


@login_required
def batch_errors(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Download a batch's refused rows as Excel."""
    try:
        batch = selectors.batch_get(user=request_user(request), pk=pk)
    except SERVICE_ERRORS as exc:
        raise Http404(str(exc)) from exc
    return workbooks.errors_workbook(batch)


def _departments(user: User) -> QuerySet[Organisation]:
    """Return the departments the user may register sources for (own, or its region's)."""
    from xinrong.accounts.choices import OrgKind

    if permissions.is_operator_admin(user):
        return Organisation.objects.filter(
            permissions.region_q(user, "region_code"), kind=OrgKind.GOVERNMENT, is_active=True
        ).order_by("name")
    if user.organisation_id is None:
        return Organisation.objects.none()
    return Organisation.objects.filter(pk=user.organisation_id, kind=OrgKind.GOVERNMENT)


@login_required
def source_list(request: HttpRequest) -> HttpResponse:
    """The data sources one oversees: who delivers which categories, how often, how lately."""
    user = request_user(request)
    sources = _sources(user).order_by("organisation__name", "name")
    q = request.GET.get("q", "").strip()[:100]
    if q:
        sources = sources.filter(name__icontains=q) | sources.filter(
            organisation__name__icontains=q
        )
    page = paginate(request, sources, per_page=30)
    rows = [
        {
            "source": s,
            "categories": [CATEGORIES[c].name for c in s.categories if c in CATEGORIES],
            "can_edit": permissions.can(user, "datahub.source_manage", s),
        }
        for s in page
    ]
    return render(
        request,
        "datahub/sources.html",
        {
            "page": page,
            "rows": rows,
            "q": q,
            "can_register": permissions.can(user, "datahub.source_manage")
            and _departments(user).exists(),
        },
    )


@login_required
def source_new(request: HttpRequest) -> HttpResponse:
    """A department's clerk (or an operator for any department) registers a data source."""
    from xinrong.accounts.auth import request_source

    user = request_user(request)
    permissions.require(
        user, "datahub.source_manage", message=_("只有数据报送员和运营管理员可以登记数据来源")
    )
    departments = _departments(user)
    initial = {"organisation": departments.first()} if departments.count() == 1 else {}
    form = SourceForm(request.POST or None, organisations=departments, initial=initial)
    if request.method == "POST" and form.is_valid():
        ip, agent = request_source(request)
        data = form.cleaned_data
        try:
            source = source_register(
                organisation=data["organisation"],
                code=data["code"],
                name=data["name"],
                categories=data["categories"],
                cadence=data["cadence"],
                description=data["description"],
                actor=user,
                source_ip=ip,
                user_agent=agent,
            )
        except SERVICE_ERRORS as exc:
            add_service_error(form, exc)
        else:
            messages.success(
                request,
                _("已登记数据来源“%(name)s”，现在可以下载模板并上传数据") % {"name": source.name},
            )
            return redirect("datahub:home")
    return render(request, "datahub/source_form.html", {"form": form, "source": None})


@login_required
def source_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change the categories, cadence, name or description of a source."""
    from xinrong.accounts.auth import request_source

    user = request_user(request)
    source = get_object_or_404(_sources(user), pk=pk)
    permissions.require(user, "datahub.source_manage", source, message=_("您无权修改该数据来源"))
    initial = {
        "organisation": source.organisation,
        "name": source.name,
        "code": source.code,
        "categories": source.categories,
        "cadence": source.cadence,
        "description": source.description,
    }
    form = SourceForm(
        request.POST or None,
        organisations=Organisation.objects.filter(pk=source.organisation_id),
        initial=initial,
        editing=True,
    )
    if request.method == "POST" and form.is_valid():
        ip, agent = request_source(request)
        data = form.cleaned_data
        try:
            source_update(
                source=source,
                name=data["name"],
                categories=data["categories"],
                cadence=data["cadence"],
                description=data["description"],
                actor=user,
                source_ip=ip,
                user_agent=agent,
            )
        except SERVICE_ERRORS as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("已保存数据来源“%(name)s”") % {"name": data["name"]})
            return redirect("datahub:sources")
    return render(request, "datahub/source_form.html", {"form": form, "source": source})


@login_required
def template_download(request: HttpRequest, category: str) -> HttpResponseBase:
    """Download the Excel template of a category."""
    _sources(request_user(request))
    if category not in CATEGORIES:
        raise Http404(category)
    return workbooks.template_workbook(category)


@login_required
def resolution_queue(request: HttpRequest) -> HttpResponse:
    """Operators tie rows that carried no usable USCC to an entity, or discard them."""
    user = request_user(request)
    try:
        rows = selectors.unresolved_open(user=user)
    except ApplicationError as exc:
        raise PermissionDenied(exc.message) from exc
    if request.method == "POST":
        row = get_object_or_404(rows, pk=request.POST.get("row"))
        try:
            if request.POST.get("action") == "discard":
                unresolved_discard(row=row, actor=user)
                messages.success(request, _("已舍弃第 %(n)s 行") % {"n": row.row_number})
            else:
                unresolved_resolve(row=row, uscc=request.POST.get("uscc", ""), actor=user)
                messages.success(request, _("已关联第 %(n)s 行") % {"n": row.row_number})
        except SERVICE_ERRORS as exc:
            messages.error(request, error_payload(exc)[1]["message"])
        return redirect("datahub:resolution")
    return render(
        request,
        "datahub/resolution.html",
        {
            "rows": rows[:200],
            "total": rows.count(),
            "can_resolve": permissions.can(user, "datahub.unresolved_resolve"),
        },
    )


@login_required
def quality(request: HttpRequest) -> HttpResponse:
    """Per source: coverage, timeliness against cadence, rejection rate, open conflicts; per
    category and optional field: the share of rows delivered empty (unknown, not 0)."""
    user = request_user(request)
    try:
        rows = selectors.source_quality(user=user)
        missing = selectors.field_missing(user=user)
    except ApplicationError as exc:
        raise PermissionDenied(exc.message) from exc
    return render(request, "datahub/quality.html", {"rows": rows, "missing": missing})


# ---------------------------------------------------------------- conflicts (交叉验证冲突)


def _rule_label(code: str) -> str:
    rule = RULES_BY_ID.get(code)
    return _(rule.description) if rule else code


def _conflict_filters(request: HttpRequest) -> dict[str, str]:
    status = request.GET.get("status", ConflictStatus.OPEN)
    return {
        "status": "" if status == "all" else status,
        "rule": request.GET.get("rule", ""),
        "severity": request.GET.get("severity", ""),
        "source": request.GET.get("source", ""),
        "uscc": request.GET.get("uscc", ""),
    }


def _conflict_searched(filters: dict[str, str], sources: dict[str, str]) -> list[str]:
    out = []
    if filters["status"]:
        out.append(_("处理状态：%(v)s") % {"v": _choice_label(ConflictStatus, filters["status"])})
    if filters["rule"]:
        out.append(_("校验规则：%(v)s") % {"v": _rule_label(filters["rule"])})
    if filters["severity"]:
        out.append(
            _("严重程度：%(v)s") % {"v": _choice_label(ConflictSeverity, filters["severity"])}
        )
    if filters["source"]:
        out.append(_("数据来源：%(v)s") % {"v": sources.get(filters["source"], filters["source"])})
    if filters["uscc"]:
        out.append(_("统一社会信用代码“%(v)s”") % {"v": filters["uscc"]})
    return out


def _choice_label(choices: Any, value: str) -> str:
    return str(dict(choices.choices).get(value, value))


@login_required
def conflict_queue(request: HttpRequest) -> HttpResponse:
    """The conflicts a department or operator may handle, filtered and paginated."""
    user = request_user(request)
    filters = _conflict_filters(request)
    qs = selectors.conflict_queue(user=user, **filters)
    sources = list(_sources(user).values_list("code", "name"))
    page = paginate(request, qs, per_page=30)
    source_names = dict([(rules.REGISTRY, _("市场主体登记信息")), *sources])
    searched = [k for k in ("rule", "severity", "source", "uscc") if filters[k]]
    empty = {
        "is_filtered": bool(searched) or bool(filters["status"] not in ("", "open")),
        "active": _conflict_searched(filters, source_names),
        "noun": _("数据冲突"),
    }
    return render(
        request,
        "datahub/conflicts.html",
        {
            "page": page,
            "empty": empty,
            "filters": {**filters, "status": request.GET.get("status", ConflictStatus.OPEN)},
            "statuses": ConflictStatus.choices,
            "rules": [(r.id, _(r.description)) for r in RULES],
            "rule_labels": {r.id: _(r.description) for r in RULES},
            "severities": ConflictSeverity.choices,
            "severity_choices": ConflictSeverity,
            "sources": [(rules.REGISTRY, _("市场主体登记信息")), *sources],
            "source_names": {**_source_names(), **source_names},  # any source, by name
        },
    )


@login_required
def conflict_export(request: HttpRequest) -> HttpResponseBase:
    """The conflict queue as Excel: the same conflicts and filters as the page."""
    user = request_user(request)
    qs = selectors.conflict_queue(user=user, **_conflict_filters(request))
    names = dict(Source.objects.values_list("code", "name"))
    names[rules.REGISTRY] = _("市场主体登记信息")
    columns = [
        listing.Column(_("编号"), listing.attr("pk"), 10),
        listing.Column(_("企业"), listing.attr("entity.name"), 28),
        listing.Column(_("统一社会信用代码"), listing.attr("entity.uscc"), 20),
        listing.Column(_("校验规则"), lambda c: _rule_label(c.rule), 30),
        listing.Column(_("严重程度"), lambda c: _choice_label(ConflictSeverity, c.severity)),
        listing.Column(
            _("涉及来源"), lambda c: "、".join(names.get(s, s) for s in c.sources or []), 30
        ),
        listing.Column(_("发现时间"), listing.attr("created_at"), 18),
        listing.Column(_("处理状态"), listing.display("status"), 16),
        listing.Column(_("处理人"), listing.attr("resolved_by.display_name")),
        listing.Column(_("处理说明"), listing.attr("resolution_note"), 30),
    ]
    return listing.xlsx_export(
        listing.query_rows(qs),
        columns,
        title=_("数据冲突"),
        filename=_("数据冲突"),
        fallback="conflicts",
    )


def _source_names() -> dict[str, str]:
    """Every source's department name by its code (the registry's too), for reading."""
    names: dict[str, str] = dict(Source.objects.values_list("code", "name"))
    names[rules.REGISTRY] = _("市场主体登记信息")
    return names


# Details that count people: read as whole numbers with their unit ("19 人", not "19.00").
HEADCOUNT_KEYS = frozenset({"declared_employees", "insured"})


def _detail_value(key: str, value: Any) -> Any:
    """Return a conflict detail as a person reads it."""
    if key in HEADCOUNT_KEYS and value not in (None, ""):
        try:
            number = Decimal(str(value))
        except (InvalidOperation, ValueError):
            return value
        if number.is_finite() and number == number.to_integral_value():
            return _("%(n)s 人") % {"n": f"{int(number):,}"}
    return value


def _comparison(conflict: Conflict) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """Return each side's values from the detail, and the detail keys no side claims."""
    rule = RULES_BY_ID.get(conflict.rule)
    side_keys = rule.sides if rule else ()
    sides = []
    claimed: set[str] = set()
    for i, (code, label, source) in enumerate(selectors.conflict_sides(conflict=conflict)):
        keys = side_keys[i] if i < len(side_keys) else ()
        claimed.update(keys)
        sides.append(
            {
                "code": code,
                "label": label,
                "organisation": source.organisation.name if source else "",
                "values": [
                    (DETAIL_LABELS.get(k, k), _detail_value(k, conflict.detail.get(k, "")))
                    for k in keys
                ],
            }
        )
    common = [
        (DETAIL_LABELS.get(k, k), _detail_value(k, v))
        for k, v in conflict.detail.items()
        if k not in claimed
    ]
    return sides, common


@login_required
def conflict_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One conflict: both sources' values, the timeline, and the resolve or reopen form."""
    user = request_user(request)
    conflict = selectors.conflict_get(user=user, pk=pk)
    sides, common = _comparison(conflict)
    choices = [(s["code"], s["label"]) for s in sides]
    action = request.POST.get("action") if request.method == "POST" else None
    resolve_form = ConflictResolveForm(request.POST if action == "resolve" else None, sides=choices)
    reopen_form = ConflictReopenForm(request.POST if action == "reopen" else None)
    if action == "resolve" and resolve_form.is_valid():
        data = resolve_form.cleaned_data
        try:
            blamed, registry = selectors.conflict_blame_parse(
                conflict=conflict, code=data["blamed_source"]
            )
            conflict_resolve(
                conflict=conflict,
                actor=user,
                outcome=data["outcome"],
                note=data["note"],
                blamed_source=blamed,
                blamed_registry=registry,
            )
        except SERVICE_ERRORS as exc:
            add_service_error(resolve_form, exc)
        else:
            messages.success(request, _("冲突已处理"))
            return redirect("datahub:conflict_detail", pk=conflict.pk)
    elif action == "reopen" and reopen_form.is_valid():
        try:
            conflict_reopen(conflict=conflict, actor=user, note=reopen_form.cleaned_data["note"])
        except SERVICE_ERRORS as exc:
            add_service_error(reopen_form, exc)
        else:
            messages.success(request, _("冲突已重新打开"))
            return redirect("datahub:conflict_detail", pk=conflict.pk)
    available = CONFLICT.available(user, conflict)
    blamed_label = ""
    if conflict.blamed_registry:
        blamed_label = _("市场主体登记信息")
    elif conflict.blamed_source:
        blamed_label = conflict.blamed_source.name
    return render(
        request,
        "datahub/conflict_detail.html",
        {
            "conflict": conflict,
            "rule_label": _rule_label(conflict.rule),
            "severity_choices": ConflictSeverity,
            "sides": sides,
            "common": common,
            "blamed_label": blamed_label,
            "events": selectors.conflict_events(conflict=conflict),
            "source_names": _source_names(),
            "can_resolve": any(a.name in CLOSE_ACTIONS.values() for a in available),
            "can_reopen": any(a.name == "reopen" for a in available),
            "resolve_form": resolve_form,
            "reopen_form": reopen_form,
        },
    )
