"""Who may deliver data, follow batches, associate rows, correct facts and handle conflicts.

The data hub's part of the permission layer (xinrong.accounts.permissions). A conflict names its
sources by code (``Conflict.sources``, e.g. ``["registry", "tax"]``); ``registry`` is the
market-entity registry, not a ``Source``. A sub-station's batches, sources and quality figures are
those of the departments in its region.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.permissions import (
    declare,
    in_region,
    is_data_provider,
    is_operator_admin,
    is_operator_staff,
    object_rule,
    predicate,
    region_q,
)
from xinrong.common.access import register_scope
from xinrong.common.errors import ApplicationError
from xinrong.datahub.models import Conflict, IngestBatch, Source, UnresolvedRow

REGISTRY = "registry"


def _source_of(obj: Any) -> Source:
    if isinstance(obj, Source):
        return obj
    if isinstance(obj, IngestBatch):
        return obj.source
    if isinstance(obj, UnresolvedRow):
        return obj.batch.source
    raise TypeError(f"no source for {type(obj).__name__}")


@object_rule
def own_source(user: Any, obj: Any) -> bool:
    """The source (of the batch or row) belongs to the user's department."""
    return user.organisation_id is not None and _source_of(obj).organisation_id == (
        user.organisation_id
    )


@object_rule
def source_in_region(user: Any, obj: Any) -> bool:
    """The department delivering the source lies in the user's region."""
    return in_region(user, _source_of(obj).organisation.region_code)


@object_rule
def conflict_in_region(user: Any, conflict: Any) -> bool:
    """The entity the conflict is about lies in the user's region."""
    return in_region(user, conflict.entity.division_code)


def provider_source_codes(user: Any) -> set[str]:
    """Return the codes of the sources the user's department delivers (empty for others)."""
    if not is_data_provider(user) or not user.organisation_id:
        return set()
    return set(
        Source.objects.filter(organisation_id=user.organisation_id).values_list("code", flat=True)
    )


@object_rule
def conflict_party(user: Any, conflict: Any) -> bool:
    """The user's department delivers one of the sources the conflict involves."""
    return bool(provider_source_codes(user) & set(conflict.sources))


declare(
    "datahub.hub_use",
    is_data_provider | is_operator_staff,
    label=_("使用信息归集"),
    objects=_("数据报送员：本部门的来源；运营方：本区划部门的来源"),
)
declare(
    "datahub.batch_deliver",
    is_data_provider & own_source,
    label=_("报送数据（上传文件或接口报送）"),
    objects=_("数据报送员：本部门登记的来源"),
)
declare(
    "datahub.batch_view",
    (is_data_provider & own_source) | (is_operator_staff & source_in_region),
    label=_("查看归集批次和被拒绝的行"),
    objects=_("数据报送员：本部门的批次；运营方：本区划部门的批次"),
)
declare(
    "datahub.quality_view",
    is_data_provider | is_operator_staff,
    label=_("查看数据质量"),
    objects=_("数据报送员：本部门的来源；运营方：本区划部门的来源和本区划的主体"),
)
# Who may move a conflict or an unresolved row: the workflows (datahub/workflows.py) take these as
# their actions' ``allowed``, so the kernel, the buttons and the security page ask the same rule.
may_handle_unresolved = is_operator_admin & source_in_region
may_handle_conflict = (is_data_provider & conflict_party) | (is_operator_admin & conflict_in_region)
may_reopen_conflict = is_operator_admin & conflict_in_region
nobody = predicate(lambda user, obj=None: False, name="nobody")  # system actions only

declare(
    "datahub.unresolved_resolve",
    may_handle_unresolved,
    label=_("关联或舍弃待关联记录"),
    objects=_("运营管理员：本区划部门报送的记录（审计员只读）"),
)
declare(
    "datahub.unresolved_view",
    is_operator_staff & source_in_region,
    label=_("查看待关联记录"),
    objects=_("运营方：本区划部门报送的记录"),
)
declare(
    "datahub.source_manage",
    (is_data_provider & own_source) | (is_operator_admin & source_in_region),
    label=_("登记和修改数据来源（报送的数据类别）"),
    objects=_("数据报送员：本部门的来源；运营管理员：本区划政府部门的来源"),
)
declare(
    "datahub.fact_correct",
    (is_data_provider & own_source) | is_operator_admin,
    label=_("更正已归集的信息"),
    objects=_("数据报送员：本部门来源的信息；运营管理员"),
)
declare(
    "datahub.conflict_view",
    (is_data_provider & conflict_party) | (is_operator_staff & conflict_in_region),
    label=_("查看数据冲突"),
    objects=_("涉及冲突的报送部门；运营方：本区划主体的冲突"),
)


@register_scope(Source)
def _source_scope(user: Any) -> Q | None:
    if is_operator_staff(user):
        return region_q(user, "organisation__region_code")
    if is_data_provider(user) and user.organisation_id:
        return Q(organisation_id=user.organisation_id)
    return None


@register_scope(Source, "deliver")
def _source_deliver_scope(user: Any) -> Q | None:
    if is_data_provider(user) and user.organisation_id:
        return Q(organisation_id=user.organisation_id)
    return None


@register_scope(IngestBatch)
def _batch_scope(user: Any) -> Q | None:
    if is_operator_staff(user):
        return region_q(user, "source__organisation__region_code")
    if is_data_provider(user) and user.organisation_id:
        return Q(source__organisation_id=user.organisation_id)
    return None


@register_scope(UnresolvedRow)
def _unresolved_scope(user: Any) -> Q | None:
    if is_operator_staff(user):
        return region_q(user, "batch__source__organisation__region_code")
    return None


def sources_text(codes: list[str]) -> str:
    """Return sources as a reader names them: "国家税务总局青海省税务局（tax）、…"."""
    names = dict(Source.objects.filter(code__in=codes).values_list("code", "name"))
    return "、".join(f"{names[c]}（{c}）" if c in names else c for c in codes)


def blame_not_involved(conflict: Conflict, code: str) -> ApplicationError:
    """Return the error for naming, as the wrong source, one the conflict does not involve."""
    return ApplicationError(
        "blame_not_involved",
        _t("来源“%(b)s”不涉及该冲突；可选：%(all)s")
        % {"b": code, "all": sources_text(conflict.sources)},
        {"field": "blamed_source"},
        status=422,
    )
