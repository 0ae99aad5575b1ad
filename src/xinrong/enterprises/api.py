"""Registry API: search and lookup by USCC."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from xinrong.enterprises import presenters, selectors
from xinrong.enterprises.schemas import EntityDetailOut, EntityPageOut, EntitySearchIn
from xinrong.reference.schema_types import error_responses

router = Router(tags=["enterprises"])


@router.get("", response=EntityPageOut, summary="检索市场主体")
def entity_search(request: HttpRequest, params: Query[EntitySearchIn]) -> dict[str, Any]:
    """Search the registry visible to the caller, newest first."""
    qs = selectors.market_entity_search(
        user=request.user,  # type: ignore[arg-type]
        filters=selectors.EntityFilters(
            q=params.q,
            region=params.region,
            industry=params.industry,
            size_class=params.size_class,
            entity_type=params.entity_type,
        ),
    )
    start = (params.page - 1) * params.page_size
    rows = list(qs[start : start + params.page_size])
    return {
        "count": qs.count(),
        "page": params.page,
        "page_size": params.page_size,
        "results": [presenters.entity_row(e) for e in rows],
    }


@router.get(
    "/{uscc}",
    response={200: EntityDetailOut, **error_responses(404)},
    summary="按统一社会信用代码查询",
)
def entity_detail(request: HttpRequest, uscc: str) -> dict[str, Any]:
    """Return one entity's registry entry."""
    user = request.user
    entity = selectors.market_entity_get(user=user, uscc=uscc)  # type: ignore[arg-type]
    relationships = list(selectors.relationship_list(entity=entity))
    linkable = selectors.market_entity_visible_ids(
        user=user,  # type: ignore[arg-type]
        ids=[r.holder_entity_id for r in relationships if r.holder_entity_id],
    )
    return presenters.entity_detail(entity, relationships, linkable)
