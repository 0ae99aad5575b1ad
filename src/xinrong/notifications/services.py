"""Writes of the inbox: send (bulk), mark read, mark all read."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from xinrong.common.errors import ApplicationError, NotFoundError
from xinrong.notifications import channels
from xinrong.notifications.models import Notification

TITLE_MAX = 200
BODY_MAX = 4000
LINK_MAX = 500


def _recipient_ids(recipients: Iterable[Any]) -> list[int]:
    """Accept users or user ids; keep each recipient once, in order."""
    seen: dict[int, None] = {}
    for r in recipients:
        pk = r if isinstance(r, int) else getattr(r, "pk", None)
        if pk is None:
            raise ValueError(f"not a user or user id: {r!r}")
        seen.setdefault(int(pk), None)
    return list(seen)


def _check_link(link: str) -> str:
    """Allow only links inside the platform (a path), never another host or a script URL."""
    link = link.strip()
    if not link:
        return ""
    if (
        len(link) > LINK_MAX
        or not link.startswith("/")
        or link.startswith("//")
        or not url_has_allowed_host_and_scheme(link, allowed_hosts=None)
    ):
        raise ApplicationError(
            "invalid_link", _("通知链接须为本平台内的路径（以 / 开头）"), {"field": "link"}
        )
    return link


def _check_message(kind: str, title: str, link: str) -> tuple[str, str]:
    """Refuse an empty title or kind and a link outside the platform; return (title, link)."""
    title = title.strip()
    if not title:
        raise ApplicationError("invalid_title", _("通知标题不能为空"), {"field": "title"})
    if not kind.strip():
        raise ApplicationError("invalid_kind", _("通知类型不能为空"), {"field": "kind"})
    return title, _check_link(link)


@transaction.atomic
def notification_send(
    *,
    recipients: Iterable[Any],
    kind: str,
    title: str,
    body: str = "",
    link: str = "",
    organisation_id: int | None = None,
) -> list[Notification]:
    """Store one notification per recipient (one INSERT) and hand them to the other channels.

    ``recipients`` are users or user ids; duplicates are sent once. Returns the stored rows.
    """
    ids = _recipient_ids(recipients)
    title, link = _check_message(kind, title, link)
    if not ids:
        return []
    now = timezone.now()
    rows = Notification.objects.bulk_create(
        [
            Notification(
                recipient_id=pk,
                organisation_id=organisation_id,
                kind=kind.strip()[:64],
                title=title[:TITLE_MAX],
                body=body.strip()[:BODY_MAX],
                link=link,
                created_at=now,
            )
            for pk in ids
        ]
    )
    transaction.on_commit(lambda: channels.deliver(rows))
    return rows


def notification_read(*, notification: Notification, user: AbstractBaseUser) -> Notification:
    """Mark one of the user's notifications as read (reading twice keeps the first time)."""
    if notification.recipient_id != user.pk:
        raise NotFoundError("notification_not_found", _("通知不存在"), {"field": "notification"})
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )
    return notification


def notification_read_all(*, user: AbstractBaseUser) -> int:
    """Mark all the user's unread notifications as read; return how many."""
    return Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def notify_on_commit(
    *,
    recipients: Iterable[Any],
    kind: str,
    title: str,
    body: str = "",
    link: str = "",
    organisation_id: int | None = None,
) -> None:
    """Send a notification once the current transaction commits (at once outside one).

    The one notify-after-commit every app uses for events that are not transitions of a workflow
    (the workflow kernel sends its notices through it too): a rolled-back change tells nobody.
    Recipients are read when the notice is queued, so a later change to memberships does not
    reroute it.
    """
    ids = _recipient_ids(recipients)
    _check_message(kind, title, link)  # refused now, not after the caller's commit
    if not ids:
        return
    transaction.on_commit(
        lambda: notification_send(
            recipients=ids,
            kind=kind,
            title=title,
            body=body,
            link=link,
            organisation_id=organisation_id,
        )
    )
