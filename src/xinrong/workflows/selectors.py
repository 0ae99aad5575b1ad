"""Read approval processes for the operator's pages."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, QuerySet

from xinrong.accounts.permissions import require
from xinrong.common.errors import NotFoundError
from xinrong.workflows.models import ProcessDefinition, ProcessVersion


def process_list(*, user: Any) -> QuerySet[ProcessDefinition]:
    """Return every process with its versions (newest first) and their case counts."""
    require(user, "workflows.process_view")
    versions = (
        ProcessVersion.objects.select_related("created_by")
        .annotate(instance_count=Count("instances"))
        .order_by("-number")
    )
    return ProcessDefinition.objects.prefetch_related(Prefetch("versions", queryset=versions))


def version_get(*, user: Any, pk: int) -> ProcessVersion:
    """Return one process version (NotFoundError in Chinese)."""
    require(user, "workflows.process_view")
    try:
        return ProcessVersion.objects.select_related("definition", "created_by").get(pk=pk)
    except ProcessVersion.DoesNotExist as exc:
        raise NotFoundError("version_not_found", "流程版本不存在") from exc


def definition_get(*, user: Any, pk: int) -> ProcessDefinition:
    """Return one process definition (NotFoundError in Chinese)."""
    require(user, "workflows.process_view")
    try:
        return ProcessDefinition.objects.get(pk=pk)
    except ProcessDefinition.DoesNotExist as exc:
        raise NotFoundError("process_not_found", "审批流程不存在") from exc
