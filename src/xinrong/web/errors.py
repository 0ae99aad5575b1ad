"""The platform's error pages (400, 403, 404, 414, 500 and a failed CSRF check), in its layout.

Every error a page can end in is drawn by :func:`render_error` with ``web/error.html``: what went
wrong in plain Chinese, and the way forward (back to the list the page belongs to, the home page,
or, for an institution refused an enterprise's data, how that enterprise's authorisation is
obtained). Django's handlers (``handler400`` … in ``config/urls.py``), ``CSRF_FAILURE_VIEW``, the
service-error middleware (``xinrong.common.http.error_page``) and the query-string limit
(:class:`xinrong.web.middleware.QueryStringLimitMiddleware`) all come here.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

logger = logging.getLogger("xinrong.errors")

# The pages of one enterprise an institution sees only with the enterprise's authorisation.
_ENTITY_PAGES = {
    "credit:portrait",
    "credit:graph",
    "credit:graph_data",
    "credit:archive",
    "credit:archive_export",
    "credit:report_new",
}


@dataclass(frozen=True)
class Action:
    """A way forward offered on an error page."""

    label: str
    url: str
    primary: bool = False


def _titles() -> dict[int, tuple[str, str]]:
    return {
        400: (_("请求有误"), _("请求的地址或提交的内容不符合要求，平台无法处理。")),
        403: (_("没有权限"), _("您的账号没有访问此页面或执行此操作的权限。")),
        404: (_("页面不存在"), _("您要找的页面或记录不存在，或已被删除，或不在您可查看的范围内。")),
        409: (_("操作与当前状态冲突"), _("该记录的状态已经变化，请刷新后重试。")),
        414: (_("查询条件过长"), _("地址中的查询条件过长，平台无法处理。")),
        422: (_("填写的内容有误"), _("提交的内容未通过校验。")),
        500: (
            _("系统出错了"),
            _("很抱歉，平台在处理您的请求时出错。我们已记录此问题，请稍后重试。"),
        ),
    }


def _section_link(request: HttpRequest) -> Any:
    """The menu link whose address is the longest prefix of the path (the list it belongs to)."""
    from xinrong.web.navigation import menu_for

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    for section in menu_for(user, request.path):
        for link in section.links:
            if link.active and link.url not in ("/", request.path):
                return link
    return None


def _entity_uscc(request: HttpRequest) -> str:
    """The USCC of the enterprise page the path names, or ""."""
    try:
        match = resolve(request.path)
    except Resolver404:
        return ""
    if match.view_name in _ENTITY_PAGES:
        return str(match.kwargs.get("uscc", ""))
    return ""


def _authorisation_help(request: HttpRequest, code: str) -> tuple[str, list[Action]] | None:
    """For an institution refused an enterprise's data: how its authorisation is obtained."""
    from xinrong.accounts.choices import OrgGroup
    from xinrong.accounts.permissions import can

    user = getattr(request, "user", None)
    uscc = _entity_uscc(request)
    if (
        user is None
        or not user.is_authenticated
        or getattr(user, "group", None) != OrgGroup.INSTITUTION
        or not (uscc or code == "authorisation_required")
    ):
        return None
    text = _(
        "查看企业的非公开信用信息，须取得该企业的有效查询授权。企业可在申请贵机构的贷款产品、"
        "或贵机构承接其融资需求后，在“查询授权”中向贵机构授权（可选择授权范围和有效期）。"
        "取得授权前，您可以查看该企业依法公示的信息。"
    )
    actions: list[Action] = []
    if uscc:
        actions.append(
            Action(_("查看该企业的公示信息"), reverse("credit:archive", args=[uscc]), True)
        )
    if can(user, "marketplace.demand_hall_view"):
        actions.append(Action(_("到需求大厅承接融资需求"), reverse("marketplace:demand_hall")))
    if can(user, "marketplace.applications_view"):
        actions.append(Action(_("查看贷款申请"), reverse("marketplace:applications")))
    return text, actions


