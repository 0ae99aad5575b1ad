"""Accounts pages: login/logout, password, organisations and users, API keys."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinrong.accounts import permissions, presenters, selectors
from xinrong.accounts.auth import request_source, request_user
from xinrong.accounts.choices import API_KEY_KINDS, ORG_GROUP, ROLES_BY_GROUP, OrgGroup, Role
from xinrong.accounts.forms import (
    ActiveChangeForm,
    ApiKeyCreateForm,
    LockoutAuthenticationForm,
    OrganisationCreateForm,
    OrganisationEditForm,
    PasswordChangeForm,
    SecurityLogFilterForm,
    UserCreateForm,
    UserEditForm,
    UserListFilterForm,
)
from xinrong.accounts.models import ApiKey, Organisation, User
from xinrong.accounts.services import api_keys, login, organisations, twofactor, users
from xinrong.common.errors import SERVICE_ERRORS, PermissionDeniedError
from xinrong.common.forms import add_service_error
from xinrong.common.pagination import paginate
from xinrong.reference import divisions


class LoginView(auth_views.LoginView):
    """Log in with lockout after repeated failures."""

    template_name = "accounts/login.html"
    authentication_form = LockoutAuthenticationForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """Log out (POST only), recording it."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if isinstance(user, User):
            ip, agent = request_source(request)
            login.logout_record(user=user, source_ip=ip, user_agent=agent)
        return super().post(request, *args, **kwargs)


@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    """Change one's own password."""
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        ip, agent = request_source(request)
        try:
            user = users.user_password_change(
                user=request_user(request),
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password"],
                source_ip=ip,
                user_agent=agent,
            )
        except SERVICE_ERRORS as exc:
            add_service_error(form, exc)
        else:
            update_session_auth_hash(request, user)
            messages.success(request, _("密码已修改"))
            return redirect("web:home")
    return render(request, "accounts/password_change.html", {"form": form})


def _require(user: User, name: str, obj: object = None, message: str = "") -> None:
    """Refuse with the permission layer's message (the error page shows it with a 403)."""
    permissions.require(user, name, obj, message=message)


@login_required
def organisation_list(request: HttpRequest) -> HttpResponse:
    """List organisations and create institutions, departments and sub-stations."""
    user = request_user(request)
    _require(
        user, "accounts.organisation_create", message=_("只有平台运营管理员可以管理机构与账号")
    )
    form = OrganisationCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        candidate = Organisation(
            kind=form.cleaned_data["kind"], region_code=form.cleaned_data["region_code"] or ""
        )
        if not permissions.can(user, "accounts.organisation_create", candidate):
            form.add_error("region_code", _("子站只能在本区划内创建机构，请选择本区划内的地区"))
    if request.method == "POST" and form.is_valid():
        ip, agent = request_source(request)
        try:
            org = organisations.organisation_create(
                name=form.cleaned_data["name"],
                kind=form.cleaned_data["kind"],
                uscc=form.cleaned_data["uscc"] or None,
                region_code=form.cleaned_data["region_code"] or "",
                contact=form.cleaned_data["contact"] or "",
                actor=user,
                source_ip=ip,
                user_agent=agent,
            )
        except SERVICE_ERRORS as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("已创建机构：%(name)s") % {"name": org.name})
            return redirect("accounts:organisation_detail", pk=org.pk)
    kind = request.GET.get("kind", "")
    orgs = list(
        selectors.organisation_list(user=user, kind=kind or None).exclude(
            kind__in=["enterprise", "individual_business"]
        )[:500]
    )
    for org in orgs:
        org.region_name = divisions.full_name(org.region_code) if org.region_code else ""  # type: ignore[attr-defined]
    return render(
        request,
        "accounts/organisation_list.html",
        {"form": form, "organisations": orgs, "kind": kind},
    )


