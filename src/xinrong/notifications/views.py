"""The inbox page: list, open (mark read and follow the link), mark all read."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinrong.common.pagination import paginate
from xinrong.notifications import selectors, services

PAGE_SIZE = 20


def _user(request: HttpRequest) -> AbstractBaseUser:
    """Return the logged-in user of a view guarded by ``login_required``."""
    user = request.user
    if not isinstance(user, AbstractBaseUser):
        raise PermissionDenied
    return user


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """List the user's notifications, unread first on request (``?unread=1``)."""
    unread_only = request.GET.get("unread") == "1"
    qs = selectors.notification_list(user=request.user, unread_only=unread_only)
    page = paginate(request, qs, per_page=PAGE_SIZE)
    return render(
        request,
        "notifications/inbox.html",
        {
            "page": page,
            "unread_only": unread_only,
            "unread": selectors.notification_unread_count(user=request.user),
        },
    )


@login_required
@require_POST
def open_notification(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one notification read, then follow its link (or return to the inbox)."""
    note = selectors.notification_get(user=request.user, pk=pk)
    services.notification_read(notification=note, user=_user(request))
    follow = request.POST.get("follow") == "1" and note.link
    if follow and url_has_allowed_host_and_scheme(note.link, allowed_hosts={request.get_host()}):
        return redirect(note.link)
    return redirect("notifications:inbox")


@login_required
@require_POST
def read_all(request: HttpRequest) -> HttpResponse:
    """Mark every unread notification of the user as read."""
    n = services.notification_read_all(user=_user(request))
    messages.success(request, _("已将 %(n)d 条通知标为已读") % {"n": n})
    return redirect("notifications:inbox")
