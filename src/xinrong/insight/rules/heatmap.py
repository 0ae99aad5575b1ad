"""Permissions of the heat maps and the 信用创评 records.

- ``insight.heatmap_view``: the operator's staff (a sub-station: its region only) and government
  departments (a department with a region: that region only) see the map and the ranked tables.
- ``insight.campaign_import``: an operator administrator or a government department imports
  信用创评 records of divisions inside its region.

``CampaignRecord.objects.restrict(user)``: the records inside the user's region, for those who may
see the map; nobody else sees any.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.permissions import (
    declare,
    is_department,
    is_operator_admin,
    is_operator_staff,
    region_q,
)
from xinrong.common.access import register_scope
from xinrong.insight.models import CampaignRecord

may_view_heatmap = is_operator_staff | is_department
may_import_campaigns = is_operator_admin | is_department

declare(
    "insight.heatmap_view",
    may_view_heatmap,
    label=_("查看信用热力地图"),
    objects=_("本单位管辖地区（分站、有地区的部门：仅本地区）"),
)
declare(
    "insight.campaign_import",
    may_import_campaigns,
    label=_("导入信用创评记录"),
    objects=_("本单位管辖地区内的区划"),
)


@register_scope(CampaignRecord)
def _campaign_scope(user: Any) -> Q | None:
    if not may_view_heatmap(user):
        return None
    return region_q(user, "division_code")