@login_required
def organisation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show an organisation and its users."""
    user = request_user(request)
    org = get_object_or_404(selectors.organisation_list(user=user), pk=pk)
    _require(user, "accounts.organisation_view", org)
    members = list(org.users.prefetch_related("roles").order_by("username"))
    locked = selectors.locked_usernames(usernames=[u.username for u in members])
    return render(
        request,
        "accounts/organisation_detail.html",
        {
            "org": org,
            "region_name": divisions.full_name(org.region_code) if org.region_code else "",
            "users": [
                (u, u.username in locked, permissions.can(user, "accounts.user_edit", u))
                for u in members
            ],
            "has_api_keys": org.kind in API_KEY_KINDS,
        },
    )


@login_required
def organisation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """An operator corrects an organisation's name, contact and region."""
    user = request_user(request)
    org = get_object_or_404(selectors.organisation_list(user=user), pk=pk)
    _require(user, "accounts.organisation_edit", org, message=_("您无权修改该机构的信息"))
    initial = {"name": org.name, "contact": org.contact, "region_code": org.region_code}
    form = OrganisationEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        ip, agent = request_source(request)
        try:
            organisations.organisation_update(
                organisation=org,
                name=form.cleaned_data["name"],
                contact=form.cleaned_data["contact"] or "",
                region_code=form.cleaned_data["region_code"] or "",
                actor=user,
                source_ip=ip,
                user_agent=agent,
            )
        except SERVICE_ERRORS as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("已保存机构信息"))
            return redirect("accounts:organisation_detail", pk=org.pk)
    return render(request, "accounts/organisation_edit.html", {"form": form, "org": org})


@login_required
def organisation_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Disable or re-enable an organisation, with a reason (operator)."""
    user = request_user(request)
    org = get_object_or_404(selectors.organisation_list(user=user), pk=pk)
    _require(user, "accounts.organisation_disable", org, message=_("您无权停用或启用该机构"))
    form = ActiveChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        ip, agent = request_source(request)
        try:
            organisations.organisation_active_set(
                organisation=org,
                active=not org.is_active,
                reason=form.cleaned_data["reason"],
                actor=user,
                source_ip=ip,
                user_agent=agent,
            )
        except SERVICE_ERRORS as exc:
            add_service_error(form, exc)
        else:
            done = _("已启用机构：%(name)s") if not org.is_active else _("已停用机构：%(name)s")
            messages.success(request, done % {"name": org.name})
            return redirect("accounts:organisation_detail", pk=org.pk)
    return render(
        request,
        "accounts/active_change.html",
        {
            "form": form,
            "subject": org.name,
            "org": org,
            "active": org.is_active,
            "kind": "organisation",
            "back": reverse("accounts:organisation_detail", args=[org.pk]),
        },
    )


def _managed_user(request: HttpRequest, pk: int) -> tuple[User, User]:
    actor = request_user(request)
    target = get_object_or_404(
        User.objects.filter(
            organisation__in=selectors.organisation_list(user=actor)
        ).select_related("organisation"),
        pk=pk,
    )
    return actor, target


def _editable_roles(actor: User, target: User) -> frozenset[str] | None:
    """Return the roles the actor may give this login, or None when its roles are not theirs."""
    org = target.organisation
    assert org is not None
    if ORG_GROUP[org.kind] == OrgGroup.ENTERPRISE:
        if permissions.can(actor, "accounts.user_create", org) and Role.ENTERPRISE_OWNER not in (
            target.role_codes
        ):
            return frozenset({Role.ENTERPRISE_AGENT})
        return None
    if target.pk == actor.pk:
        return None  # nobody changes its own roles
    return ROLES_BY_GROUP[ORG_GROUP[org.kind]]


@login_required
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct a user's name, phone and roles (operator; institution admin for its own)."""
    actor, target = _managed_user(request, pk)
    _require(actor, "accounts.user_edit", target, message=_("您无权修改该账号"))
    allowed = _editable_roles(actor, target)
    initial = {
        "display_name": target.display_name,
        "phone": target.phone,
        "roles": sorted(target.role_codes),
    }
    form = UserEditForm(request.POST or None, initial=initial, allowed_roles=allowed)
    if request.method == "POST" and form.is_valid():
        ip, agent = request_source(request)
        try:
            users.user_update(
                user=target,
                display_name=form.cleaned_data["display_name"],
                phone=form.cleaned_data["phone"],
                roles=form.cleaned_data["roles"] if allowed is not None else None,
                actor=actor,
                source_ip=ip,
                user_agent=agent,
            )
        except SERVICE_ERRORS as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("已保存账号 %(u)s") % {"u": target.username})
            return redirect("accounts:organisation_detail", pk=target.organisation_id)
    return render(
        request,
        "accounts/user_edit.html",
        {
            "form": form,
            "target": target,
            "can_disable": permissions.can(actor, "accounts.user_disable", target),
            "can_reset_second_factor": permissions.can(actor, "accounts.user_otp_reset", target),
            "target_has_device": twofactor.totp_device_confirmed(target) is not None,
        },
    )


