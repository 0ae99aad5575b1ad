"""API schemas of the credit archive."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Schema


class FactOut(Schema):
    """One piece of credit information with its source and date."""

    category: str
    source: str
    period: str
    occurred_on: dt.date | None
    negative: bool
    data: dict[str, str]


class ArchiveOut(Schema):
    """The part of an enterprise's archive the caller may read."""

    uscc: str
    name: str
    authorised: bool
    scope: str
    categories: list[str]
    hidden_categories: list[str]
    facts: list[FactOut]


class ReportVerifyOut(Schema):
    """What the platform's record says about a credit report, and whether a digest matches."""

    number: str
    entity_name: str
    uscc: str
    generated_at: dt.datetime
    audience: str
    audience_label: str
    model_version: int | None
    score: int | None
    grade: str
    pages: int
    size: int
    sm3: str
    checked: str = Field(description='"digest" when a digest was compared, else ""')
    matches: bool | None = Field(description="whether the digest matches; null when none given")
