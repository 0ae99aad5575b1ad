"""Output schemas of the reference API."""

from __future__ import annotations

from ninja import Schema

from xinrong.reference.schema_types import DivisionCode


class DivisionOut(Schema):
    """A division in a list: code, name, level and whether it has children."""

    code: str
    name: str
    level: int
    level_name: str
    has_children: bool


class DivisionDetailOut(DivisionOut):
    """One division with its parent, full name and ancestors (province first)."""

    parent_code: str | None
    full_name: str
    ancestors: list[DivisionOut]


class IndustryOut(Schema):
    """A GB/T 4754-2017 section or division."""

    code: str
    name: str
    name_en: str
    section: str
    is_section: bool


class UsccOut(Schema):
    """A parsed unified social credit code with its data-quality warnings."""

    code: str
    authority_code: str
    authority_name: str
    entity_type_code: str
    entity_type_name: str
    division_code: DivisionCode
    division_name: str
    organisation_code: str
    check_char: str
    warnings: list[str]
