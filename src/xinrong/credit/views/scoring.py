"""Pages of scoring: portraits and the model registry."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinrong.accounts.auth import request_user
from xinrong.common.errors import ApplicationError, PermissionDeniedError
from xinrong.common.replica import reads_from_replica
from xinrong.credit import tasks
from xinrong.credit.choices import Channel
from xinrong.credit.selectors import scoring as scoring_selectors
from xinrong.credit.services import scoring as scoring_services
from xinrong.credit.views.archive import own_entity
from xinrong.credit.wording import training_data_label
from xinrong.enterprises import selectors as entity_selectors


@login_required
def portrait_own(request: HttpRequest) -> HttpResponse:
    """The enterprise's own portrait."""
    entity = own_entity(request_user(request))
    return redirect("credit:portrait", uscc=entity.uscc)


@login_required
@reads_from_replica
def portrait(request: HttpRequest, uscc: str) -> HttpResponse:
    """Show a credit portrait (画像); an institution's view is logged as a query."""
    user = request_user(request)
    entity = entity_selectors.market_entity_get(user=user, uscc=uscc)
    data = scoring_selectors.portrait_read(user=user, entity=entity, channel=Channel.PAGE)
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
    user = request_user(request)
    models = list(scoring_selectors.model_list(user=user))
    for m in models:
        m.training_label = training_data_label(m.training or {})  # type: ignore[attr-defined]
    runs = scoring_selectors.model_training_runs(user=user)
    return render(request, "credit/models.html", {"models": models, "runs": runs})


@login_required
@require_POST
def model_train(request: HttpRequest) -> HttpResponse:
    """Queue the training of a new version (a draft, activated by hand after checking)."""
    user = request_user(request)
    try:
        scoring_services.model_train_request(actor=user, name=request.POST.get("name", ""))
    except ApplicationError as exc:
        if isinstance(exc, PermissionDeniedError):
            raise
        messages.error(request, str(exc.message))
    else:
        messages.success(
            request,
            _("训练任务已排入后台：完成后新版本以“待启用”出现在下表，并通知您；核对指标后再启用。"),
        )
    return redirect("credit:models")


@login_required
def model_detail(request: HttpRequest, version: int) -> HttpResponse:
    """One version: metrics, bins and points, events, and stability of recent scoring runs."""
    data = scoring_selectors.model_detail(user=request_user(request), version=version)
    return render(request, "credit/model.html", {"d": data, "chart": data.chart})


@login_required
@require_POST
def model_activate(request: HttpRequest, version: int) -> HttpResponse:
    """Activate a version (the audit record names the operator)."""
    user = request_user(request)
    model = scoring_selectors.model_detail(user=user, version=version).model
    scoring_services.model_activate(
        model=model, actor=user, note=request.POST.get("note", "")[:500]
    )
    messages.success(request, _("模型 v%(v)d 已启用；全量评分已排入后台任务") % {"v": version})
    tasks.rescore_all_schedule()
    return redirect("credit:model", version=version)
