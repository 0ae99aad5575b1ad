"""Pages of the policy module: matching — 我的政策, push settings, and the policy calculator."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from xinrong.accounts import permissions
from xinrong.accounts.auth import request_user
from xinrong.common.errors import ApplicationError, PermissionDeniedError
from xinrong.enterprises.choices import EntityType
from xinrong.enterprises.models import MarketEntity
from xinrong.policies.choices import MeasureKind
from xinrong.policies.selectors import matching as selectors
from xinrong.policies.services import matching as services
from xinrong.reference import divisions, industries
from xinrong.reference.choices import SizeClass


def _own_entity(request: HttpRequest, permission: str) -> MarketEntity:
    user = request_user(request)
    entity = selectors.user_entity(user)
    if entity is None:
        raise PermissionDeniedError(
            "forbidden", _("只有已登记市场主体的企业用户可以使用此功能"), {"permission": permission}
        )
    permissions.require(user, permission, entity)
    return entity


@login_required
@require_GET
def my_policies(request: HttpRequest) -> HttpResponse:
    """我的政策: the measures the enterprise qualifies for, near misses, and push settings."""
    entity = _own_entity(request, "policies.my_policies_view")
    user = request_user(request)
    return render(
        request,
        "policies/matching/mine.html",
        {
            "entity": entity,
            "result": selectors.my_policies(entity=entity),
            "push": selectors.push_settings(entity=entity),
            "can_mute": permissions.can(user, "policies.push_settings_change", entity),
            "can_apply": permissions.can(user, "policies.fund_apply"),
            "last_pass": services.last_pass_at(),
        },
    )


@login_required
@require_POST
def push_settings(request: HttpRequest) -> HttpResponse:
    """Mute or unmute one measure kind's pushes."""
    entity = _own_entity(request, "policies.push_settings_change")
    kind = request.POST.get("kind", "")
    muted = request.POST.get("muted") == "1"
    try:
        services.mute_set(entity=entity, kind=kind, muted=muted, actor=request_user(request))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        label = MeasureKind(kind).label
        messages.success(
            request,
            _("已停止推送“%(k)s”类政策") % {"k": label}
            if muted
            else _("已恢复推送“%(k)s”类政策") % {"k": label},
        )
    return redirect("policies:mine")


class CalculatorForm(forms.Form):
    """The calculator's questions (checked by ``selectors.calculator_answers_parse``)."""

    # plain text fields with a select: the answers are checked (all at once, in words) by the
    # selector the API uses too
    entity_type = forms.CharField(
        label=gettext_lazy("主体类型"),
        widget=forms.Select(choices=[("", gettext_lazy("请选择")), *EntityType.choices]),
        required=False,
    )
    industry = forms.CharField(label=gettext_lazy("所属行业"), required=False)
    region = forms.CharField(label=gettext_lazy("所在地区"), required=False)
    size_class = forms.CharField(
        label=gettext_lazy("企业规模"),
        widget=forms.Select(choices=[("", gettext_lazy("请选择")), *SizeClass.choices]),
        required=False,
    )
    years_in_business = forms.CharField(
        label=gettext_lazy("经营年限（年，选填）"), required=False, max_length=10
    )
    employees = forms.CharField(
        label=gettext_lazy("从业人数（人，选填）"), required=False, max_length=10
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["industry"].widget = forms.Select(
            choices=[
                ("", _("请选择")),
                (_("门类（整个门类）"), [(s.code, s.label) for s in industries.sections()]),
                *industries.grouped_choices(),
            ]
        )
        self.fields["region"].widget = forms.Select(
            choices=[("", _("请选择")), *divisions.region_choices()]
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            self.answers = selectors.calculator_answers_parse(data)
        except ApplicationError as exc:
            for name, message in exc.extra.get("fields", {}).items():
                self.add_error(name, message)
        return data


@login_not_required
@require_GET
def calculator(request: HttpRequest) -> HttpResponse:
    """政策计算器: anyone answers a few questions and sees what would apply; a logged-in
    enterprise also sees what applies by its own data on the platform."""
    user = request.user
    own = None
    entity = selectors.user_entity(user) if user.is_authenticated else None
    if entity is not None and permissions.can(user, "policies.calculator_own", entity):
        own = selectors.calculator_for_entity(entity=entity)
    asked = any(request.GET.get(name) for name in CalculatorForm.base_fields)
    form = CalculatorForm(request.GET if asked else None)
    result = None
    answers: list[tuple[str, str]] = []
    if asked and form.is_valid():
        result = selectors.calculator_for_answers(answers=form.answers)
        answers = selectors.answer_labels(form.answers)
    return render(
        request,
        "policies/matching/calculator.html",
        {
            "form": form,
            "result": result,
            "answers": answers,
            "entity": entity if own is not None else None,
            "own": own,
            "can_apply": user.is_authenticated and permissions.can(user, "policies.fund_apply"),
        },
    )


urlpatterns: list[Any] = [
    path("mine/", my_policies, name="mine"),
    path("mine/push/", push_settings, name="push_settings"),
    path("calculator/", calculator, name="calculator"),
]
