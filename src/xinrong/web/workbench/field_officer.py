"""The field officer's (网格员) workbench: record a visit, its week, files waiting to be built."""

from __future__ import annotations

from typing import Any

from xinrong.accounts.choices import Role
from xinrong.accounts.models import User
from xinrong.insight.selectors.grid import officer_home
from xinrong.notifications.selectors import notification_list


def is_field_officer_only(user: User) -> bool:
    """The user's only role is 网格员 (a bank's or a community's field officer)."""
    return bool(user.role_codes) and set(user.role_codes) <= {Role.FIELD_OFFICER}


def field_officer(user: User) -> dict[str, Any]:
    """The officer's figures and its visits waiting for a file."""
    unread = notification_list(user=user, unread_only=True)
    return {
        **officer_home(user=user),
        "notifications": {"unread": unread.count(), "rows": list(unread[:5])},
    }
