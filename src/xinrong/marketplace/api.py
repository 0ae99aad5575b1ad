"""Product supermarket API: published products, financing demands and their matches."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router
from ninja.responses import Status

from xinrong.accounts.auth import request_user
from xinrong.common.errors import PermissionDeniedError
from xinrong.marketplace import presenters
from xinrong.marketplace.matching import WEIGHTS
from xinrong.marketplace.schemas import (
    DemandCreateIn,
    DemandHoldOut,
    DemandMatchesOut,
    DemandOut,
    DemandReleaseIn,
    ProductDetailOut,
    ProductPageOut,
    ProductSearchIn,
)
from xinrong.marketplace.selectors import common as common_selectors
from xinrong.marketplace.selectors import demands as demand_selectors
from xinrong.marketplace.selectors import products as product_selectors
from xinrong.marketplace.services import demands as demand_services
from xinrong.reference.schema_types import error_responses

router = Router(tags=["marketplace"])


@router.get("/products", response=ProductPageOut, summary="检索已上架的金融产品")
def product_list(request: HttpRequest, params: Query[ProductSearchIn]) -> dict[str, Any]:
    """List published products matching the filters; bad filters are 422 naming the field."""
    filters = product_selectors.product_filter_parse(params.dict(exclude={"page", "page_size"}))
    qs = product_selectors.product_search(filters=filters)
    start = (params.page - 1) * params.page_size
    rows = list(qs[start : start + params.page_size])
    return {
        "count": qs.count(),
        "page": params.page,
        "page_size": params.page_size,
        "results": [presenters.product_row(p) for p in rows],
    }


@router.get(
    "/products/{code}",
    response={200: ProductDetailOut, **error_responses(404)},
    summary="查询一个已上架产品",
)
def product_detail(request: HttpRequest, code: str) -> dict[str, Any]:
    """Return one published product's live terms."""
    return presenters.product_detail(
        product_selectors.product_published_get(code=code[:32].upper())
    )


@router.post(
    "/demands", response={201: DemandOut, **error_responses(403)}, summary="发布融资需求（企业）"
)
def demand_create(request: HttpRequest, payload: DemandCreateIn) -> Status[dict[str, Any]]:
    """Publish a demand for the caller's own entity; bad values are 422 naming the field."""
    user = request_user(request)
    entity = common_selectors.user_entity(user=user)
    if entity is None:
        raise PermissionDeniedError("forbidden", _("仅企业用户可发布融资需求"))
    demand = demand_services.demand_publish(actor=user, entity=entity, data=payload.demand_in())
    return Status(201, presenters.demand_out(demand))


@router.get(
    "/demands/{demand_id}/matches",
    response={200: DemandMatchesOut, **error_responses(403, 404)},
    summary="查询融资需求的匹配产品",
)
def demand_matches(request: HttpRequest, demand_id: int) -> dict[str, Any]:
    """Return the top 20 products for one's own demand, with scores and reasons."""
    user = request_user(request)
    demand = demand_selectors.demand_visible_get(user=user, pk=demand_id)
    if not demand_selectors.demand_matches_visible(user=user, demand=demand):
        raise PermissionDeniedError(
            "forbidden", _("匹配结果涉及企业的信用与纳税等级，仅该企业的用户可以查看")
        )
    result = demand_selectors.demand_matches(demand=demand)
    products = product_selectors.products_by_id(ids=[m.product_id for m in result.matches])
    rows: list[dict[str, Any]] = []
    for m in result.matches:
        p = products.get(m.product_id)
        if p is None:
            continue
        rows.append(
            {
                "rank": len(rows) + 1,
                "code": p.code,
                "name": p.name,
                "institution": p.institution.name,
                "score": m.score,
                "components": m.components,
                "explanations": m.explanations,
            }
        )
    return {
        "demand_id": demand.pk,
        "considered": result.considered,
        "eligible_count": result.eligible_count,
        "weights": WEIGHTS,
        "results": rows,
    }


@router.post(
    "/demands/{demand_id}/take",
    response={200: DemandHoldOut, **error_responses(403, 404, 409)},
    summary="抢单：承接融资需求（机构）",
)
def demand_take(request: HttpRequest, demand_id: int) -> dict[str, Any]:
    """Take an open demand for the caller's lending institution for the hold period.

    403: not a lending institution's admin or loan officer, or outside its service regions;
    409: another institution holds it (``extra.held_by``, ``extra.held_until``) or it is not
    open. Taking one's own held demand again returns it unchanged.
    """
    user = request_user(request)
    refusal = demand_selectors.grab_refusal(user=user)  # say why before the demand is looked up
    if refusal is not None:
        raise refusal
    demand = demand_selectors.demand_visible_get(user=user, pk=demand_id)
    return presenters.demand_hold_out(demand_services.demand_take(demand=demand, actor=user))


@router.post(
    "/demands/{demand_id}/release",
    response={200: DemandHoldOut, **error_responses(403, 404, 409)},
    summary="放弃承接融资需求（机构）",
)
def demand_release(
    request: HttpRequest, demand_id: int, payload: DemandReleaseIn | None = None
) -> dict[str, Any]:
    """Give a demand one's institution holds back to the pool; 409 if it does not hold it."""
    user = request_user(request)
    demand = demand_selectors.demand_visible_get(user=user, pk=demand_id)
    note = payload.note if payload else ""
    return presenters.demand_hold_out(
        demand_services.demand_release(demand=demand, actor=user, note=note)
    )
