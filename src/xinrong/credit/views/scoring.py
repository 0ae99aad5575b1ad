"""Pages of scoring: portraits and the model registry."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinrong.accounts.auth import request_user
from xinrong.common.errors import SERVICE_ERRORS
from xinrong.common.http import error_page
from xinrong.credit import tasks
from xinrong.credit.choices import Channel
from xinrong.credit.selectors import scoring as scoring_selectors
from xinrong.credit.services import scoring as scoring_services
from xinrong.credit.views.archive import own_entity
from xinrong.enterprises import selectors as entity_selectors


@login_required
def portrait_own(request: HttpRequest) -> HttpResponse:
    """The enterprise's own portrait."""
    entity = own_entity(request_user(request))
    return redirect("credit:portrait", uscc=entity.uscc)


@login_required
def portrait(request: HttpRequest, uscc: str) -> HttpResponse:
    """Show a credit portrait (画像); an institution's view is logged as a query."""
    user = request_user(request)
    try:
        entity = entity_selectors.market_entity_get(user=user, uscc=uscc)
        data = scoring_selectors.portrait_read(user=user, entity=entity, channel=Channel.PAGE)
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
        models = list(scoring_selectors.model_list(user=request_user(request)))
    except SERVICE_ERRORS as exc:
        return error_page(request, exc)
    return render(request, "credit/models.html", {"models": models})


@login_required
def model_detail(request: HttpRequest, version: int) -> HttpResponse:
    """One version: metrics, bins and points, events, and stability of recent scoring runs."""
    try:
        data = scoring_selectors.model_detail(user=request_user(request), version=version)
    except SERVICE_ERRORS as exc:
        return error_page(request, exc)
    return render(request, "credit/model.html", {"d": data, "chart": data.chart})


@login_required
@require_POST
def model_activate(request: HttpRequest, version: int) -> HttpResponse:
    """Activate a version (the audit record names the operator)."""
    user = request_user(request)
    try:
        model = scoring_selectors.model_detail(user=user, version=version).model
        scoring_services.model_activate(
            model=model, actor=user, note=request.POST.get("note", "")[:500]
        )
    except SERVICE_ERRORS as exc:
        return error_page(request, exc)
    messages.success(request, _("模型 v%(v)d 已启用；全量评分已排入后台任务") % {"v": version})
    tasks.rescore_all_schedule()
    return redirect("credit:model", version=version)
