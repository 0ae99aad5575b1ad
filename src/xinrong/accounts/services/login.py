"""Logins: lockout after repeated failures, login and logout records, unlocking a user."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xinrong.accounts import permissions
from xinrong.accounts.models import LoginThrottle, SecurityAction, User
from xinrong.accounts.services.security import security_event_record

# ---------------------------------------------------------------- login lockout
# Failures are counted per (username, source address), for usernames that exist and those that
# do not alike: a lock says nothing about which accounts exist, and an attacker locks an account
# only for its own address. Each further lock of the same pair lasts twice as long (capped).


def _login_name(username: str) -> str:
    return username.strip().lower()[:150]


def _login_ip(source_ip: str) -> str:
    return source_ip or "0.0.0.0"  # noqa: S104 (a missing address is one shared bucket)


def login_throttle_locked(*, username: str, source_ip: str) -> LoginThrottle | None:
    """Return the lock in force on this username from this address, if any."""
    throttle = LoginThrottle.objects.filter(
        username=_login_name(username), source_ip=_login_ip(source_ip)
    ).first()
    return throttle if throttle is not None and throttle.is_locked() else None


def _lock_seconds(lockouts: int) -> int:
    base = int(settings.LOGIN_LOCKOUT_SECONDS)
    cap = int(getattr(settings, "LOGIN_LOCKOUT_MAX_SECONDS", 24 * 3600))
    return int(min(base * (2 ** min(lockouts, 20)), max(cap, base)))


def login_failure_record(
    *,
    username: str,
    source_ip: str,
    user_agent: str = "",
    action: str = SecurityAction.LOGIN_FAILURE,
) -> LoginThrottle:
    """Count a failed login of ``username`` from ``source_ip``; lock the pair at the limit.

    A wrong second-factor code counts the same way, recorded as ``action`` (OTP_FAILURE).
    """
    name, ip = _login_name(username), _login_ip(source_ip)
    now = timezone.now()
    window = timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)
    with transaction.atomic():
        LoginThrottle.objects.get_or_create(username=name, source_ip=ip)
        throttle = LoginThrottle.objects.select_for_update().get(username=name, source_ip=ip)
        if throttle.last_failure_at and now - throttle.last_failure_at > window:
            throttle.failures = 0
        if throttle.locked_until and now - throttle.locked_until > timedelta(days=1):
            throttle.lockouts = 0  # a day of quiet forgives earlier locks
        throttle.failures += 1
        throttle.last_failure_at = now
        user = User.objects.filter(username__iexact=name).select_related("organisation").first()
        security_event_record(
            action=action,
            target_user=user,
            username=name,
            details={"failures": throttle.failures},
            source_ip=source_ip,
            user_agent=user_agent,
        )
        if throttle.failures >= settings.LOGIN_FAILURE_LIMIT:
            seconds = _lock_seconds(throttle.lockouts)
            throttle.locked_until = now + timedelta(seconds=seconds)
            throttle.lockouts += 1
            throttle.failures = 0
            security_event_record(
                action=SecurityAction.LOGIN_LOCKOUT,
                target_user=user,
                username=name,
                details={"seconds": seconds, "lockouts": throttle.lockouts},
                source_ip=source_ip,
                user_agent=user_agent,
            )
        throttle.save()
        return throttle


def login_success_record(*, user: User, source_ip: str, user_agent: str = "") -> None:
    """Clear the failures of this username from this address and record the login."""
    LoginThrottle.objects.filter(
        username=_login_name(user.username), source_ip=_login_ip(source_ip)
    ).delete()
    security_event_record(
        action=SecurityAction.LOGIN_SUCCESS,
        actor=user,
        target_user=user,
        source_ip=source_ip,
        user_agent=user_agent,
    )


def logout_record(*, user: User, source_ip: str, user_agent: str = "") -> None:
    """Record a logout."""
    security_event_record(
        action=SecurityAction.LOGOUT,
        actor=user,
        target_user=user,
        source_ip=source_ip,
        user_agent=user_agent,
    )


@transaction.atomic
def user_unlock(*, user: User, actor: User, source_ip: str = "", user_agent: str = "") -> User:
    """Lift every lockout of a user's username, from all addresses (operator action)."""
    permissions.require(
        actor, "accounts.user_unlock", user, message=_("只有运营管理员可以解锁账户")
    )
    cleared = LoginThrottle.objects.filter(username=_login_name(user.username)).delete()[0]
    security_event_record(
        action=SecurityAction.USER_UNLOCK,
        actor=actor,
        target_user=user,
        details={"cleared": cleared},
        source_ip=source_ip,
        user_agent=user_agent,
    )
    return user
