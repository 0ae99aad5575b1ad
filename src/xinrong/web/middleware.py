"""Request limits answered with the platform's own page instead of a server's bare error."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from xinrong.web.errors import Action, render_error


class QueryStringLimitMiddleware:
    """Refuse a query string longer than ``XINRONG_MAX_QUERY_STRING`` characters with a 414 page.

    gunicorn is configured to pass long request lines through (``xinrong serve``), so an
    over-long search reaches Django and gets the Chinese page in the layout, with a link to the
    same page without its conditions, instead of gunicorn's "Request Line is too large".
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = int(getattr(settings, "XINRONG_MAX_QUERY_STRING", 4096))
        query = request.META.get("QUERY_STRING", "")
        if limit and len(query) > limit:
            if request.path.startswith("/api/"):
                from django.http import JsonResponse

                return JsonResponse(
                    {
                        "code": "query_too_long",
                        "message": _("查询条件过长（不超过 %(n)s 个字符）") % {"n": limit},
                        "extra": {"limit": limit, "length": len(query)},
                    },
                    status=414,
                    json_dumps_params={"ensure_ascii": False},
                )
            return render_error(
                request,
                414,
                _("查询条件共 %(len)s 个字符，超过了 %(n)s 个字符的上限。")
                % {"len": len(query), "n": limit},
                hint=_("请减少或缩短搜索条件后重新查询。"),
                actions=[
                    Action(_("清除查询条件"), request.path, True),
                    Action(_("返回首页"), "/"),
                ],
            )
        return self.get_response(request)
