"""Navigation by role and the language choices for the base layout."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from xinrong.accounts.middleware import second_factor_owed
from xinrong.notifications.selectors import notification_unread_count
from xinrong.web.navigation import menu_for

# What the language selector shows for each language, in that language, whatever the page's
# language is (a reader of the other language must find their own).
LANGUAGE_LABELS = {"zh-hans": "中文", "en": "English"}


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Return the user's menu (``nav_menu``), its links flat (``nav_items``) and unread count."""
    languages = [(code, LANGUAGE_LABELS.get(code, code)) for code, _name in settings.LANGUAGES]
    user = getattr(request, "user", None)
    # no menu before the login is complete (a second factor still owed): its links lead nowhere
    if user is None or not user.is_authenticated or second_factor_owed(request):
        return {
            "nav_menu": [],
            "nav_items": [],
            "unread_notifications": 0,
            "language_choices": languages,
        }
    sections = menu_for(user, request.path)
    return {
        "nav_menu": sections,
        # (label, url, icon) of every link, in order (tests and sweeps walk the menu's pages)
        "nav_items": [(link.label, link.url, link.icon) for s in sections for link in s.links],
        "unread_notifications": notification_unread_count(user=user),
        "language_choices": languages,
    }
