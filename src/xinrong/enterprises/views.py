"""Registry pages: search, detail, enterprise self-registration."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required, login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from xinrong.accounts import permissions
from xinrong.accounts.auth import request_source, request_user
from xinrong.accounts.forms import EnterpriseLoginIssueForm
from xinrong.common.errors import SERVICE_ERRORS, ApplicationError
from xinrong.common.forms import add_service_error
from xinrong.common.pagination import paginate
from xinrong.enterprises import presenters, selectors, services
from xinrong.enterprises.forms import EnterpriseRegisterForm, EntitySearchForm
from xinrong.reference import divisions


@login_required
def entity_list(request: HttpRequest) -> HttpResponse:
    """Search the registry with filters and a cascading region picker."""
    form = EntitySearchForm(request.GET or None)
    error = None
    page = None
    if form.is_valid() or not request.GET:
        data = form.cleaned_data if request.GET else {}
        filters = selectors.EntityFilters(
            q=data.get("q", ""),
            region=data.get("region", ""),
            industry=data.get("industry", ""),
            size_class=data.get("size_class", ""),
            entity_type=data.get("entity_type", ""),
        )
        try:
            qs = selectors.market_entity_search(user=request.user, filters=filters)  # type: ignore[arg-type]
            page = paginate(request, qs)
        except ApplicationError as exc:
            error = exc.message
    rows = [presenters.entity_row(e) for e in page.object_list] if page else []
    region = request.GET.get("region", "")
    selected = divisions.get(region) if region else None
    region_path = [*divisions.ancestors(region), selected] if selected else []
    return render(
        request,
        "enterprises/entity_list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "error": error,
            "region_path": region_path,
        },
    )


@login_required
def entity_detail(request: HttpRequest, uscc: str) -> HttpResponse:
    """Show one entity's registry entry (personal data masked)."""
    entity = selectors.market_entity_get(user=request.user, uscc=uscc)  # type: ignore[arg-type]
    relationships = list(selectors.relationship_list(entity=entity))
    linkable = selectors.market_entity_visible_ids(
        user=request.user,  # type: ignore[arg-type]
        ids=[r.holder_entity_id for r in relationships if r.holder_entity_id],
    )
    detail = presenters.entity_detail(entity, relationships, linkable)
    can_issue = permissions.can(
        request.user, "accounts.enterprise_login_issue"
    ) and not selectors.entity_has_owner_login(entity=entity)
    return render(
        request,
        "enterprises/entity_detail.html",
        {"entity": detail, "can_issue": can_issue, "uscc": entity.uscc},
    )


@login_required
def entity_login_issue(request: HttpRequest, uscc: str) -> HttpResponse:
    """The operator opens the owner login of a registry entity (the recorded procedure)."""
    user = request_user(request)
    entity = selectors.market_entity_get(user=user, uscc=uscc)
    permissions.require(
        user, "accounts.enterprise_login_issue", message=_("只有全省运营管理员可以代开企业账号")
    )
    form = EnterpriseLoginIssueForm(request.POST or None)
    issued = None
    if request.method == "POST" and form.is_valid():
        ip, agent = request_source(request)
        try:
            login_user, password = services.entity_login_issue(
                entity=entity, actor=user, source_ip=ip, user_agent=agent, **form.cleaned_data
            )
        except SERVICE_ERRORS as exc:
            add_service_error(form, exc)
        else:
            issued = {"user": login_user, "password": password}
            entity.refresh_from_db()
    org = entity.organisation if issued and entity.organisation else entity
    return render(
        request,
        "accounts/enterprise_login_issue.html",
        {"form": form, "org": org, "issued": issued},
    )


@login_not_required
def enterprise_register(request: HttpRequest) -> HttpResponse:
    """Let an enterprise register itself with its USCC and legal representative."""
    if request.user.is_authenticated:
        return redirect("web:home")
    form = EnterpriseRegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.enterprise_register(
                uscc=data["uscc"],
                name=data["name"],
                legal_rep_name=data["legal_rep_name"],
                legal_rep_id_number=data["legal_rep_id_number"],
                username=data["username"],
                password=data["password"],
                phone=data["phone"],
                industry_code=data["industry_code"],
                division_code=data["division_code"],
            )
        except SERVICE_ERRORS as exc:
            add_service_error(form, exc)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("注册成功，欢迎使用信融平台"))
            return redirect("web:home")
    return render(request, "enterprises/register.html", {"form": form})
