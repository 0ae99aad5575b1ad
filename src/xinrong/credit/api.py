"""Credit API: an institution reads an enterprise's archive and graph within its authorisation."""

from __future__ import annotations

from typing import Any, cast

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router
from ninja.responses import Status

from xinrong.accounts.models import User
from xinrong.credit import presenters
from xinrong.credit.choices import Channel
from xinrong.credit.models import Dispute
from xinrong.credit.schemas import (
    ArchiveOut,
    DisputeCreateIn,
    DisputeDetailOut,
    DisputeListIn,
    DisputeOut,
    DisputePageOut,
    GraphIn,
    GraphOut,
    ReportVerifyOut,
)
from xinrong.credit.selectors import archive as archive_selectors
from xinrong.credit.selectors import disputes as disputes_selectors
from xinrong.credit.selectors import reports as reports_selectors
from xinrong.credit.services import disputes as disputes_services
from xinrong.datahub.categories import CATEGORIES
from xinrong.enterprises import selectors as entity_selectors
from xinrong.reference.schema_types import error_responses

router = Router(tags=["credit"])


@router.get(
    "/archive/{uscc}",
    response={200: ArchiveOut, **error_responses(403, 404)},
    summary="查询信用档案（按授权，记入查询记录）",
)
def archive(request: HttpRequest, uscc: str) -> dict[str, Any]:
    """Return the readable archive; non-public reads are written to the query log."""
    user = cast(User, request.user)
    entity = entity_selectors.market_entity_get(user=user, uscc=uscc)
    return presenters.archive_out(
        archive_selectors.archive_read(user=user, entity=entity, channel=Channel.API)
    )


@router.get(
    "/graph/{uscc}",
    response={200: GraphOut, **error_responses(403, 404)},
    summary="查询关系图谱与担保圈（按授权，记入查询记录）",
)
def graph(request: HttpRequest, uscc: str, params: Query[GraphIn]) -> dict[str, Any]:
    """Return the entity's relationship graph within ``hops`` ties, as the caller may see it.

    Published ties are public; guarantees, circles and shared phones need a full-scope
    authorisation; risk flags follow the authorised categories. Non-public reads are logged.
    """
    user = cast(User, request.user)
    entity = entity_selectors.market_entity_get(user=user, uscc=uscc)
    data = archive_selectors.relationship_graph(
        user=user, entity=entity, hops=params.hops, channel=Channel.API
    )
    return presenters.graph_out(data)


@router.get(
    "/reports/{number}/verify",
    response={200: ReportVerifyOut, **error_responses(404)},
    auth=None,
    summary="核验信用报告（公开接口，无需认证）",
)
def report_verify(
    request: HttpRequest,
    number: str,
    digest: str = Query("", max_length=200),  # type: ignore[type-arg]
) -> reports_selectors.ReportVerification:
    """Return the platform's record of a report; with ``digest`` (SM3, hex), whether it matches.

    An unknown or malformed number is a 404 with a Chinese message; a malformed digest a 422.
    """
    return reports_selectors.report_verify(number=number, digest=digest or None)


def _dispute_out(d: Dispute) -> dict[str, Any]:
    spec = CATEGORIES.get(d.category)
    return {
        "id": d.pk,
        "uscc": d.entity.uscc,
        "entity_name": d.entity.name,
        "fact_id": d.fact_id,
        "category": d.category,
        "category_label": str(_(spec.name)) if spec else d.category,
        "source": d.source.name,
        "kind": d.kind,
        "kind_label": str(d.get_kind_display()),
        "status": d.status,
        "status_label": str(d.get_status_display()),
        "claim": d.claim,
        "proposed_values": d.proposed_values,
        "original_values": d.original_values,
        "submitted_at": d.submitted_at,
        "due_on": d.due_on,
        "overdue": d.is_overdue(timezone.localdate()),
        "escalated": d.is_escalated,
        "resolution": d.resolution,
        "resolved_at": d.resolved_at,
    }


@router.post(
    "/disputes",
    response={201: DisputeOut, **error_responses(403, 404, 409)},
    summary="企业对本企业信用信息提出异议/更正/补充",
)
def dispute_create(request: HttpRequest, payload: DisputeCreateIn) -> Status[dict[str, Any]]:
    """File a dispute about a fact of the caller's own archive; the answer is due in 20 days.

    Evidence files are uploaded on the dispute's web page.
    """
    dispute = disputes_services.dispute_file(
        actor=cast(User, request.user),
        fact=payload.fact_id,
        kind=payload.kind,
        claim=payload.claim,
        proposed_values=dict(payload.proposed_values),
    )
    dispute = disputes_selectors.dispute_get(user=cast(User, request.user), pk=dispute.pk)
    return Status(201, _dispute_out(dispute))


@router.get(
    "/disputes",
    response={200: DisputePageOut, **error_responses(403)},
    summary="查询异议（企业：本企业；部门：本部门数据）",
)
def dispute_list(request: HttpRequest, params: Query[DisputeListIn]) -> dict[str, Any]:
    """List the disputes the caller may see, open ones first by deadline."""
    qs = disputes_selectors.dispute_list(
        user=cast(User, request.user), status=params.status, overdue=params.overdue
    )
    start = (params.page - 1) * params.page_size
    rows = list(qs[start : start + params.page_size])
    return {
        "count": qs.count(),
        "page": params.page,
        "page_size": params.page_size,
        "results": [_dispute_out(d) for d in rows],
    }


@router.get(
    "/disputes/{dispute_id}",
    response={200: DisputeDetailOut, **error_responses(403, 404)},
    summary="异议详情与处理记录",
)
def dispute_detail(request: HttpRequest, dispute_id: int) -> dict[str, Any]:
    """Return one visible dispute with its timeline."""
    user = cast(User, request.user)
    d = disputes_selectors.dispute_get(user=user, pk=dispute_id)
    out = _dispute_out(d)
    out["events"] = [
        {
            "kind": e.kind,
            "kind_label": str(e.get_kind_display()),
            "actor": str(e.actor) if e.actor else str(_("系统")),
            "from_status": e.from_status,
            "to_status": e.to_status,
            "note": e.note,
            "data": e.data,
            "at": e.created_at,
        }
        for e in disputes_selectors.dispute_events(dispute=d)
    ]
    out["evidence"] = [f.original_name for f in disputes_selectors.dispute_evidence(dispute=d)]
    return out
