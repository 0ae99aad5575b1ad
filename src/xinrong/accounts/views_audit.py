"""The auditor's page: browse, filter and export the audit trail (``/audit/``)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from xinrong.accounts.auth import request_user
from xinrong.accounts.models import SecurityAction
from xinrong.accounts.permissions import require
from xinrong.audit.choices import AuditCategory
from xinrong.audit.models import AuditEntry
from xinrong.audit.presenters import action_label
from xinrong.audit.selectors import audit_entry_list
from xinrong.common import listing

SECURITY_LABELS = dict(SecurityAction.choices)


def _filters() -> list[listing.Filter]:
    return [
        listing.DateRangeFilter("created", _("日期"), "created_at"),
        listing.ChoiceFilter("category", _("类别"), AuditCategory.choices),
        listing.SearchFilter(
            "actor", _("操作人"), ["actor_username__icontains"], placeholder=_("账号")
        ),
        listing.SearchFilter(
            "uscc", _("统一社会信用代码"), ["enterprise_uscc__iexact"], placeholder=_("18 位代码")
        ),
        listing.SearchFilter("request", _("请求编号"), ["request_id__iexact"]),
        listing.SearchFilter(
            "action",
            _("操作"),
            ["details__label__icontains", "action__icontains"],
            placeholder=_("如：登录失败、审核同意"),
        ),
    ]


def _entries(request: HttpRequest) -> Any:
    user = request_user(request)
    require(user, "audit.view_log", message=_("您无权查看审计日志"))
    return audit_entry_list(user=user)


def _label(entry: AuditEntry) -> str:
    return action_label(entry, SECURITY_LABELS)


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    """Every audited event the auditor may read: filtered, paged and exportable."""
    lst = listing.list_build(
        request,
        _entries(request),
        _filters(),
        noun=_("审计日志条目"),
        export_url=reverse("audit_log_export"),
    )
    entries = list(lst.page.object_list)
    for entry in entries:
        entry.action_display = _label(entry)
    return render(
        request,
        "audit/log.html",
        {"listing": lst, "page": lst.page, "entries": entries},
    )


@login_required
def audit_log_export(request: HttpRequest) -> HttpResponseBase:
    """The filtered audit trail as Excel (the download is itself an audit entry)."""
    entries = _entries(request)
    entries = listing.list_filter(request, entries, _filters()).apply(entries)
    columns = [
        listing.Column(_("序号"), listing.attr("seq"), 8),
        listing.Column(_("时间"), listing.attr("created_at"), 18),
        listing.Column(_("类别"), listing.display("category"), 12),
        listing.Column(_("操作"), _label, 20),
        listing.Column(_("操作人"), listing.attr("actor_username"), 14),
        listing.Column(_("对象"), listing.attr("target_label"), 30),
        listing.Column(_("统一社会信用代码"), listing.attr("enterprise_uscc"), 20),
        listing.Column(_("来源地址"), listing.attr("source_ip"), 16),
        listing.Column(_("请求编号"), listing.attr("request_id"), 34),
        listing.Column(_("摘要"), listing.attr("hash"), 66),
    ]
    return listing.xlsx_export(
        listing.query_rows(entries),
        columns,
        title=_("审计日志"),
        filename=_("审计日志"),
        fallback="audit-log",
    )