@login_required
def user_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Disable or re-enable a login, with a reason recorded in the security log."""
    actor, target = _managed_user(request, pk)
    _require(actor, "accounts.user_disable", target, message=_("您无权停用或启用该账号"))
    form = ActiveChangeForm(request.POST or None)
    was_active = target.is_active
    if request.method == "POST" and form.is_valid():
        ip, agent = request_source(request)
        try:
            users.user_active_set(
                user=target,
                active=not was_active,
                reason=form.cleaned_data["reason"],
                actor=actor,
                source_ip=ip,
                user_agent=agent,
            )
        except SERVICE_ERRORS as exc:
            add_service_error(form, exc)
        else:
            done = _("已停用账号：%(u)s") if was_active else _("已启用账号：%(u)s")
            messages.success(request, done % {"u": target.display_name or target.username})
            return redirect("accounts:organisation_detail", pk=target.organisation_id)
    return render(
        request,
        "accounts/active_change.html",
        {
            "form": form,
            # the person's name reads as prose; the username is a code (not translated)
            "subject": target.display_name or target.username,
            "subject_code": target.username,
            "org": target.organisation,
            "active": was_active,
            "kind": "user",
            "back": reverse("accounts:organisation_detail", args=[target.organisation_id]),
        },
    )


@login_required
def user_list(request: HttpRequest) -> HttpResponseBase:
    """The logins one manages: search, state, paging, and an Excel export."""
    actor = request_user(request)
    _require(actor, "accounts.user_list_view", message=_("您无权查看账号名单"))
    form = UserListFilterForm(request.GET or None)
    filters: dict[str, Any] = {}
    if form.is_valid():
        filters = {k: v for k, v in form.cleaned_data.items() if v}
    qs = selectors.user_list(user=actor, **filters)
    if request.GET.get("export") == "xlsx":
        return exports_user_list(qs)
    page = paginate(request, qs, per_page=50)
    rows = [(u, permissions.can(actor, "accounts.user_edit", u)) for u in page]
    return render(
        request,
        "accounts/user_list.html",
        {"form": form, "page": page, "rows": rows, "total": page.paginator.count},
    )


def exports_user_list(qs: Any) -> HttpResponseBase:
    """Return the users list as Excel: dates as dates, states in words, phones masked."""
    from django.utils import timezone

    from xinrong.common import exports
    from xinrong.common.masking import mask_phone

    def naive(moment: Any) -> Any:
        return timezone.localtime(moment).replace(tzinfo=None) if moment else None

    def rows() -> Any:
        for u in qs.iterator(chunk_size=500):
            org = u.organisation
            yield [
                u.username,
                u.display_name,
                org.name if org else "",
                org.get_kind_display() if org else "",
                "、".join(r.get_role_display() for r in u.roles.all()),
                _("正常") if u.is_active else _("已停用"),
                mask_phone(u.phone),
                naive(u.date_joined),
                naive(u.last_login),
            ]

    return exports.xlsx_response(
        [
            exports.Sheet(
                title=_("账号名单"),
                header=[
                    _("用户名"),
                    _("姓名"),
                    _("所属机构"),
                    _("机构类型"),
                    _("角色"),
                    _("状态"),
                    _("手机号（脱敏）"),
                    _("开立时间"),
                    _("最近登录"),
                ],
                rows=rows(),
                widths=[18, 12, 30, 14, 24, 8, 16, 20, 20],
                freeze_header=True,
            )
        ],
        filename="账号名单.xlsx",
        fallback="users.xlsx",
    )


@login_required
def user_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a user to an organisation (operator for any, institution admin for its own)."""
    actor = request_user(request)
    org = get_object_or_404(selectors.organisation_list(user=actor), pk=pk)
    _require(actor, "accounts.user_create", org, message=_("您无权为该机构添加用户"))
    allowed = ROLES_BY_GROUP[ORG_GROUP[org.kind]]
    if ORG_GROUP[org.kind] == OrgGroup.ENTERPRISE:
        # an enterprise's owner adds agents; owner logins come from registration or the procedure
        allowed = frozenset({Role.ENTERPRISE_AGENT})
    form = UserCreateForm(request.POST or None, allowed_roles=allowed)
    if request.method == "POST" and form.is_valid():
        ip, agent = request_source(request)
        try:
            new_user = users.user_create(
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
                organisation=org,
                roles=form.cleaned_data["roles"],
                display_name=form.cleaned_data["display_name"],
                phone=form.cleaned_data["phone"],
                actor=actor,
                source_ip=ip,
                user_agent=agent,
            )
        except SERVICE_ERRORS as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("已创建用户：%(name)s") % {"name": new_user.username})
            return redirect("accounts:organisation_detail", pk=org.pk)
    return render(request, "accounts/user_create.html", {"form": form, "org": org})


