"""Two-factor login: a TOTP authenticator app and ten one-time recovery codes (django-otp).

Who must use it is one predicate, ``permissions.needs_second_factor``; anyone else may turn it
on. A wrong code counts towards the login lockout like a wrong password (docs/security.md,
"两步验证 / Two-factor login").
"""

from __future__ import annotations

from base64 import b32encode
from io import BytesIO
from typing import Literal

from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.models import Device
from django_otp.oath import TOTP, totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from xinrong.accounts import permissions
from xinrong.accounts.models import SecurityAction, User
from xinrong.accounts.services.login import login_failure_record
from xinrong.accounts.services.security import security_event_record
from xinrong.common.errors import ApplicationError

RECOVERY_CODE_COUNT = 10
DEVICE_NAME = "authenticator"
RECOVERY_NAME = "recovery"
# The seed names the demo accounts' devices so; only they show their current code (demo mode).
DEMO_DEVICE_NAME = "demo"

State = Literal["none", "verify", "enrol"]


def _code_error(message: str) -> ApplicationError:
    return ApplicationError("second_factor_code", message, {"field": "code"})


def _clean(token: str) -> str:
    return "".join(token.split()).replace("-", "").lower()


def totp_device_confirmed(user: User) -> TOTPDevice | None:
    """Return the user's confirmed authenticator, if any."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def second_factor_state(user: User) -> State:
    """What a freshly logged-in user still owes: a code, an enrolment, or nothing."""
    if totp_device_confirmed(user) is not None:
        return "verify"
    return "enrol" if permissions.needs_second_factor(user) else "none"


def recovery_codes_left(user: User) -> int:
    """How many unused recovery codes the user holds."""
    return int(StaticToken.objects.filter(device__user=user, device__confirmed=True).count())


@transaction.atomic
def totp_device_pending(*, user: User) -> TOTPDevice:
    """Return the user's unconfirmed authenticator being enrolled (made on first call)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def totp_secret_text(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, for typing into an app by hand."""
    text = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def totp_qr_svg(device: TOTPDevice) -> str:
    """The enrolment QR code as inline SVG markup (no image request, no external service)."""
    import qrcode
    from qrcode.image.svg import SvgPathImage

    image = qrcode.make(device.config_url, image_factory=SvgPathImage, box_size=8)
    buffer = BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    return svg[svg.index("<svg") :]


def totp_current_code(device: TOTPDevice) -> str:
    """The code the device shows now (demo page and tests only)."""
    code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{code:0{device.digits}d}"


def totp_unused_code(device: TOTPDevice) -> str:
    """A code the server accepts now: the current one, or, if that was used (django-otp refuses a
    replay), the next step's, which the device's tolerance admits; "" when both are used.

    Only for demo accounts (the second step shows it) and tests: a second login within the same
    30 seconds would otherwise be shown a code the server then refuses.
    """
    clock = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    now = clock.t()
    for step in range(device.tolerance + 1):
        if now + step > device.last_t:
            clock.drift = device.drift + step
            return f"{clock.token():0{device.digits}d}"
    return ""


def _recovery_codes_replace(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _n in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


@transaction.atomic
def totp_enrol_confirm(
    *, user: User, token: str, source_ip: str = "", user_agent: str = ""
) -> tuple[TOTPDevice, list[str]]:
    """Confirm the pending authenticator with a code from it; return it and new recovery codes."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
    if device is None:
        raise _code_error(_("请重新打开开启两步验证页面并扫描二维码"))
    if not device.verify_token(_clean(token)):
        raise _code_error(_("验证码不正确：请输入验证器应用当前显示的6位数字，并确认手机时间准确"))
    TOTPDevice.objects.filter(user=user, confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _recovery_codes_replace(user)
    for action in (SecurityAction.OTP_ENROL, SecurityAction.RECOVERY_CODES_ISSUE):
        security_event_record(
            action=action, actor=user, target_user=user, source_ip=source_ip, user_agent=user_agent
        )
    return device, codes


@transaction.atomic
def recovery_codes_issue(*, user: User, source_ip: str = "", user_agent: str = "") -> list[str]:
    """Replace the user's recovery codes by ten new ones (the old ones stop working)."""
    if totp_device_confirmed(user) is None:
        raise _code_error(_("请先开启两步验证，再生成恢复码"))
    codes = _recovery_codes_replace(user)
    security_event_record(
        action=SecurityAction.RECOVERY_CODES_ISSUE,
        actor=user,
        target_user=user,
        source_ip=source_ip,
        user_agent=user_agent,
    )
    return codes


def second_factor_check(
    *, user: User, token: str, source_ip: str = "", user_agent: str = ""
) -> Device | None:
    """Check a code from the authenticator or a recovery code (used up); None if wrong.

    A wrong code is recorded (OTP_FAILURE) and counts towards the login lockout of the user's
    name from this address.
    """
    code = _clean(token)
    if code:
        with transaction.atomic():  # two requests with one code: the second waits, then fails
            device = (
                TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
            )
            if device is not None and code.isdigit() and device.verify_token(code):
                return device
        with transaction.atomic():
            static = (
                StaticDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
            )
            if static is not None and not code.isdigit() and static.verify_token(code):
                security_event_record(
                    action=SecurityAction.RECOVERY_CODE_USE,
                    actor=user,
                    target_user=user,
                    details={"left": static.token_set.count()},
                    source_ip=source_ip,
                    user_agent=user_agent,
                )
                return static
    login_failure_record(
        username=user.username,
        source_ip=source_ip,
        user_agent=user_agent,
        action=SecurityAction.OTP_FAILURE,
    )
    return None


@transaction.atomic
def second_factor_reset(
    *, user: User, actor: User, source_ip: str = "", user_agent: str = ""
) -> None:
    """Remove a user's authenticator and recovery codes (its own, or an operator admin's reset).

    A user who must use two-factor login is led to enrol again at its next login.
    """
    if actor.pk != user.pk:
        permissions.require(
            actor,
            "accounts.user_otp_reset",
            user,
            message=_("只有本区划的运营管理员可以重置他人的两步验证"),
        )
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    security_event_record(
        action=SecurityAction.OTP_DISABLE if actor.pk == user.pk else SecurityAction.OTP_RESET,
        actor=actor,
        target_user=user,
        source_ip=source_ip,
        user_agent=user_agent,
    )


@transaction.atomic
def totp_device_demo_enrol(*, user: User) -> TOTPDevice:
    """Give a demo account a confirmed authenticator (the seed; not for real accounts)."""
    TOTPDevice.objects.filter(user=user).delete()
    device = TOTPDevice.objects.create(user=user, name=DEMO_DEVICE_NAME, confirmed=True)
    _recovery_codes_replace(user)
    return device
