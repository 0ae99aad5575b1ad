"""API schemas for the enterprise registry."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Field, Schema

from xinrong.common.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from xinrong.reference.schema_types import DivisionCode, IndustryCode, Uscc


class EntitySearchIn(Schema):
    """Query parameters of the registry search."""

    q: str = Field("", max_length=100, description="名称关键字或统一社会信用代码")
    region: str = Field("", max_length=12, description="行政区划代码（含下级）")
    industry: str = Field("", max_length=5, description="行业门类或大类代码，如 C 或 C13")
    size_class: str = Field("", description="large / medium / small / micro")
    entity_type: str = Field("", description="enterprise / individual_business")
    page: int = Field(1, ge=1, le=100000)
    page_size: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)


class EntityListItemOut(Schema):
    """One row of the registry search."""

    uscc: Uscc
    name: str
    entity_type: str
    entity_type_label: str
    industry_code: IndustryCode
    industry_name: str
    division_code: DivisionCode
    region_name: str
    size_class: str
    legal_representative: str = Field(description="已脱敏")
    registration_status: str


class EntityPageOut(Schema):
    """A page of search results."""

    count: int
    page: int
    page_size: int
    results: list[EntityListItemOut]


class RelationshipOut(Schema):
    """A shareholder, officer or controller of the entity (names masked)."""

    kind: str
    kind_label: str
    party_name: str
    party_uscc: str | None
    share_ratio: Decimal | None
    title: str


class EntityDetailOut(EntityListItemOut):
    """The registry entry of one entity (public registration data; personal data masked)."""

    registered_capital: Decimal | None
    established_on: dt.date | None
    address: str
    employees: int | None
    annual_revenue: Decimal | None
    total_assets: Decimal | None
    tags: list[str]
    legal_representative_id_number: str = Field(description="已脱敏")
    relationships: list[RelationshipOut]
