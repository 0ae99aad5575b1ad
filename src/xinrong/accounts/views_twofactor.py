"""Two-factor login pages: the second step, enrolment, recovery codes, the account security page."""

from __future__ import annotations

from urllib.parse import urlencode

import django_otp
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinrong.accounts import permissions, selectors
from xinrong.accounts.auth import request_source, request_user
from xinrong.accounts.forms import LockoutAuthenticationForm, SecondFactorForm, TotpConfirmForm
from xinrong.accounts.middleware import SESSION_KEY, VERIFIED, session_state, session_verified
from xinrong.accounts.models import User
from xinrong.accounts.services import twofactor
from xinrong.accounts.services.login import login_throttle_locked
from xinrong.common.errors import SERVICE_ERRORS
from xinrong.common.forms import add_service_error
from xinrong.common.http import attachment_response

CODES_KEY = "xinrong_recovery_codes"


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("web:home")


def _locked_out(request: HttpRequest, until: object) -> HttpResponse:
    logout(request)
    # the login form's own words for a lock, so both say the same
    error = LockoutAuthenticationForm.locked_error(until)
    messages.error(request, str(error.message) % (error.params or {}))
    return redirect("accounts:login")


@login_required
def second_factor_verify(request: HttpRequest) -> HttpResponse:
    """The second step of a login: a code from the authenticator app, or a recovery code."""
    user = request_user(request)
    permissions.require(user, "accounts.second_factor_manage")
    state = session_state(request, user)
    if state in (VERIFIED, "none"):
        return redirect(_next(request))
    device = twofactor.totp_device_confirmed(user)
    if device is None:
        request.session[SESSION_KEY] = "enrol" if state == "enrol" else "none"
        return redirect(_next(request))
    ip, agent = request_source(request)
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST":
        lock = login_throttle_locked(username=user.username, source_ip=ip)
        if lock is not None:
            return _locked_out(request, lock.locked_until)
    if request.method == "POST" and form.is_valid():
        used = twofactor.second_factor_check(
            user=user, token=form.cleaned_data["code"], source_ip=ip, user_agent=agent
        )
        if used is None:
            lock = login_throttle_locked(username=user.username, source_ip=ip)
            if lock is not None:
                return _locked_out(request, lock.locked_until)
            form.add_error(
                "code",
                _(
                    "验证码不正确：请输入验证器应用当前显示的6位数字，或一个未用过的恢复码。"
                    "连续失败 %(limit)s 次将暂时锁定登录。"
                )
                % {"limit": settings.LOGIN_FAILURE_LIMIT},
            )
        else:
            request.session.cycle_key()
            django_otp.login(request, used)
            session_verified(request)
            if used.name == twofactor.RECOVERY_NAME:
                messages.warning(
                    request,
                    _(
                        "您使用了一个恢复码（每个只能用一次），还剩 %(n)s 个。"
                        "请尽快找回手机或重新生成恢复码。"
                    )
                    % {"n": twofactor.recovery_codes_left(user)},
                )
            return redirect(_next(request))
    demo = (
        getattr(settings, "XINRONG_DEMO_LOGINS", False)
        and device.name == twofactor.DEMO_DEVICE_NAME
    )
    return render(
        request,
        "accounts/twofactor/verify.html",
        {
            "form": form,
            "next": _next(request),
            "demo": demo,
            "demo_code": twofactor.totp_unused_code(device) if demo else "",
        },
    )


@login_required
def second_factor_enrol(request: HttpRequest) -> HttpResponse:
    """Turn on two-factor login: scan the QR code (or type the secret), confirm with a code."""
    user = request_user(request)
    permissions.require(user, "accounts.second_factor_manage")
    state = session_state(request, user)
    if state != VERIFIED and twofactor.totp_device_confirmed(user) is not None:
        # enrolled meanwhile (in another session): this one owes a code, not an enrolment
        request.session[SESSION_KEY] = "verify"
        return redirect("accounts:second_factor_verify")
    if state == "verify":
        return redirect("accounts:second_factor_verify")
    device = twofactor.totp_device_pending(user=user)
    form = TotpConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        ip, agent = request_source(request)
        try:
            confirmed, codes = twofactor.totp_enrol_confirm(
                user=user, token=form.cleaned_data["code"], source_ip=ip, user_agent=agent
            )
        except SERVICE_ERRORS as exc:
            add_service_error(form, exc)
        else:
            request.session.cycle_key()
            django_otp.login(request, confirmed)
            session_verified(request)
            request.session[CODES_KEY] = codes
            messages.success(request, _("两步验证已开启"))
            target = reverse("accounts:recovery_codes")
            if request.POST.get("next"):
                target += "?" + urlencode({"next": _next(request)})
            return redirect(target)
    return render(
        request,
        "accounts/twofactor/enrol.html",
        {
            "form": form,
            "required": state == "enrol",
            "qr_svg": twofactor.totp_qr_svg(device),
            "secret": twofactor.totp_secret_text(device),
            "next": request.POST.get("next") or request.GET.get("next") or "",
        },
    )


