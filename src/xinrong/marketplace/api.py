"""Product supermarket API: published products with filters (read-only)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from xinrong.marketplace import presenters, selectors
from xinrong.marketplace.schemas import ProductDetailOut, ProductPageOut, ProductSearchIn

router = Router(tags=["marketplace"])


@router.get("/products", response=ProductPageOut, summary="检索已上架的金融产品")
def product_list(request: HttpRequest, params: Query[ProductSearchIn]) -> dict[str, Any]:
    """List published products matching the filters; bad filters are 422 naming the field."""
    filters = selectors.product_filter_parse(params.dict(exclude={"page", "page_size"}))
    qs = selectors.product_search(filters=filters)
    start = (params.page - 1) * params.page_size
    rows = list(qs[start : start + params.page_size])
    return {
        "count": qs.count(),
        "page": params.page,
        "page_size": params.page_size,
        "results": [presenters.product_row(p) for p in rows],
    }


@router.get("/products/{code}", response=ProductDetailOut, summary="查询一个已上架产品")
def product_detail(request: HttpRequest, code: str) -> dict[str, Any]:
    """Return one published product's live terms."""
    return presenters.product_detail(selectors.product_published_get(code=code[:32].upper()))
