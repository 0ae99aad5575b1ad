"""Pages of the policy module: catalogue.

Public (no login): the policy list with filters, a document and a measure. Publisher workspace:
the department's documents and measures (drafts included), create/edit with the condition editor,
publish/withdraw, versions with what changed, and the Excel import of many measures.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, login_required
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from xinrong.accounts import permissions
from xinrong.accounts.auth import request_user
from xinrong.common.errors import SERVICE_ERRORS, error_payload
from xinrong.common.exports import xlsx_response
from xinrong.common.forms import add_service_error
from xinrong.common.pagination import paginate
from xinrong.policies import conditions as cond
from xinrong.policies.choices import DocumentStatus, MeasureKind, PolicyLevel
from xinrong.policies.forms import (
    ConditionFormSet,
    DocumentForm,
    ImportForm,
    MeasureForm,
    NoteForm,
    conditions_initial,
    value_hint,
)
from xinrong.policies.models import Measure, MeasureEvent, PolicyDocument, PolicyDocumentEvent
from xinrong.policies.selectors import catalogue as sel
from xinrong.policies.services import catalogue as svc
from xinrong.policies.services import measure_import as importer
from xinrong.policies.workflows.catalogue import DOCUMENT, MEASURE

ERRORS_TTL = 3600


def _url(name: str, *args: Any) -> str:
    """Return a URL of another part of the module if it exists ("" otherwise)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


EVENT_LABELS = {
    "created": gettext_lazy("录入"),
    "edited": gettext_lazy("修改"),
    "publish": gettext_lazy("发布"),
    "withdraw": gettext_lazy("撤回"),
}


def _events(events: Any) -> list[tuple[str, Any]]:
    return [(str(EVENT_LABELS.get(e.kind, e.kind)), e) for e in events]


# ---------------------------------------------------------------- public


@login_not_required
def policy_list(request: HttpRequest) -> HttpResponse:
    """Published policy documents, filtered by level, kind, department, tag and words."""
    filters = sel.filters_parse(request.GET)
    page = paginate(request, sel.public_documents(filters=filters))
    active = [k for k in ("q", "level", "kind", "department", "tag") if request.GET.get(k)]
    return render(
        request,
        "policies/catalogue/list.html",
        {
            "page": page,
            "filters": filters,
            "levels": PolicyLevel.choices,
            "kinds": MeasureKind.choices,
            "departments": sel.public_departments(),
            "tags": sel.public_tags(),
            "is_filtered": bool(active),
            "calculator_url": _url("policies:calculator"),
        },
    )


@login_not_required
def document_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A published document: its text and its published measures in plain words."""
    doc = sel.document_public_get(pk=pk)
    names = sel.tag_names()
    rows = [
        {
            "m": m,
            "sentence": sel.conditions_sentence(m.conditions, names),
            "amount": sel.amount_phrase(m),
            "window": sel.window_phrase(m),
        }
        for m in doc.live  # type: ignore[attr-defined]
    ]
    return render(request, "policies/catalogue/document.html", {"doc": doc, "rows": rows})


@login_not_required
def measure_detail(request: HttpRequest, code: str) -> HttpResponse:
    """A published measure: terms, conditions in words, versions; next steps for an enterprise."""
    m = sel.measure_public_get(code=code)
    user = request_user(request) if request.user.is_authenticated else None
    is_enterprise = bool(
        user is not None
        and user.organisation is not None
        and user.organisation.kind in ("enterprise", "individual_business")
    )
    return render(
        request,
        "policies/catalogue/measure.html",
        {
            "m": m,
            "terms": sel.measure_terms_table(m),
            "versions": sel.measure_versions(measure=m),
            "is_enterprise": is_enterprise,
            "calculator_url": _url("policies:calculator"),
            "mine_url": _url("policies:my_policies"),
        },
    )


# ---------------------------------------------------------------- workspace


def _workspace_user(request: HttpRequest) -> Any:
    user = request_user(request)
    permissions.require(user, "policies.catalogue_workspace")
    return user


@login_required
def workspace(request: HttpRequest) -> HttpResponse:
    """My department's documents (all departments for the operator), with their measures."""
    user = _workspace_user(request)
    status = request.GET.get("status", "")
    page = paginate(request, sel.workspace_documents(user=user, status=status))
    return render(
        request,
        "policies/catalogue/workspace.html",
        {
            "page": page,
            "status": status,
            "statuses": DocumentStatus.choices,
            "can_manage": permissions.can(user, "policies.catalogue_manage"),
        },
    )


