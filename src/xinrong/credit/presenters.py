"""Turn credit reads into display dicts shared by the pages, their JSON and the API."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from xinrong.credit.choices import EdgeKind, NodeKind, Scope
from xinrong.credit.graph.base import ENTITY, Graph, NodeKey
from xinrong.credit.graph.ego import yuan_label
from xinrong.credit.selectors.archive import Archive
from xinrong.datahub.categories import CATEGORIES
from xinrong.enterprises.choices import RegistrationStatus

# The fact category each fact-based early-warning rule quotes in its alert detail.
ALERT_CATEGORIES = {
    "new_enforcement": "judicial",
    "dishonest_listing": "judicial",
    "tax_grade_d": "tax",
    "utility_arrears": "utility",
    "social_security_arrears": "social_security",
    "abnormal_listing": "abnormal_operation",
}
_ALERT_LABELS = {
    "from": _("原信用分"),
    "to": _("现信用分"),
    "grade_from": _("原等级"),
    "grade_to": _("现等级"),
    "defaulted": _("违约成员"),
    "circle": _("担保圈成员"),
}


def alert_detail(rule: str, detail: dict[str, Any]) -> list[tuple[str, str]]:
    """Return an alert's detail as (Chinese label, value as a reader sees it) pairs."""
    from xinrong.enterprises.models import MarketEntity

    spec = CATEGORIES.get(ALERT_CATEGORIES.get(rule, ""))
    fields = spec.by_key if spec else {}
    out = []
    for key, value in detail.items():
        if key in {"fact", "profile"}:
            continue
        if key in fields:
            f = fields[key]
            out.append((str(_(f.header)), f.display(value) or "—"))
        elif key == "defaulted":
            name = MarketEntity.objects.filter(pk=value).values_list("name", flat=True).first()
            out.append((str(_ALERT_LABELS[key]), name or "—"))
        elif key == "circle" and isinstance(value, list):
            out.append((str(_ALERT_LABELS[key]), _("%(n)d 家") % {"n": len(value)}))
        else:
            out.append((str(_ALERT_LABELS.get(key, key)), str(value)))
    return out


def archive_out(archive: Archive) -> dict[str, Any]:
    """Return the part of an archive a reader may see, for the API (ArchiveOut)."""
    auth = archive.authorisation
    return {
        "uscc": archive.entity.uscc,
        "name": archive.entity.name,
        "authorised": auth is not None,
        "scope": auth.scope if auth else Scope.PUBLIC,
        "categories": archive.categories,
        "hidden_categories": archive.hidden,
        "facts": [
            {
                "id": f.pk,
                "category": f.category,
                "source": f.source.name,
                "period": f.period,
                "occurred_on": f.occurred_on,
                "negative": f.negative,
                "disputed": f.pk in archive.disputed,
                "repaired": f.pk in archive.repaired,
                "data": f.values(),
            }
            for facts in archive.facts.values()
            for f in facts
        ],
    }


def graph_out(graph: Graph) -> dict[str, Any]:
    """Return the graph for ECharts and the API.

    Entities are named by their USCC ("e:<uscc>"); persons get ids that hold only within this
    answer ("p:1", "p:2", ...), so no internal key or personal identifier leaves the platform.
    """
    ids: dict[NodeKey, str] = {}
    people = 0
    for key, node in graph.nodes.items():
        if key[0] == ENTITY:
            ids[key] = f"e:{node.uscc}"
        else:
            people += 1
            ids[key] = f"p:{people}"
    center = graph.nodes[graph.center]
    auth = graph.authorisation
    if graph.own:
        scope = Scope.FULL
    elif auth is not None:
        scope = Scope(auth.scope)
    else:
        scope = Scope.PUBLIC
    return {
        "uscc": center.uscc,
        "name": center.label,
        "hops": graph.hops,
        "max_nodes": graph.max_nodes,
        "truncated": graph.truncated,
        "access": {
            "own": graph.own,
            "authorised": auth is not None,
            "scope": str(scope),
            "scope_label": str(scope.label),
            "expires_at": auth.expires_at if auth else None,
            "guarantees": graph.guarantees,
            "fact_categories": list(graph.fact_categories),
        },
        "nodes": [
            {
                "id": ids[key],
                "kind": str(node.kind),
                "kind_label": str(NodeKind(node.kind).label),
                "label": node.label,
                "uscc": node.uscc or None,
                "hop": node.hop,
                "center": key == graph.center,
                "status": node.status or None,
                "status_label": str(RegistrationStatus(node.status).label) if node.status else None,
                "flags": [
                    {"code": f.code, "label": f.label, "detail": f.detail} for f in node.flags
                ],
            }
            for key, node in graph.nodes.items()
        ],
        "edges": [
            {
                "source": ids[edge.source],
                "target": ids[edge.target],
                "kind": str(edge.kind),
                "kind_label": str(EdgeKind(edge.kind).label),
                "label": edge.label,
                "amount": edge.amount,
                "directed": edge.directed,
            }
            for edge in graph.edges
        ],
        "circles": [
            {
                "members": [
                    {
                        "id": ids.get((ENTITY, m.entity_id)),
                        "uscc": m.uscc,
                        "name": m.name,
                        "in_graph": (ENTITY, m.entity_id) in ids,
                    }
                    for m in circle.members
                ],
                "amount": circle.amount,
                "amount_label": yuan_label(circle.amount) if circle.amount is not None else "",
            }
            for circle in graph.circles
        ],
        "circles_truncated": graph.circles_truncated,
    }
