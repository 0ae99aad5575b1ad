"""Reads of the data hub; facts are visible only once their batch has completed."""

from __future__ import annotations

from django.db.models import QuerySet

from xinrong.datahub.choices import BatchStatus
from xinrong.datahub.models import Fact


def fact_visible() -> QuerySet[Fact]:
    """Return facts of completed batches (who may read them is decided by credit)."""
    return Fact.objects.filter(batch__status=BatchStatus.COMPLETED)