@login_required
def document_new(request: HttpRequest) -> HttpResponse:
    """Enter a new draft document for my department."""
    user = _workspace_user(request)
    permissions.require(user, "policies.catalogue_manage")
    form = DocumentForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            doc = svc.document_create(
                actor=user, data=form.cleaned_data, attachment=form.cleaned_data.get("attachment")
            )
        except SERVICE_ERRORS as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("政策文件草稿已保存，请添加支持措施后发布"))
            return redirect("policies:document_manage", pk=doc.pk)
    return render(request, "policies/catalogue/document_form.html", {"form": form, "doc": None})


@login_required
def document_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a document of my department."""
    user = _workspace_user(request)
    doc = sel.document_manage_get(user=user, pk=pk)
    sel.require_manage(user, doc)
    initial = {f: getattr(doc, f) for f in svc.DOCUMENT_FIELDS}
    form = DocumentForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            svc.document_update(
                actor=user,
                document=doc,
                data=form.cleaned_data,
                attachment=form.cleaned_data.get("attachment"),
            )
        except SERVICE_ERRORS as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("政策文件已保存"))
            return redirect("policies:document_manage", pk=doc.pk)
    return render(request, "policies/catalogue/document_form.html", {"form": form, "doc": doc})


@login_required
def document_manage(request: HttpRequest, pk: int) -> HttpResponse:
    """A document in the workspace: its measures, timeline and the actions open to me."""
    user = _workspace_user(request)
    doc = sel.document_manage_get(user=user, pk=pk)
    names = sel.tag_names()
    measures = [
        {
            "m": m,
            "sentence": sel.conditions_sentence(m.conditions, names),
            "amount": sel.amount_phrase(m),
        }
        for m in Measure.objects.filter(document=doc).order_by("id")
    ]
    return render(
        request,
        "policies/catalogue/document_manage.html",
        {
            "doc": doc,
            "measures": measures,
            "actions": DOCUMENT.available(user, doc),
            "can_manage": sel.managing(user, doc),
            "events": _events(
                PolicyDocumentEvent._default_manager.filter(document=doc)
                .select_related("actor")
                .order_by("-created_at", "-id")[:50]
            ),
            "note_form": NoteForm(),
        },
    )


DONE = {
    ("document", "publish"): gettext_lazy("政策文件已发布"),
    ("document", "withdraw"): gettext_lazy("政策文件及其措施已撤回"),
    ("measure", "publish"): gettext_lazy("支持措施已发布"),
    ("measure", "withdraw"): gettext_lazy("支持措施已撤回"),
}


@login_required
@require_POST
def document_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Publish or withdraw a document."""
    user = _workspace_user(request)
    doc = sel.document_manage_get(user=user, pk=pk)
    if action not in ("publish", "withdraw"):
        raise Http404
    try:
        if action == "publish":
            svc.document_publish(actor=user, document=doc)
        else:
            svc.document_withdraw(actor=user, document=doc, note=request.POST.get("note", ""))
    except SERVICE_ERRORS as exc:
        messages.error(request, error_payload(exc)[1]["message"])
    else:
        messages.success(request, str(DONE[("document", action)]))
    return redirect("policies:document_manage", pk=doc.pk)


