"""Credit API: an institution reads an enterprise's archive and graph within its authorisation."""

from __future__ import annotations

from typing import Any, cast

from django.http import HttpRequest
from ninja import Query, Router

from xinrong.accounts.models import User
from xinrong.credit import presenters, selectors
from xinrong.credit.choices import Channel, Scope
from xinrong.credit.schemas import ArchiveOut, GraphIn, GraphOut, ReportVerifyOut
from xinrong.enterprises import selectors as entity_selectors

router = Router(tags=["credit"])


@router.get("/archive/{uscc}", response=ArchiveOut, summary="查询信用档案（按授权，记入查询记录）")
def archive(request: HttpRequest, uscc: str) -> dict[str, Any]:
    """Return the readable archive; non-public reads are written to the query log."""
    user = cast(User, request.user)
    entity = entity_selectors.market_entity_get(user=user, uscc=uscc)
    data = selectors.archive_read(user=user, entity=entity, channel=Channel.API)
    auth = data.authorisation
    return {
        "uscc": entity.uscc,
        "name": entity.name,
        "authorised": auth is not None,
        "scope": auth.scope if auth else Scope.PUBLIC,
        "categories": data.categories,
        "hidden_categories": data.hidden,
        "facts": [
            {
                "category": f.category,
                "source": f.source.name,
                "period": f.period,
                "occurred_on": f.occurred_on,
                "negative": f.negative,
                "data": f.values(),
            }
            for facts in data.facts.values()
            for f in facts
        ],
    }


@router.get(
    "/graph/{uscc}", response=GraphOut, summary="查询关系图谱与担保圈（按授权，记入查询记录）"
)
def graph(request: HttpRequest, uscc: str, params: Query[GraphIn]) -> dict[str, Any]:
    """Return the entity's relationship graph within ``hops`` ties, as the caller may see it.

    Published ties are public; guarantees, circles and shared phones need a full-scope
    authorisation; risk flags follow the authorised categories. Non-public reads are logged.
    """
    user = cast(User, request.user)
    entity = entity_selectors.market_entity_get(user=user, uscc=uscc)
    data = selectors.relationship_graph(
        user=user, entity=entity, hops=params.hops, channel=Channel.API
    )
    return presenters.graph_out(data)


@router.get(
    "/reports/{number}/verify",
    response=ReportVerifyOut,
    auth=None,
    summary="核验信用报告（公开接口，无需认证）",
)
def report_verify(
    request: HttpRequest, number: str, digest: str = Query("", max_length=200)
) -> selectors.ReportVerification:
    """Return the platform's record of a report; with ``digest`` (SM3, hex), whether it matches.

    An unknown or malformed number is a 404 with a Chinese message; a malformed digest a 422.
    """
    return selectors.report_verify(number=number, digest=digest or None)
