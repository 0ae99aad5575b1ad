"""The operator's process pages: list, edit a draft in the bpmn-js modeler, check, activate."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinrong.accounts.auth import request_user
from xinrong.accounts.permissions import can, require
from xinrong.common.errors import ApplicationError
from xinrong.common.forms import add_service_error
from xinrong.workflows import bpmn, selectors, services
from xinrong.workflows.choices import VersionStatus
from xinrong.workflows.forms import VersionForm
from xinrong.workflows.models import ProcessVersion


@login_required
def process_list(request: HttpRequest) -> HttpResponse:
    """Every approval process with its versions and their status."""
    user = request_user(request)
    definitions = list(selectors.process_list(user=user))
    return render(
        request,
        "workflows/process_list.html",
        {"definitions": definitions, "can_manage": can(user, "workflows.process_manage")},
    )


@login_required
@require_POST
def process_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Open the process's draft (a copy of its latest version when there is none)."""
    user = request_user(request)
    require(user, "workflows.process_manage")
    definition = selectors.definition_get(user=user, pk=pk)
    draft = services.version_draft(definition=definition, user=user)
    return redirect("workflows:version_edit", pk=draft.pk)


def _lanes(xml: str) -> list[bpmn.Lane]:
    try:
        return list(bpmn.read(xml).lanes.values())
    except bpmn.BpmnReadError:
        return []


@login_required
def version_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """A version in the modeler; a draft can be changed, saved (checked) and activated."""
    user = request_user(request)
    version = selectors.version_get(user=user, pk=pk)
    editable = version.status == VersionStatus.DRAFT and can(user, "workflows.process_manage")
    status = 200
    form: VersionForm | None = None
    if request.method == "POST":
        if not editable:
            raise ApplicationError(
                "version_not_draft", _("只有草稿可以修改；请先点“编辑”新建草稿"), status=409
            )
        xml = request.POST.get("bpmn_xml", "")
        posted = VersionForm(request.POST, lanes=_lanes(xml), lane_map=version.lane_map)
        form = posted
        if posted.is_valid():
            try:
                version, problems = services.version_save(
                    version=version,
                    bpmn_xml=posted.cleaned_data["bpmn_xml"],
                    lane_map=posted.cleaned_data["lane_map"],
                    user=user,
                    note=posted.cleaned_data["note"],
                )
            except ApplicationError as exc:
                add_service_error(posted, exc)
                status = 400
            else:
                if problems:
                    messages.warning(
                        request,
                        _("已保存，但检查发现 %(n)d 个问题，修正后才能启用") % {"n": len(problems)},
                    )
                else:
                    messages.success(request, _("已保存，检查通过，可以启用"))
                return redirect("workflows:version_edit", pk=version.pk)
        else:
            status = 400
    return _render_edit(request, version, form, editable=editable, status=status)


def _render_edit(
    request: HttpRequest,
    version: ProcessVersion,
    form: VersionForm | None = None,
    *,
    editable: bool,
    status: int = 200,
    activate_error: str = "",
) -> HttpResponse:
    if form is None:
        form = VersionForm(
            initial={"bpmn_xml": version.bpmn_xml, "note": version.note},
            lanes=_lanes(version.bpmn_xml),
            lane_map=version.lane_map,
        )
    return render(
        request,
        "workflows/version_edit.html",
        {
            "version": version,
            "definition": version.definition,
            "form": form,
            "editable": editable,
            "variables": version.definition.variables,
            "activate_error": activate_error,
        },
        status=status,
    )


@login_required
@require_POST
def version_activate(request: HttpRequest, pk: int) -> HttpResponse:
    """Activate a checked draft; the version in use is retired."""
    user = request_user(request)
    require(user, "workflows.process_manage")
    version = selectors.version_get(user=user, pk=pk)
    try:
        version = services.version_activate(version=version, user=user)
    except ApplicationError as exc:
        if exc.code != "version_invalid":
            raise  # the error page (ApplicationErrorMiddleware)
        version = selectors.version_get(user=user, pk=pk)
        return _render_edit(
            request, version, editable=True, status=exc.status, activate_error=exc.message
        )
    messages.success(
        request,
        _("第 %(n)d 版已启用；之前在办的案件按原版本办完") % {"n": version.number},
    )
    return redirect("workflows:process_list")