def _editor_context(formset: Any) -> dict[str, Any]:
    names = sel.tag_names()
    return {
        "formset": formset,
        "guide": [
            (f.label, [str(cond.OP_LABELS[o]) for o in f.ops], value_hint(f, names))
            for f in cond.FIELDS_LIST
        ],
    }


def _measure_form(
    request: HttpRequest, user: Any, doc: PolicyDocument, m: Measure | None
) -> HttpResponse:
    names = sel.tag_names()
    tag_by_name = {v: k for k, v in names.items()}
    if m is not None:
        form = MeasureForm(request.POST or None, initial=MeasureForm.initial_from(m))
        formset = ConditionFormSet(
            request.POST or None, prefix="c", initial=conditions_initial(m.conditions, names)
        )
    else:
        form = MeasureForm(request.POST or None)
        formset = ConditionFormSet(request.POST or None, prefix="c")
    preview = ""
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        conditions = [
            c
            for f in formset.forms
            if not f.cleaned_data.get("DELETE")
            for c in [f.condition(tag_by_name)]
            if c is not None
        ]
        problems = cond.validate(conditions, tag_codes=set(names))
        if problems:
            for p in problems:
                form.add_error(None, p.message)
        else:
            preview = cond.sentence(conditions, names)
            if "preview" in request.POST:  # the conditions so far, then two blank rows more
                formset = ConditionFormSet(
                    prefix="c", initial=conditions_initial(conditions, names)
                )
        if "preview" not in request.POST and not problems:
            try:
                note = form.cleaned_data.get("note", "")
                if m is None:
                    m = svc.measure_create(
                        actor=user, document=doc, terms=form.terms(conditions), note=note
                    )
                    messages.success(request, _("支持措施草稿已保存"))
                else:
                    before = m.version
                    m = svc.measure_update(
                        actor=user, measure=m, terms=form.terms(conditions), note=note
                    )
                    messages.success(
                        request,
                        _("已保存为第%(n)d版") % {"n": m.version}
                        if m.version != before
                        else _("条款没有变化，未生成新版本"),
                    )
            except SERVICE_ERRORS as exc:
                add_service_error(form, exc)
            else:
                return redirect("policies:measure_manage", pk=m.pk)
    elif m is not None and request.method != "POST":
        preview = sel.conditions_sentence(m.conditions, names)
    ctx = {"form": form, "doc": doc, "m": m, "preview": preview, **_editor_context(formset)}
    return render(request, "policies/catalogue/measure_form.html", ctx)