def _back(request: HttpRequest) -> list[Action]:
    """Back to the list the page belongs to (when the menu has one), and to the home page."""
    actions: list[Action] = []
    link = _section_link(request)
    if link is not None:
        actions.append(Action(_("返回“%(name)s”") % {"name": link.label}, link.url, True))
    actions.append(Action(_("返回首页"), reverse("web:home"), not actions))
    return actions


def render_error(
    request: HttpRequest,
    status: int,
    message: str = "",
    *,
    code: str = "",
    actions: list[Action] | None = None,
    hint: str = "",
    reference: str = "",
) -> HttpResponse:
    """Render the error page with ``status``: title, message, hint and the ways forward."""
    title, default = _titles().get(status, _titles()[400 if status < 500 else 500])
    if actions is None:
        actions = []
        if status == 403:
            help_ = _authorisation_help(request, code)
            if help_ is not None:
                hint, actions = help_[0], help_[1]
                actions.append(Action(_("返回首页"), reverse("web:home")))
        if not actions:
            actions = _back(request)
    context = {
        "status": status,
        "title": title,
        "message": message or default,
        # the generic sentence under a specific message, unless a hint says more precisely
        "detail": default if message and message != default and not hint else "",
        "hint": hint,
        "actions": actions,
        "reference": reference,
        "code": code,
    }
    try:
        html = render_to_string("web/error.html", context, request=request)
    except Exception:  # the layout itself failed (database down …): a plain page, still Chinese
        if status < 500:
            raise
        logger.exception("error page could not be drawn")
        html = format_html(
            '<!DOCTYPE html><html lang="zh-hans"><head><meta charset="utf-8"><title>{}</title>'
            '</head><body><h1>{}</h1><p>{}</p><p>{} {}</p><p><a href="/">{}</a></p>'
            "</body></html>",
            title,
            title,
            default,
            _("错误编号"),
            reference,
            _("返回首页"),
        )
    return HttpResponse(html, status=status)


def _exception_message(exception: Exception | None) -> str:
    """The Chinese message a view raised with (``PermissionDenied(_("…"))``), if any."""
    if exception is None or not exception.args:
        return ""
    text = str(exception.args[0])
    # Django's own English messages (a resolver's path dict, "No X matches the given query.")
    # stay hidden: the page says it in Chinese
    return text if any("\u4e00" <= ch <= "\u9fff" for ch in text) else ""


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler400``: a malformed request (a bad host, a broken multipart body …)."""
    return render_error(request, 400, _exception_message(exception))


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler403``: ``PermissionDenied`` raised by a view, with its message when Chinese."""
    return render_error(
        request,
        403,
        _exception_message(exception),
        code=str(getattr(exception, "code", "") or ""),
    )


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler404``: no such page or record."""
    return render_error(request, 404, _exception_message(exception))


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: an apology and a reference to quote to the operator."""
    reference = uuid.uuid4().hex[:10].upper()
    logger.error("错误编号 %s: %s %s", reference, request.method, request.path)
    return render_error(
        request,
        500,
        hint=_("如问题持续出现，请联系平台运营方并提供错误编号。"),
        reference=reference,
        actions=[
            Action(_("重新打开此页"), request.path, True),
            Action(_("返回首页"), "/"),
        ],
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: the form's security check failed (an old page, cookies off)."""
    return render_error(
        request,
        403,
        _("表单安全校验未通过，提交的内容没有保存。"),
        code="csrf_failed",
        hint=_(
            "通常是页面打开太久、在别的窗口退出或重新登录过，或浏览器禁用了 Cookie。"
            "请返回上一页，刷新后重新填写提交。"
        ),
        actions=[
            Action(_("刷新此页"), request.get_full_path(), True),
            Action(_("返回首页"), "/"),
        ],
    )
