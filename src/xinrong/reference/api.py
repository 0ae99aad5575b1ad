"""Public reference-data API: divisions, industries and USCC parsing (mounted at /reference)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router

from xinrong.reference import divisions, industries, uscc
from xinrong.reference.errors import ReferenceNotFoundError as NotFoundError
from xinrong.reference.schema_types import error_responses
from xinrong.reference.schemas import DivisionDetailOut, DivisionOut, IndustryOut, UsccOut

router = Router(tags=["reference"])


def _division_out(division: divisions.Division) -> dict[str, Any]:
    return {
        "code": division.code,
        "name": division.name,
        "level": division.level,
        "level_name": division.level_name,
        "has_children": divisions.has_children(division.code),
    }


def _industry_out(industry: industries.Industry) -> dict[str, Any]:
    return {
        "code": industry.code,
        "name": industry.display_name,
        "name_en": industry.name_en,
        "section": industry.section,
        "is_section": industry.is_section,
    }


@router.get("/divisions", response={200: list[DivisionOut], **error_responses(404)}, auth=None)
def division_list(request: HttpRequest, parent: str | None = None) -> list[dict[str, Any]]:
    """List the children of a division, or the provinces when no parent is given."""
    if parent is not None and divisions.get(parent) is None:
        raise NotFoundError(
            "division_not_found",
            _("行政区划代码 %(code)s 不存在") % {"code": parent},
            {"field": "parent"},
        )
    return [_division_out(d) for d in divisions.children(parent)]


@router.get(
    "/divisions/{code}", response={200: DivisionDetailOut, **error_responses(404)}, auth=None
)
def division_detail(request: HttpRequest, code: str) -> dict[str, Any]:
    """Return one division with its full name and ancestors."""
    division = divisions.get(code)
    if division is None:
        raise NotFoundError(
            "division_not_found",
            _("行政区划代码 %(code)s 不存在") % {"code": code},
            {"field": "code"},
        )
    return {
        **_division_out(division),
        "parent_code": division.parent_code,
        "full_name": divisions.full_name(division.code),
        "ancestors": [_division_out(d) for d in divisions.ancestors(division.code)],
    }


@router.get("/industries", response={200: list[IndustryOut], **error_responses(404)}, auth=None)
def industry_list(request: HttpRequest, section: str | None = None) -> list[dict[str, Any]]:
    """List the GB/T 4754-2017 sections, or the divisions of one section."""
    if section is None:
        return [_industry_out(s) for s in industries.sections()]
    found = industries.divisions(section)
    if not found:
        raise NotFoundError(
            "industry_section_not_found",
            _("行业门类 %(code)s 不存在：应为 A–T") % {"code": section},
            {"field": "section"},
        )
    return [_industry_out(d) for d in found]


@router.get("/uscc/{code}", response=UsccOut, auth=None)
def uscc_parse(request: HttpRequest, code: str) -> dict[str, Any]:
    """Parse a unified social credit code; a malformed code is a 422 naming the fault."""
    return uscc.parse(code).as_dict()
