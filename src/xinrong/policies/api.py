"""Policy catalogue API (read): published documents and measures, conditions in data and words."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from xinrong.accounts import permissions
from xinrong.accounts.auth import request_user
from xinrong.policies.models import Measure, PolicyDocument
from xinrong.policies.selectors import catalogue as sel
from xinrong.reference.schema_types import error_responses

router = Router(tags=["policies"])


class PolicySearchIn(Schema):
    q: str = Field("", max_length=100, description="关键词：文件标题、文号、措施名称")
    level: str = Field("", description="层级：national/provincial/prefecture/county")
    kind: str = Field("", description="措施类型")
    department: int | None = Field(None, description="发布部门（机构编号）")
    tag: str = Field("", max_length=40, description="措施标签")
    page: int = Field(1, ge=1, le=10_000)
    page_size: int = Field(20, ge=1, le=100)


class MeasureOut(Schema):
    code: str
    title: str
    kind: str
    kind_label: str
    delivery: str
    delivery_label: str
    document_id: int
    department: str
    description: str
    amount: str | None
    ratio: str | None
    cap: str | None
    cap_per_loan: str | None
    budget: str | None
    window_start: str | None
    window_end: str | None
    materials: list[str]
    contact: str
    tags: list[str]
    conditions: list[dict[str, Any]]
    conditions_text: str
    amount_text: str
    version: int


class DocumentOut(Schema):
    id: int
    title: str
    doc_number: str
    level: str
    level_label: str
    department: str
    co_issuers: str
    region_code: str
    issued_on: str
    effective_from: str
    effective_to: str | None
    summary: str
    is_pboc: bool
    measures: list[MeasureOut] = []


class DocumentPageOut(Schema):
    count: int
    page: int
    page_size: int
    results: list[DocumentOut]


class MeasurePageOut(Schema):
    count: int
    page: int
    page_size: int
    results: list[MeasureOut]


def _s(v: Any) -> str | None:
    return None if v is None else str(v)


def measure_out(m: Measure, names: dict[str, str]) -> dict[str, Any]:
    return {
        "code": m.code,
        "title": m.title,
        "kind": m.kind,
        "kind_label": m.get_kind_display(),
        "delivery": m.delivery,
        "delivery_label": m.get_delivery_display(),
        "document_id": m.document_id,
        "department": m.document.department.name,
        "description": m.description,
        "amount": _s(m.amount),
        "ratio": _s(m.ratio),
        "cap": _s(m.cap),
        "cap_per_loan": _s(m.cap_per_loan),
        "budget": _s(m.budget),
        "window_start": _s(m.window_start),
        "window_end": _s(m.window_end),
        "materials": list(m.materials or []),
        "contact": m.contact,
        "tags": list(m.tags or []),
        "conditions": list(m.conditions or []),
        "conditions_text": sel.conditions_sentence(m.conditions, names),
        "amount_text": sel.amount_phrase(m),
        "version": m.version,
    }


def document_out(d: PolicyDocument, measures: list[Measure] | None = None) -> dict[str, Any]:
    names = sel.tag_names() if measures else {}
    return {
        "id": d.pk,
        "title": d.title,
        "doc_number": d.doc_number,
        "level": d.level,
        "level_label": d.get_level_display(),
        "department": d.department.name,
        "co_issuers": d.co_issuers,
        "region_code": d.region_code,
        "issued_on": str(d.issued_on),
        "effective_from": str(d.effective_from),
        "effective_to": _s(d.effective_to),
        "summary": d.summary,
        "is_pboc": d.is_pboc,
        "measures": [measure_out(m, names) for m in (measures or [])],
    }


def _reader(request: HttpRequest) -> None:
    permissions.require(request_user(request), "policies.catalogue_read")


@router.get(
    "/documents",
    response={200: DocumentPageOut, **error_responses(403)},
    summary="检索已发布的政策文件",
)
def document_list(request: HttpRequest, params: Query[PolicySearchIn]) -> dict[str, Any]:
    """Published documents matching the filters (unknown filter values are ignored)."""
    _reader(request)
    filters = sel.filters_parse(params.dict())
    qs = sel.public_documents(filters=filters)
    start = (params.page - 1) * params.page_size
    rows = list(qs[start : start + params.page_size])
    return {
        "count": qs.count(),
        "page": params.page,
        "page_size": params.page_size,
        "results": [document_out(d) for d in rows],
    }


@router.get(
    "/documents/{doc_id}",
    response={200: DocumentOut, **error_responses(403, 404)},
    summary="查询一份已发布的政策文件",
)
def document_get(request: HttpRequest, doc_id: int) -> dict[str, Any]:
    """One published document with its published measures."""
    _reader(request)
    doc = sel.document_public_get(pk=doc_id)
    return document_out(doc, list(doc.live))  # type: ignore[attr-defined]


@router.get(
    "/measures",
    response={200: MeasurePageOut, **error_responses(403)},
    summary="检索已发布的支持措施",
)
def measure_list(request: HttpRequest, params: Query[PolicySearchIn]) -> dict[str, Any]:
    """Published measures of published documents matching the filters."""
    _reader(request)
    f = sel.filters_parse(params.dict())
    qs = sel.published_measures()
    if f.level:
        qs = qs.filter(document__level=f.level)
    if f.kind:
        qs = qs.filter(kind=f.kind)
    if f.department:
        qs = qs.filter(document__department_id=f.department)
    if f.tag:
        qs = qs.filter(tags__icontains=f'"{f.tag}"')
    if f.q:
        qs = qs.filter(title__icontains=f.q)
    qs = qs.order_by("document_id", "id")
    start = (params.page - 1) * params.page_size
    names = sel.tag_names()
    return {
        "count": qs.count(),
        "page": params.page,
        "page_size": params.page_size,
        "results": [measure_out(m, names) for m in qs[start : start + params.page_size]],
    }


@router.get(
    "/measures/{code}",
    response={200: MeasureOut, **error_responses(403, 404)},
    summary="查询一项已发布的支持措施",
)
def measure_get(request: HttpRequest, code: str) -> dict[str, Any]:
    """One published measure with its conditions as data and in words."""
    _reader(request)
    return measure_out(sel.measure_public_get(code=code), sel.tag_names())
