"""Reads of the inbox: a user sees only its own notifications."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from xinrong.common.errors import NotFoundError
from xinrong.notifications.models import Notification


def notification_list(
    *, user: AbstractBaseUser | AnonymousUser, unread_only: bool = False
) -> QuerySet[Notification]:
    """Return the user's notifications, newest first."""
    if not user.is_authenticated:
        return Notification.objects.none()
    qs = Notification.objects.filter(recipient_id=user.pk)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs


def notification_unread_count(*, user: AbstractBaseUser | AnonymousUser) -> int:
    """Return how many of the user's notifications are unread (the navbar badge)."""
    return notification_list(user=user, unread_only=True).count()


def notification_get(*, user: AbstractBaseUser | AnonymousUser, pk: int) -> Notification:
    """Return one of the user's notifications or raise NotFoundError."""
    found = notification_list(user=user).filter(pk=pk).first()
    if found is None:
        raise NotFoundError("notification_not_found", _("通知不存在"), {"field": "notification"})
    return found
