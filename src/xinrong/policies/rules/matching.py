"""Policy permissions: matching (declared with xinrong.accounts.permissions.declare).

The policy calculator's questions are open to everyone, logged in or not (the page needs no
permission); these permissions cover what reads or changes an enterprise's own data.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from xinrong.accounts.permissions import declare, is_enterprise_user
from xinrong.marketplace.rules import has_market_entity, own_entity

enterprise_with_entity = is_enterprise_user & has_market_entity

declare(
    "policies.my_policies_view",
    enterprise_with_entity & own_entity,
    label=_("查看本企业符合的政策"),
    objects=_("企业主、企业经办人：本企业符合和接近符合的政策措施"),
)
declare(
    "policies.push_settings_change",
    enterprise_with_entity & own_entity,
    label=_("设置政策推送"),
    objects=_("企业主、企业经办人：本企业接收哪些类型的政策推送"),
)
declare(
    "policies.calculator_own",
    enterprise_with_entity & own_entity,
    label=_("按本企业数据计算可享政策"),
    objects=_("企业主、企业经办人：用本企业在平台的数据计算"),
)
