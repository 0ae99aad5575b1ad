"""Permissions of the statistics pages (统计分析) for government, regulators and the operator."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from xinrong.accounts.permissions import (
    declare,
    is_department,
    is_operator_staff,
    is_substation_staff,
)
from xinrong.policies.rules.pboc import is_pboc_branch

declare(
    "insight.statistics_view",
    is_operator_staff | is_substation_staff | is_department,
    label=_("查看统计分析"),
    objects=_("全省各项融资统计；分站和有辖区的政府部门只看本辖区"),
)
declare(
    "insight.statistics_institution_view",
    is_operator_staff | is_substation_staff | is_pboc_branch,
    label=_("查看分机构监管统计"),
    objects=_("每家金融机构的申请、放款、利率、逾期和不良（人民银行分行和运营方）；分站只看本辖区"),
)