@login_required
@require_POST
def user_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    """Lift the login lockouts of a user of an organisation the operator can see."""
    actor = request_user(request)
    target = get_object_or_404(
        User.objects.filter(organisation__in=selectors.organisation_list(user=actor)), pk=pk
    )
    _require(actor, "accounts.user_unlock", target, message=_("只有运营管理员可以解锁账户"))
    ip, agent = request_source(request)
    login.user_unlock(user=target, actor=actor, source_ip=ip, user_agent=agent)
    messages.success(request, _("已解除 %(u)s 的登录锁定") % {"u": target.username})
    return redirect("accounts:organisation_detail", pk=target.organisation_id)


@login_required
def security_log(request: HttpRequest) -> HttpResponse:
    """The security record: writes to accounts, roles, logins and keys (auditor's page)."""
    user = request_user(request)
    _require(user, "accounts.security_log_view", message=_("您无权查看账号与密钥的操作记录"))
    form = SecurityLogFilterForm(request.GET or None)
    filters: dict[str, Any] = {}
    if form.is_valid():
        filters = {k: v for k, v in form.cleaned_data.items() if v}
    events = selectors.security_event_list(user=user, **filters)
    page = paginate(request, events, per_page=50)
    for event in page:
        event.details_display = presenters.security_event_details(event.details)  # type: ignore[attr-defined]
    return render(request, "accounts/security_log.html", {"form": form, "page": page})


def _api_key_page(request: HttpRequest, org: Organisation) -> HttpResponse:
    """List and issue an institution's API keys; a new key is shown once."""
    user = request_user(request)
    if org.kind not in API_KEY_KINDS:
        raise PermissionDeniedError(
            "api_keys_not_allowed", _("只有金融机构和政府部门可以管理 API 密钥")
        )
    keys = list(selectors.api_key_list(user=user, organisation=org))
    form = ApiKeyCreateForm(request.POST or None)
    new_secret = None
    if request.method == "POST" and form.is_valid():
        ip, agent = request_source(request)
        try:
            key, new_secret = api_keys.api_key_create(
                organisation=org,
                name=form.cleaned_data["name"],
                actor=user,
                source_ip=ip,
                user_agent=agent,
            )
        except SERVICE_ERRORS as exc:
            add_service_error(form, exc)
        else:
            keys.insert(0, key)
            form = ApiKeyCreateForm()
    return render(
        request,
        "accounts/api_keys.html",
        {"form": form, "keys": keys, "new_secret": new_secret, "org": org},
    )


@login_required
def api_key_list(request: HttpRequest) -> HttpResponse:
    """The API keys of the user's own institution."""
    org = request_user(request).organisation
    if org is None:
        raise PermissionDeniedError(
            "api_keys_not_allowed", _("只有金融机构和政府部门可以管理 API 密钥")
        )
    return _api_key_page(request, org)


@login_required
def organisation_api_keys(request: HttpRequest, pk: int) -> HttpResponse:
    """An operator manages the API keys of an institution it can see."""
    org = get_object_or_404(selectors.organisation_list(user=request_user(request)), pk=pk)
    return _api_key_page(request, org)


@login_required
@require_POST
def api_key_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke an API key of an institution the user may manage."""
    user = request_user(request)
    key = get_object_or_404(ApiKey.objects.restrict(user).select_related("organisation"), pk=pk)
    ip, agent = request_source(request)
    api_keys.api_key_revoke(key=key, actor=user, source_ip=ip, user_agent=agent)
    messages.success(request, _("密钥 %(prefix)s… 已吊销") % {"prefix": key.prefix})
    if key.organisation_id == user.organisation_id:
        return redirect("accounts:api_key_list")
    return redirect("accounts:organisation_api_keys", pk=key.organisation_id)
