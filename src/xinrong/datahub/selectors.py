"""Reads of the data hub; facts are visible only once their batch has completed."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from xinrong.accounts.choices import OrgGroup, Role
from xinrong.accounts.models import User
from xinrong.common.errors import NotFoundError, PermissionDeniedError
from xinrong.datahub.choices import BatchStatus, ResolutionStatus
from xinrong.datahub.models import Fact, IngestBatch, Source, UnresolvedRow


def fact_visible() -> QuerySet[Fact]:
    """Return facts of completed batches (who may read them is decided by credit)."""
    return Fact.objects.filter(batch__status=BatchStatus.COMPLETED)


def is_hub_operator(user: User) -> bool:
    return user.is_superuser or (
        user.group == OrgGroup.OPERATOR and user.has_role(Role.OPERATOR_ADMIN, Role.AUDITOR)
    )


def source_list(*, user: User) -> QuerySet[Source]:
    """Return the sources a user may deliver to or oversee.

    A department's data provider sees its own organisation's sources; operators see all.
    """
    qs = Source.objects.select_related("organisation")
    if is_hub_operator(user):
        return qs
    if user.has_role(Role.DATA_PROVIDER) and user.organisation_id is not None:
        return qs.filter(organisation_id=user.organisation_id)
    raise PermissionDeniedError("forbidden", _("只有数据报送员和平台运营方可以使用信息归集"))


def batch_list(*, user: User) -> QuerySet[IngestBatch]:
    """Return the batches of the sources the user may see, newest first."""
    return IngestBatch.objects.filter(source__in=source_list(user=user)).select_related(
        "source", "created_by"
    )


def batch_get(*, user: User, pk: int) -> IngestBatch:
    """Return one visible batch or raise NotFoundError."""
    batch = batch_list(user=user).filter(pk=pk).first()
    if batch is None:
        raise NotFoundError("batch_not_found", _("归集批次不存在"), {"field": "batch"})
    return batch


def unresolved_open(*, user: User) -> QuerySet[UnresolvedRow]:
    """Return rows waiting for association, for platform operators."""
    if not is_hub_operator(user):
        raise PermissionDeniedError("forbidden", _("只有平台运营方可以处理待关联记录"))
    return UnresolvedRow.objects.filter(status=ResolutionStatus.OPEN).select_related(
        "batch__source"
    )
