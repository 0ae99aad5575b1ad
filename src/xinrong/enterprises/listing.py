"""The region filter of lists: a division by name, matching every division under it.

It lives here, above ``common.listing`` and ``reference`` (which may not import each other), and
is used by any list of rows that carry a division code (applications, demands, disputes…).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet

from xinrong.common.listing import ChoiceFilter, Label
from xinrong.reference import divisions


class RegionFilter(ChoiceFilter):
    """A division (by name) whose code prefixes the row's ``field`` (all its descendants)."""

    def __init__(self, name: str, label: Label, field_path: str) -> None:
        super().__init__(name, label, divisions.region_choices, f"{field_path}__startswith")

    def apply(self, qs: QuerySet[Any], data: Mapping[str, Any]) -> QuerySet[Any]:
        value = data.get(self.name)
        if not value:
            return qs
        return qs.filter(**{self.lookup: divisions.descendants_prefix(value)})