@login_required
def measure_new(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a measure to a document of my department (the condition editor beside the terms)."""
    user = _workspace_user(request)
    doc = sel.document_manage_get(user=user, pk=pk)
    sel.require_manage(user, doc)
    return _measure_form(request, user, doc, None)


@login_required
def measure_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a measure's terms (a new version when anything changed)."""
    user = _workspace_user(request)
    m = sel.measure_manage_get(user=user, pk=pk)
    sel.require_manage(user, m)
    return _measure_form(request, user, m.document, m)


@login_required
def measure_manage(request: HttpRequest, pk: int) -> HttpResponse:
    """A measure in the workspace: terms, conditions sentence, versions with changes, timeline."""
    user = _workspace_user(request)
    m = sel.measure_manage_get(user=user, pk=pk)
    return render(
        request,
        "policies/catalogue/measure_manage.html",
        {
            "m": m,
            "terms": sel.measure_terms_table(m),
            "versions": sel.measure_versions(measure=m),
            "actions": MEASURE.available(user, m),
            "can_manage": sel.managing(user, m),
            "events": _events(
                MeasureEvent._default_manager.filter(measure=m)
                .select_related("actor")
                .order_by("-created_at", "-id")[:50]
            ),
            "note_form": NoteForm(),
            "reach": sel.measure_reach(measure=m),
        },
    )


@login_required
@require_POST
def measure_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Publish or withdraw a measure."""
    user = _workspace_user(request)
    m = sel.measure_manage_get(user=user, pk=pk)
    if action not in ("publish", "withdraw"):
        raise Http404
    try:
        if action == "publish":
            svc.measure_publish(actor=user, measure=m)
        else:
            svc.measure_withdraw(actor=user, measure=m, note=request.POST.get("note", ""))
    except SERVICE_ERRORS as exc:
        messages.error(request, error_payload(exc)[1]["message"])
    else:
        messages.success(request, str(DONE[("measure", action)]))
    return redirect("policies:measure_manage", pk=m.pk)


# ---------------------------------------------------------------- import


@login_required
def import_template(request: HttpRequest) -> HttpResponseBase:
    """The blank Excel template of measures."""
    _workspace_user(request)
    return xlsx_response(
        importer.template_sheets(), filename=_("支持措施导入模板"), fallback="measures-template"
    )


@login_required
def import_page(request: HttpRequest) -> HttpResponse:
    """Upload a filled-in template; every row's errors at once; nothing written if any."""
    user = _workspace_user(request)
    can_manage = permissions.can(user, "policies.catalogue_manage")
    form = ImportForm(request.POST or None, request.FILES or None)
    result = None
    token = ""
    if request.method == "POST":
        permissions.require(user, "policies.catalogue_manage")
        if form.is_valid():
            f = form.cleaned_data["file"]
            try:
                result = importer.measure_import(actor=user, fileobj=f.file, filename=f.name)
            except SERVICE_ERRORS as exc:
                add_service_error(form, exc)
            else:
                if result.ok:
                    messages.success(
                        request,
                        _("导入完成：新建%(c)d项、修改%(u)d项、未变%(n)d项，均为草稿或保持原状态")
                        % {"c": result.created, "u": result.updated, "n": result.unchanged},
                    )
                    return redirect("policies:workspace")
                token = uuid.uuid4().hex
                cache.set(
                    f"policies:import-errors:{user.pk}:{token}",
                    [(e.row, e.column, e.message) for e in result.errors],
                    ERRORS_TTL,
                )
    return render(
        request,
        "policies/catalogue/import.html",
        {"form": form, "result": result, "token": token, "can_manage": can_manage},
    )


@login_required
def import_errors(request: HttpRequest, code: str) -> HttpResponseBase:
    """The errors of my last failed import as an Excel file."""
    user = _workspace_user(request)
    rows = cache.get(f"policies:import-errors:{user.pk}:{code[:40]}")
    if rows is None:
        raise Http404
    errors = [importer.RowError(r, c, msg) for r, c, msg in rows]
    return xlsx_response(
        importer.error_sheets(errors), filename=_("措施导入错误"), fallback="import-errors"
    )


urlpatterns: list[Any] = [
    path("", policy_list, name="list"),
    path("documents/<int:pk>/", document_detail, name="document"),
    path("measures/<str:code>/", measure_detail, name="measure"),
    path("manage/", workspace, name="workspace"),
    path("manage/documents/new/", document_new, name="document_new"),
    path("manage/documents/<int:pk>/", document_manage, name="document_manage"),
    path("manage/documents/<int:pk>/edit/", document_edit, name="document_edit"),
    path("manage/documents/<int:pk>/measures/new/", measure_new, name="measure_new"),
    path("manage/documents/<int:pk>/<slug:action>/", document_action, name="document_action"),
    path("manage/measures/<int:pk>/", measure_manage, name="measure_manage"),
    path("manage/measures/<int:pk>/edit/", measure_edit, name="measure_edit"),
    path("manage/measures/<int:pk>/<slug:action>/", measure_action, name="measure_action"),
    path("manage/import/", import_page, name="import"),
    path("manage/import/template.xlsx", import_template, name="import_template"),
    path("manage/import/errors/<str:code>.xlsx", import_errors, name="import_errors"),
]
