"""Pages of the archive: the archive, consents, the query log, exports and the graph."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinrong.accounts.auth import request_user
from xinrong.accounts.models import User
from xinrong.common import listing
from xinrong.common.errors import SERVICE_ERRORS, ApplicationError, error_payload
from xinrong.common.forms import add_service_error
from xinrong.credit import presenters
from xinrong.credit.choices import (
    GRAPH_CONTENT,
    GRAPH_CONTENT_LABEL,
    GRAPH_HOPS,
    QUERY_LOG_ITEMS,
    Channel,
    EdgeKind,
    NodeKind,
    Purpose,
)
from xinrong.credit.fact_display import display_values, readable_amounts
from xinrong.credit.forms import AuthorisationForm
from xinrong.credit.models import Authorisation
from xinrong.credit.publication import PUBLICATION_PERIODS, REPAIRABLE_CATEGORY, repair_earliest_on
from xinrong.credit.selectors import archive as archive_selectors
from xinrong.credit.services import archive as archive_services
from xinrong.credit.workbooks import archive_workbook
from xinrong.datahub.categories import CATEGORIES
from xinrong.datahub.crossval import DETAIL_LABELS, RULES_BY_ID, SEVERITY_LABELS
from xinrong.datahub.models import Fact
from xinrong.datahub.selectors import conflict_list
from xinrong.enterprises import selectors as entity_selectors
from xinrong.enterprises.models import MarketEntity


def own_entity(user: User) -> MarketEntity:
    entity: MarketEntity | None = (
        getattr(user.organisation, "market_entity", None) if user.organisation else None
    )
    if entity is None:
        raise PermissionDenied(_("您的账户没有关联的市场主体"))
    return entity


def _archive_read(request: HttpRequest, uscc: str, channel: str) -> archive_selectors.Archive:
    """Read (and, when non-public, log) the archive of ``uscc`` for the requesting user."""
    user = request_user(request)
    entity = entity_selectors.market_entity_get(user=user, uscc=uscc)
    return archive_selectors.archive_read(user=user, entity=entity, channel=channel)


def _archive_row(data: archive_selectors.Archive, fact: Fact, today: dt.date) -> dict[str, Any]:
    """One archive row: its values, dispute and repair marks, and the owner's actions."""
    repaired = fact.pk in data.repaired
    pending = fact.pk in data.repair_pending
    repair_from = None
    if (
        data.own
        and fact.category == REPAIRABLE_CATEGORY
        and fact.grade in PUBLICATION_PERIODS
        and fact.occurred_on is not None
        and not repaired
        and not pending
    ):
        repair_from = repair_earliest_on(severity=fact.grade, decided_on=fact.occurred_on)
    return {
        "fact": fact,
        "values": readable_amounts(fact.category, display_values(fact)),
        "disputed": fact.pk in data.disputed,
        "dispute_id": data.open_disputes.get(fact.pk),
        "repaired": repaired,
        "repair_pending": pending,
        "can_dispute": data.own and fact.pk not in data.disputed,
        "repair_from": repair_from,
        "can_repair": repair_from is not None and repair_from <= today,
    }


@login_required
def archive(request: HttpRequest, uscc: str) -> HttpResponse:
    """Show the credit archive the user may see (the read is logged when non-public)."""
    data = _archive_read(request, uscc, Channel.PAGE)
    entity = data.entity
    today = timezone.localdate()
    sections = [
        {
            "code": c,
            "name": CATEGORIES[c].name,
            "facts": facts,
            "rows": [_archive_row(data, fact, today) for fact in facts],
            "fields": [f for f in CATEGORIES[c].fields],
        }
        for c, facts in data.facts.items()
    ]
    conflicts = []
    if data.own:  # details quote non-public source data: the enterprise sees its own
        conflicts = [
            {
                "rule": _(RULES_BY_ID[c.rule].description) if c.rule in RULES_BY_ID else c.rule,
                "severity": SEVERITY_LABELS.get(c.severity, c.severity),
                "detail": {DETAIL_LABELS.get(k, k): v for k, v in c.detail.items()},
                "found": c.created_at,
            }
            for c in conflict_list(entity=entity)
        ]
    return render(
        request,
        "credit/archive.html",
        {
            "entity": entity,
            "archive": data,
            "sections": sections,
            "hidden": [CATEGORIES[c].name for c in data.hidden],
            "conflicts": conflicts,
        },
    )


@login_required
def authorisations(request: HttpRequest) -> HttpResponse:
    """The enterprise grants, lists and revokes authorisations."""
    user = request_user(request)
    entity = own_entity(user)
    form = AuthorisationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            archive_services.authorisation_grant(
                entity=entity,
                actor=user,
                institution=d["institution"],
                scope=d["scope"],
                categories=d["categories"],
                purpose=d["purpose"],
                purpose_note=d["purpose_note"],
                expires_on=d["expires_on"],
            )
        except SERVICE_ERRORS as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("已授权“%(o)s”") % {"o": d["institution"].name})
            return redirect("credit:authorisations")
    try:
        rows = list(archive_selectors.authorisation_list(user=user, entity=entity))
    except ApplicationError as exc:
        raise PermissionDenied(exc.message) from exc
    return render(
        request, "credit/authorisations.html", {"form": form, "rows": rows, "entity": entity}
    )


