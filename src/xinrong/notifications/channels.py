"""Delivery channels beyond the in-app inbox (the seam for e-mail and SMS).

The in-app inbox is the row itself. Other channels are callables taking the notifications just
stored; ``notification_send`` calls :func:`deliver` after its transaction commits. None is
registered yet: an e-mail or SMS adapter (e.g. a government SMS gateway) is added by appending
to ``CHANNELS`` from its own module, and must not raise for one recipient's failure.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from xinrong.notifications.models import Notification

Channel = Callable[[Sequence[Notification]], None]

CHANNELS: list[Channel] = []  # in-app only for now

logger = logging.getLogger(__name__)


def deliver(notifications: Sequence[Notification]) -> None:
    """Hand stored notifications to every external channel; a failing channel is logged."""
    for channel in CHANNELS:
        try:
            channel(notifications)
        except Exception:  # one broken gateway must not lose the in-app message
            logger.exception("notification channel %r failed", channel)
