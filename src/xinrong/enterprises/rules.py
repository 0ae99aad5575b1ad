"""Who may search the registry of market entities (public registration data)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.choices import OrgGroup
from xinrong.accounts.permissions import (
    declare,
    in_group,
    is_department,
    is_institution,
    is_operator_staff,
    is_superuser,
    region_q,
)
from xinrong.common.access import register_scope
from xinrong.enterprises.models import MarketEntity

declare(
    "enterprises.registry_search",
    is_superuser | is_operator_staff | is_institution | is_department,
    label=_("检索市场主体库（公开登记信息）"),
    objects=_("金融机构、运营方：全省；子站和有辖区的部门：本区划"),
)


@register_scope(MarketEntity)
def _entity_scope(user: Any) -> Q | None:
    """Enterprises see their own entity; regional users their region; the rest everything."""
    if user.is_superuser:
        return Q()
    if user.organisation_id is None:
        return None
    if in_group(OrgGroup.ENTERPRISE)(user):
        return Q(organisation_id=user.organisation_id)
    return region_q(user, "division_code")
