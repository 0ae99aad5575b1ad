"""Delivery channels beyond the in-app inbox: e-mail and SMS, chosen by settings.

The in-app inbox is the row itself. ``notification_send`` calls :func:`deliver` after its
transaction commits; ``deliver`` hands the stored rows to each channel named in
``XINRONG_NOTIFICATION_CHANNELS`` (``"email"``, ``"sms"`` or a class path of a callable taking
the rows) and then to any channel code appended to :data:`CHANNELS`. A channel that fails is
logged and skipped: the in-app message is already stored and stays.

Who receives what: the e-mail channel writes to active users with an e-mail address, the SMS
channel to active users whose phone (stored encrypted, read through the model) is a mainland
mobile number, and only for the kinds in ``XINRONG_SMS_KINDS`` when that list is set (a prefix
``credit.`` matches ``credit.dispute_corrected``). Users without an address are skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from xinrong.notifications import sms
from xinrong.notifications.models import Notification

Channel = Callable[[Sequence[Notification]], None]

CHANNELS: list[Channel] = []  # channels registered in code, after those named in settings

logger = logging.getLogger(__name__)

SITE_NAME = "信融"


def _users(notifications: Sequence[Notification]) -> dict[int, Any]:
    """Return the active recipients of ``notifications`` by id (one query)."""
    ids = {n.recipient_id for n in notifications}
    return {u.pk: u for u in get_user_model().objects.filter(pk__in=ids, is_active=True)}


def _absolute(link: str) -> str:
    """Return a platform path as a full address when XINRONG_PUBLIC_URL is known."""
    root = str(getattr(settings, "XINRONG_PUBLIC_URL", "") or "").rstrip("/")
    return f"{root}{link}" if link and root else link


def _kind_wanted(kind: str, prefixes: Iterable[str]) -> bool:
    """Return True when no prefixes are set or ``kind`` starts with one of them."""
    wanted = [p for p in prefixes if p]
    return not wanted or any(kind == p or kind.startswith(p) for p in wanted)


class EmailChannel:
    """Send each notification as an e-mail through Django's e-mail framework (EMAIL_BACKEND)."""

    name = "email"

    def messages(self, notifications: Sequence[Notification]) -> list[mail.EmailMessage]:
        """Build one message per notification whose recipient has an e-mail address."""
        users = _users(notifications)
        out = []
        for n in notifications:
            user = users.get(n.recipient_id)
            address = (getattr(user, "email", "") or "").strip()
            if not address:
                continue
            lines = [n.body] if n.body else []
            if n.link:
                lines.append(_("查看详情：%(url)s") % {"url": _absolute(n.link)})
            lines.append(_("——本邮件由%(site)s平台自动发送，请勿直接回复。") % {"site": SITE_NAME})
            out.append(
                mail.EmailMessage(
                    subject=f"【{SITE_NAME}】{n.title}",
                    body="\n\n".join(lines),
                    to=[address],
                    headers={"X-Xinrong-Kind": n.kind},
                )
            )
        return out

    def __call__(self, notifications: Sequence[Notification]) -> None:
        messages = self.messages(notifications)
        if not messages:
            return
        with mail.get_connection() as connection:
            for message in messages:  # one refused address must not stop the others
                try:
                    connection.send_messages([message])
                except Exception:
                    logger.exception("e-mail notification to user failed (%s)", message.subject)


class SmsChannel:
    """Send each notification as short messages through the SMS backend (XINRONG_SMS_BACKEND)."""

    name = "sms"

    def messages(self, notifications: Sequence[Notification]) -> list[sms.SmsMessage]:
        """Build the segments for recipients with a mobile number, for the kinds configured."""
        kinds = getattr(settings, "XINRONG_SMS_KINDS", [])
        chosen = [n for n in notifications if _kind_wanted(n.kind, kinds)]
        if not chosen:
            return []
        users = _users(chosen)
        max_segments = int(getattr(settings, "XINRONG_SMS_MAX_SEGMENTS", 3))
        out = []
        for n in chosen:
            phone = sms.mobile_normalise(getattr(users.get(n.recipient_id), "phone", ""))
            if not phone:
                continue
            text = f"【{SITE_NAME}】{n.title}" + (f"：{n.body}" if n.body else "")
            if n.link and getattr(settings, "XINRONG_PUBLIC_URL", ""):
                text += " " + _absolute(n.link)
            for segment in sms.sms_segments(text, max_segments=max_segments):
                out.append(sms.SmsMessage(phone=phone, text=segment))
        return out

    def __call__(self, notifications: Sequence[Notification]) -> None:
        messages = self.messages(notifications)
        if not messages:
            return
        backend = sms.sms_backend()
        by_phone: dict[str, list[sms.SmsMessage]] = {}
        for m in messages:
            by_phone.setdefault(m.phone, []).append(m)
        for phone, own in by_phone.items():  # one refused number must not stop the others
            try:
                backend.send_messages(own)
            except Exception:
                logger.exception(
                    "SMS notification to %s failed", sms.SmsMessage(phone, "").phone_masked
                )
            else:
                logger.info(
                    "SMS notification sent to %s (%d segments)", own[0].phone_masked, len(own)
                )


BUILTIN: dict[str, Callable[[], Channel]] = {"email": EmailChannel, "sms": SmsChannel}


@cache
def _channel(name: str) -> Channel:
    """Return the channel a settings entry names (built once per name)."""
    factory = BUILTIN.get(name) or import_string(name)
    channel: Channel = factory()
    return channel


def channels_configured() -> list[Channel]:
    """Return the channels named in XINRONG_NOTIFICATION_CHANNELS, then those in CHANNELS."""
    names = getattr(settings, "XINRONG_NOTIFICATION_CHANNELS", [])
    return [*(_channel(name) for name in names), *CHANNELS]


def deliver(notifications: Sequence[Notification]) -> None:
    """Hand stored notifications to every external channel; a failing channel is logged."""
    if not notifications:
        return
    try:
        channels = channels_configured()
    except Exception:  # a mistyped channel path must not lose the in-app message either
        logger.exception("notification channels could not be loaded")
        channels = list(CHANNELS)
    for channel in channels:
        try:
            channel(notifications)
        except Exception:  # one broken gateway must not lose the in-app message
            logger.exception("notification channel %r failed", channel)
