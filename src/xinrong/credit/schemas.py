"""API schemas of the credit archive."""

from __future__ import annotations

import datetime as dt

from ninja import Schema


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