@login_required
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """Show the new recovery codes once; leaving the page with the button forgets them."""
    user = request_user(request)
    permissions.require(user, "accounts.second_factor_manage")
    codes = request.session.get(CODES_KEY)
    if request.method == "POST":
        request.session.pop(CODES_KEY, None)
        return redirect(_next(request))
    if not codes:
        messages.info(request, _("恢复码只在生成时显示一次；如已遗失，请重新生成"))
        return redirect("accounts:account_security")
    return render(
        request,
        "accounts/twofactor/recovery_codes.html",
        {"codes": codes, "next": request.GET.get("next", "")},
    )


@login_required
def recovery_codes_download(request: HttpRequest) -> HttpResponse:
    """The recovery codes just shown, as a text file."""
    user = request_user(request)
    permissions.require(user, "accounts.second_factor_manage")
    codes = request.session.get(CODES_KEY)
    if not codes:
        messages.info(request, _("恢复码只在生成时显示一次；如已遗失，请重新生成"))
        return redirect("accounts:account_security")
    lines = [
        _("信融平台两步验证恢复码"),
        _("账号：%(u)s") % {"u": user.username},
        _("生成时间：%(t)s") % {"t": timezone.localtime().strftime("%Y-%m-%d %H:%M")},
        _("每个恢复码只能使用一次，请妥善保管。"),
        "",
        *codes,
        "",
    ]
    return attachment_response(
        "\r\n".join(lines).encode(),
        filename=_("信融平台恢复码") + ".txt",
        fallback="xinrong-recovery-codes.txt",
        content_type="text/plain; charset=utf-8",
    )


@login_required
def account_security(request: HttpRequest) -> HttpResponse:
    """The user's own two-factor status: turn on, new recovery codes, reset the authenticator."""
    user = request_user(request)
    permissions.require(user, "accounts.second_factor_manage")
    device = twofactor.totp_device_confirmed(user)
    return render(
        request,
        "accounts/twofactor/security.html",
        {
            "device": device,
            "required": permissions.needs_second_factor(user),
            "codes_left": twofactor.recovery_codes_left(user) if device else 0,
        },
    )


@require_POST
@login_required
def recovery_codes_new(request: HttpRequest) -> HttpResponse:
    """Replace one's recovery codes and show the new ones."""
    user = request_user(request)
    permissions.require(user, "accounts.second_factor_manage")
    ip, agent = request_source(request)
    try:
        codes = twofactor.recovery_codes_issue(user=user, source_ip=ip, user_agent=agent)
    except SERVICE_ERRORS as exc:
        messages.error(request, str(getattr(exc, "message", exc)))
        return redirect("accounts:account_security")
    request.session[CODES_KEY] = codes
    return redirect("accounts:recovery_codes")


@require_POST
@login_required
def second_factor_reset_own(request: HttpRequest) -> HttpResponse:
    """Remove one's own authenticator and recovery codes (e.g. a new phone)."""
    user = request_user(request)
    permissions.require(user, "accounts.second_factor_manage")
    ip, agent = request_source(request)
    twofactor.second_factor_reset(user=user, actor=user, source_ip=ip, user_agent=agent)
    if permissions.needs_second_factor(user):
        request.session[SESSION_KEY] = "enrol"
        messages.warning(request, _("已重置。您的账号必须使用两步验证，请现在用新手机重新开启。"))
        return redirect("accounts:second_factor_enrol")
    request.session[SESSION_KEY] = "none"
    messages.success(request, _("已关闭两步验证"))
    return redirect("accounts:account_security")


@require_POST
@login_required
def user_second_factor_reset(request: HttpRequest, pk: int) -> HttpResponse:
    """An operator admin resets another user's authenticator (a lost phone)."""
    actor = request_user(request)
    target = get_object_or_404(
        User.objects.filter(organisation__in=selectors.organisation_list(user=actor)), pk=pk
    )
    permissions.require(
        actor,
        "accounts.user_otp_reset",
        target,
        message=_("只有本区划的运营管理员可以重置他人的两步验证"),
    )
    ip, agent = request_source(request)
    twofactor.second_factor_reset(user=target, actor=actor, source_ip=ip, user_agent=agent)
    messages.success(
        request,
        _("已重置 %(u)s 的两步验证，该账号下次登录时须重新开启") % {"u": target.username},
    )
    return redirect("accounts:user_edit", pk=target.pk)