@login_required
@require_POST
def authorisation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Withdraw an authorisation once the enterprise has confirmed it (``confirm=yes``); the
    first press (or a form without the confirmation) shows what revoking means and asks."""
    user = request_user(request)
    entity = own_entity(user)
    auth = get_object_or_404(
        Authorisation.objects.select_related("institution"), pk=pk, entity=entity
    )
    if request.POST.get("confirm") != "yes":
        return render(request, "credit/revoke_confirm.html", {"a": auth, "entity": entity})
    try:
        archive_services.authorisation_revoke(authorisation=auth, actor=user)
    except ApplicationError as exc:
        raise PermissionDenied(exc.message) from exc
    messages.success(request, _("授权已撤销"))
    return redirect("credit:authorisations")


def _query_log_filters() -> list[listing.Filter]:
    return [
        listing.SearchFilter(
            "q",
            _("机构或查询人"),
            ["organisation__name__icontains", "user__display_name__icontains"],
            placeholder=_("机构名称或查询人"),
        ),
        listing.ChoiceFilter("purpose", _("查询用途"), Purpose.choices),
        listing.ChoiceFilter("channel", _("渠道"), Channel.choices),
        listing.DateRangeFilter("accessed", _("查询日期"), "accessed_at"),
    ]


def _query_logs(request: HttpRequest) -> tuple[Any, Any]:
    user = request_user(request)
    entity = own_entity(user)
    try:
        logs = archive_selectors.query_log_list(user=user, entity=entity)
    except ApplicationError as exc:
        raise PermissionDenied(exc.message) from exc
    return logs, entity


def _query_log_categories() -> dict[str, str]:
    return {
        **{c: _(s.name) for c, s in CATEGORIES.items()},
        GRAPH_CONTENT: str(GRAPH_CONTENT_LABEL),
        **{k: str(v) for k, v in QUERY_LOG_ITEMS.items()},
    }


@login_required
def query_log(request: HttpRequest) -> HttpResponse:
    """Who read the enterprise's non-public information: filtered, paged and exportable."""
    logs, entity = _query_logs(request)
    lst = listing.list_build(
        request,
        logs,
        _query_log_filters(),
        noun=_("查询记录"),
        export_url=reverse("credit:query_log_export"),
    )
    return render(
        request,
        "credit/query_log.html",
        {
            "listing": lst,
            "page": lst.page,
            "logs": lst.page.object_list,
            "entity": entity,
            "categories": _query_log_categories(),
        },
    )


@login_required
def query_log_export(request: HttpRequest) -> HttpResponseBase:
    """The enterprise's query log as Excel (the same filters as the page)."""
    logs, _entity = _query_logs(request)
    logs = listing.list_filter(request, logs, _query_log_filters()).apply(logs)
    names = _query_log_categories()
    columns = [
        listing.Column(_("查询时间"), listing.attr("accessed_at"), 18),
        listing.Column(_("机构"), listing.attr("organisation.name"), 24),
        listing.Column(_("查询人"), lambda log: str(log.user) if log.user_id else "", 14),
        listing.Column(_("查询用途"), listing.display("purpose"), 14),
        listing.Column(_("渠道"), listing.display("channel")),
        listing.Column(
            _("查询内容"), lambda log: "、".join(names.get(c, c) for c in log.categories or []), 40
        ),
    ]
    return listing.xlsx_export(
        listing.query_rows(logs),
        columns,
        title=_("查询记录"),
        filename=_("查询记录"),
        fallback="query-log",
    )


@login_required
def archive_export(request: HttpRequest, uscc: str) -> HttpResponseBase:
    """Download the readable archive as Excel; a non-public export is logged like any read."""
    data = _archive_read(request, uscc, Channel.EXPORT)
    return archive_workbook(data)


DEFAULT_HOPS = 2


def _hops(raw: str | None) -> int:
    """Parse the ``hops`` query parameter; the selector checks its range."""
    try:
        return int(raw) if raw not in (None, "") else DEFAULT_HOPS
    except ValueError:
        raise ApplicationError(
            "invalid_hops",
            _("字段“hops”（展开层数）只能是 1、2 或 3，收到的是“%(value)s”")
            % {"value": (raw or "")[:20]},
            {"field": "hops"},
            status=422,
        ) from None


@login_required
def graph(request: HttpRequest, uscc: str) -> HttpResponse:
    """Show the relationship graph page; its data comes from ``graph_data`` (read and logged)."""
    user = request_user(request)
    entity = entity_selectors.market_entity_get(user=user, uscc=uscc)
    _categories, auth, own = archive_selectors.graph_access(user=user, entity=entity)
    raw = request.GET.get("hops", "")
    hops = int(raw) if raw.isdigit() and int(raw) in GRAPH_HOPS else DEFAULT_HOPS
    return render(
        request,
        "credit/graph.html",
        {
            "entity": entity,
            "authorisation": auth,
            "own": own,
            "hops": hops,
            "hop_choices": GRAPH_HOPS,
            "labels": {
                "nodes": {k.value: str(k.label) for k in NodeKind},
                "edges": {k.value: str(k.label) for k in EdgeKind},
                "text": {
                    "summary": _("节点 {nodes} 个，关系 {edges} 条"),
                    "truncated": _("超过 {max} 个节点，已截断，请减少层数"),
                    "loading": _("正在加载…"),
                    "failed": _("图谱加载失败，请稍后重试"),
                    "center": _("本主体"),
                    "hop": _("第 {n} 层"),
                    "outside": _("超出当前层数"),
                    "amount": _("圈内担保金额合计 {amount}"),
                },
            },
        },
    )


@login_required
def graph_data(request: HttpRequest, uscc: str) -> JsonResponse:
    """Return the graph as JSON for the page; a non-public read is logged like the archive."""
    user = request_user(request)
    try:
        hops = _hops(request.GET.get("hops"))
        entity = entity_selectors.market_entity_get(user=user, uscc=uscc)
        data = archive_selectors.relationship_graph(
            user=user, entity=entity, hops=hops, channel=Channel.PAGE
        )
    except SERVICE_ERRORS as exc:
        status, body = error_payload(exc)
        return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
    return JsonResponse(presenters.graph_out(data), json_dumps_params={"ensure_ascii": False})
